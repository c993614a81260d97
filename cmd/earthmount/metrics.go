package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cache"
)

// metrics is what --metrics-addr serves: store operations by remote, op
// and result, their latency, bytes read, logins, and the chunk cache's
// counters. It lives in its own registry (no global state).
type metrics struct {
	reg     *prometheus.Registry
	ops     *prometheus.CounterVec
	seconds *prometheus.HistogramVec
	bytes   *prometheus.CounterVec
	http    httpMetrics // metrics_http.go
}

// statser is the chunk cache as the metrics see it.
type statser interface{ Stats() cache.Stats }

func newMetrics(c statser) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "earthmount_store_operations_total",
			Help: "Store operations (list, stat, read) by remote, type, operation and result (ok or the error kind), after the store's own retries.",
		}, []string{"remote", "type", "op", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "earthmount_store_operation_seconds",
			Help:    "Latency of store operations, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"remote", "type", "op"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "earthmount_store_read_bytes_total",
			Help: "Bytes read from stores.",
		}, []string{"remote", "type"}),
		http: newHTTPMetrics(),
	}
	m.reg.MustRegister(m.http.collectors()...)
	m.reg.MustRegister(m.ops, m.seconds, m.bytes, cacheCollector{c},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// addLogins exports a login counter of one remote.
func (m *metrics) addLogins(remote string, logins func() int) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "earthmount_auth_logins_total",
		Help:        "Logins and token renewals run (successful or not).",
		ConstLabels: prometheus.Labels{"remote": remote},
	}, func() float64 { return float64(logins()) }))
}

// serve listens on addr now (so that a bad address fails the mount) and
// serves /metrics until ctx ends.
func (m *metrics) serve(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics server stopped", "addr", addr, "err", err)
		}
	}()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// wrap counts the operations of st.
func (m *metrics) wrap(remote, typ string, st backends.Store) backends.Store {
	return &meteredStore{Store: st, m: m, remote: remote, typ: typ}
}

type meteredStore struct {
	backends.Store
	m           *metrics
	remote, typ string
}

func (s *meteredStore) observe(op string, start time.Time, err error) {
	s.m.ops.WithLabelValues(s.remote, s.typ, op, resultOf(err)).Inc()
	s.m.seconds.WithLabelValues(s.remote, s.typ, op).Observe(time.Since(start).Seconds())
}

func (s *meteredStore) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	start := time.Now()
	p, err := s.Store.List(ctx, req)
	s.observe("list", start, err)
	return p, err
}

func (s *meteredStore) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	start := time.Now()
	info, err := s.Store.Stat(ctx, key)
	s.observe("stat", start, err)
	return info, err
}

func (s *meteredStore) ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error) {
	start := time.Now()
	n, err := s.Store.ReadAt(ctx, obj, p, off)
	s.observe("read", start, err)
	s.m.bytes.WithLabelValues(s.remote, s.typ).Add(float64(n))
	return n, err
}

// LookupOnly passes the optional interface of the ICOS store on.
func (s *meteredStore) LookupOnly(prefix string) bool {
	lo, ok := s.Store.(interface{ LookupOnly(string) bool })
	return ok && lo.LookupOnly(prefix)
}

// resultOf names an operation's outcome: "ok" or the error's kind.
func resultOf(err error) string {
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return "ok"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	for _, k := range []struct {
		kind error
		name string
	}{
		{backends.ErrNotExist, "not_exist"}, {backends.ErrPermission, "permission"},
		{backends.ErrUnauthenticated, "unauthenticated"}, {backends.ErrStale, "stale"},
		{backends.ErrThrottled, "throttled"}, {backends.ErrUnavailable, "unavailable"},
		{backends.ErrNotSupported, "not_supported"}, {backends.ErrReadOnly, "read_only"},
	} {
		if errors.Is(err, k.kind) {
			return k.name
		}
	}
	return "error"
}

// cacheCollector exports cache.Stats at scrape time.
type cacheCollector struct{ c statser }

func cacheDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("earthmount_cache_"+name, help, nil, nil)
}

func (cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(cacheCollector{}, ch)
}

func (cc cacheCollector) Collect(ch chan<- prometheus.Metric) {
	var s cache.Stats
	if cc.c != nil {
		s = cc.c.Stats()
	}
	for _, v := range []struct {
		name, help string
		typ        prometheus.ValueType
		val        int64
	}{
		{"hits_total", "Chunk requests answered from memory.", prometheus.CounterValue, s.Hits},
		{"misses_total", "Chunk requests that started or joined a fetch.", prometheus.CounterValue, s.Misses},
		{"evictions_total", "Chunks dropped to make room.", prometheus.CounterValue, s.Evictions},
		{"fetched_bytes_total", "Bytes the cache read from stores.", prometheus.CounterValue, s.BytesFetched},
		{"prefetch_issued_total", "Read-ahead fetches started.", prometheus.CounterValue, s.PrefetchIssued},
		{"prefetch_used_total", "Read-ahead chunks a read then used (issued minus used is waste).", prometheus.CounterValue, s.PrefetchUsed},
		{"prefetch_skipped_total", "Read-ahead not started for lack of room or slots.", prometheus.CounterValue, s.PrefetchSkipped},
		{"stale_reads_total", "Fetches refused because the object changed.", prometheus.CounterValue, s.StaleReads},
		{"fetch_errors_total", "Fetches that failed.", prometheus.CounterValue, s.FetchErrors},
		{"cached_bytes", "Bytes of chunks held now.", prometheus.GaugeValue, s.BytesCached},
		{"inflight_bytes", "Bytes reserved by fetches running now.", prometheus.GaugeValue, s.BytesInFlight},
		{"used_bytes", "Everything counted against the budget now.", prometheus.GaugeValue, s.BytesUsed},
		{"peak_bytes", "Highest used_bytes seen.", prometheus.GaugeValue, s.PeakBytes},
	} {
		ch <- prometheus.MustNewConstMetric(cacheDesc(v.name, v.help), v.typ, float64(v.val))
	}
}
