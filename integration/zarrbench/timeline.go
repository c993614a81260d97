package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// recorder is an HTTP reverse proxy in front of an endpoint (toxiproxy,
// so at the run's RTT) that notes when each request started and ended:
// with -timeline, every earthmount run writes them next to its log, so
// that requests waiting on an earlier one show as a staircase.
type recorder struct {
	URL   string
	srv   *http.Server
	start time.Time // the workload's Python started

	mu    sync.Mutex
	spans []span // GUARDED_BY(mu)
}

// span is one request as the proxy saw it.
type span struct {
	from, to time.Duration // since start
	what     string        // method, path, query or range
	status   int
	bytes    int64
}

func startRecorder(upstream string) (*recorder, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("timeline proxy: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("timeline proxy: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	rc := &recorder{URL: "http://" + l.Addr().String(), start: time.Now()}
	rc.srv = &http.Server{ReadHeaderTimeout: 30 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			from := time.Since(rc.start)
			what := r.Method + " " + r.URL.Path
			if q := r.URL.Query(); q.Has("list-type") {
				what += fmt.Sprintf(" list prefix=%q delim=%q", q.Get("prefix"), q.Get("delimiter"))
			}
			if rg := r.Header.Get("Range"); rg != "" {
				what += " " + rg
			}
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			rp.ServeHTTP(sw, r)
			rc.mu.Lock()
			rc.spans = append(rc.spans, span{from: from, to: time.Since(rc.start), what: what, status: sw.status, bytes: sw.n})
			rc.mu.Unlock()
		})}
	go rc.srv.Serve(l)
	return rc, nil
}

// restart makes the next spans count from now (the workload's start).
func (rc *recorder) restart() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.start, rc.spans = time.Now(), nil
}

// write closes the proxy and writes its spans to path, in start order:
// "from_ms to_ms status bytes request".
func (rc *recorder) write(path string) error {
	rc.srv.Close()
	rc.mu.Lock()
	spans := rc.spans
	rc.mu.Unlock()
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var sb strings.Builder
	sb.WriteString("# ms from the workload's Python start: from to status bytes request\n")
	for _, s := range spans {
		fmt.Fprintf(&sb, "%7.1f %7.1f %3d %9d %s\n", ms(s.from), ms(s.to), s.status, s.bytes, s.what)
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}
