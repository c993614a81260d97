package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earthmount/earthmount/auth"
)

// httpMetrics are the request-level series: every HTTP exchange by remote,
// service (storage or identity), operation (the HTTP method, or for
// identity requests what they are for) and status class; every retry by
// remote and operation; logins and renewals by source; FUSE latency.
type httpMetrics struct {
	requests *prometheus.CounterVec
	retries  *prometheus.CounterVec
	renewals *prometheus.CounterVec
	fuse     *prometheus.HistogramVec
}

func newHTTPMetrics() httpMetrics {
	return httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "earthmount_http_requests_total",
			Help: "HTTP requests sent, by remote, service (storage, identity), operation (HTTP method; for identity the exchange, such as oidc_refresh) and status class (2xx..5xx, or error when no answer came).",
		}, []string{"remote", "service", "op", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "earthmount_retries_total",
			Help: "Attempts beyond the first, by remote and operation, counted where the retry is decided (S3 SDK requests, resumed reads, Swift requests, ICOS queries and downloads, identity requests).",
		}, []string{"remote", "op"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "earthmount_auth_renewals_total",
			Help: "Logins and token renewals started, by remote and source (oidc_refresh, keystone_federated, keystone_scope, keystone_password, keystone_appcred, swift_v1_login, icos_login, ec2_list, ec2_create); retries of one are not counted again.",
		}, []string{"remote", "source"}),
		fuse: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "earthmount_fuse_operation_seconds",
			Help:    "Time earthmount took to answer FUSE operations, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10),
		}, []string{"op"}),
	}
}

func (h httpMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{h.requests, h.retries, h.renewals, h.fuse}
}

// transport counts the exchanges of next for remote. A nil *metrics
// returns next unchanged, so builders need not check.
func (m *metrics) transport(remote, service string, next http.RoundTripper) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return countingTransport{next: next, m: m, remote: remote, service: service}
}

type countingTransport struct {
	next            http.RoundTripper
	m               *metrics
	remote, service string
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Method
	if ex, ok := auth.ExchangeOf(req.Context()); ok {
		op = ex.Kind
		if ex.Attempt > 1 {
			t.m.http.retries.WithLabelValues(t.remote, op).Inc()
		} else if ex.Kind != "oidc_discovery" && ex.Kind != "keystone_projects" {
			t.m.http.renewals.WithLabelValues(t.remote, op).Inc()
		}
	}
	resp, err := t.next.RoundTrip(req)
	t.m.http.requests.WithLabelValues(t.remote, t.service, op, statusClass(resp, err)).Inc()
	return resp, err
}

// statusClass is "2xx".."5xx", or "error" when no answer came.
func statusClass(resp *http.Response, err error) string {
	if err != nil || resp == nil {
		return "error"
	}
	return strconv.Itoa(resp.StatusCode/100) + "xx"
}

// onHTTP is the S3 store's exchange hook; nil without metrics.
func (m *metrics) onHTTP(remote string) func(*http.Request, *http.Response, error) {
	if m == nil {
		return nil
	}
	return func(req *http.Request, resp *http.Response, err error) {
		m.http.requests.WithLabelValues(remote, "storage", req.Method, statusClass(resp, err)).Inc()
	}
}

// onRetry is a store's retry hook; nil without metrics.
func (m *metrics) onRetry(remote string) func(op string) {
	if m == nil {
		return nil
	}
	return func(op string) { m.http.retries.WithLabelValues(remote, op).Inc() }
}

// fuseLatency is fs.Options.Latency; nil without metrics.
func (m *metrics) fuseLatency() func(op string, d time.Duration) {
	if m == nil {
		return nil
	}
	return func(op string, d time.Duration) { m.http.fuse.WithLabelValues(op).Observe(d.Seconds()) }
}
