package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/faultproxy"
	"github.com/earthmount/earthmount/integration/testenv"
)

// metricsAddr returns a free 127.0.0.1 address for --metrics-addr.
func metricsAddr(t *testing.T) string {
	t.Helper()
	port, err := testenv.FreePort()
	need(t, err)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// scrape reads /metrics at addr.
func scrape(t *testing.T, addr string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	need(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	need(t, err)
	return body
}

// logRetries prints, for the closing note, what earthmount itself counted
// for remote: HTTP requests and retries (attempts beyond the first).
func logRetries(t *testing.T, scenario, addr, remote string) {
	t.Helper()
	body := scrape(t, addr)
	r := `remote="` + remote + `"`
	t.Logf("closing-note-metrics | %s | earthmount HTTP requests %.0f (%.0f 2xx) | retries %.0f | renewals %.0f", scenario,
		metricSum(body, "earthmount_http_requests_total", r), metricSum(body, "earthmount_http_requests_total", r, `status="2xx"`),
		metricSum(body, "earthmount_retries_total", r), metricSum(body, "earthmount_auth_renewals_total", r))
}

// metricWant is a lower bound on the sum of a metric's series that carry
// all of labels.
type metricWant struct {
	name   string
	labels []string
	min    float64
}

// metricsAtLeast checks every want against the scraped body.
func metricsAtLeast(t *testing.T, body []byte, wants []metricWant) {
	t.Helper()
	for _, w := range wants {
		if got := metricSum(body, w.name, w.labels...); got < w.min {
			t.Errorf("%s%v = %v, want at least %v", w.name, w.labels, got, w.min)
		}
	}
}

// metricSum adds up the samples of name whose labels include every one of
// labels (`remote="x"` each).
func metricSum(body []byte, name string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		series, value, ok := strings.Cut(rest, " ")
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "} ")
			if end < 0 {
				continue
			}
			series, value, ok = rest[:end+1], rest[end+2:], true
		}
		match := ok
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); match && err == nil {
			sum += v
		}
	}
	return sum
}

// TestMetricsRequests copies a tree through a faultproxy (10% of requests
// fail) with --metrics-addr and checks the request-level series: HTTP
// requests by remote, method and status class (the faults show as 4xx and
// 5xx), retries counted where they happen, and FUSE operation latency.
func TestMetricsRequests(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket = "metrics"
	need(t, v.CreateBucket(ctx, bucket))
	src := t.TempDir()
	for i := range 40 {
		rel := fmt.Sprintf("d%d/f%02d.bin", i%4, i)
		_, err := v.Put(ctx, bucket, rel, testenv.ContentBytes(rel, testenv.SizeFor(rel, 64<<10, 1<<20)))
		need(t, err)
	}
	p, err := faultproxy.Start(faultproxy.Options{Upstream: v.URL, Rate: faultRate, Stall: time.Second, Seed: 8})
	need(t, err)
	t.Cleanup(func() { p.Close() })
	remote := v.Remote(bucket)
	remote.Endpoint = p.URL
	addr := metricsAddr(t)
	m := h.mount(t, mountSpec{
		cfg:  testenv.Config{Remotes: map[string]testenv.RemoteConfig{"faulty": remote}},
		args: []string{"--metrics-addr", addr},
	})
	run(t, 2*time.Minute, "cp", "-r", filepath.Join(m.Dir, "faulty", bucket), filepath.Join(src, "copy"))

	body := scrape(t, addr)
	st := p.Stats()
	ok := metricSum(body, "earthmount_http_requests_total", `remote="faulty"`, `service="storage"`, `status="2xx"`)
	all := metricSum(body, "earthmount_http_requests_total", `remote="faulty"`)
	failed := metricSum(body, "earthmount_http_requests_total", `remote="faulty"`, `status="5xx"`) +
		metricSum(body, "earthmount_http_requests_total", `remote="faulty"`, `status="4xx"`)
	retries := metricSum(body, "earthmount_retries_total", `remote="faulty"`)
	t.Logf("proxy: %d requests, %d faults; metrics: %.0f requests (%.0f 2xx, %.0f 4xx/5xx), %.0f retries",
		st.Requests, st.Faulted(), all, ok, failed, retries)
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"GET requests answered 2xx", metricSum(body, "earthmount_http_requests_total", `remote="faulty"`, `op="GET"`, `status="2xx"`) > 0},
		{"every request the proxy saw is counted", all >= float64(st.Requests) && all > 0},
		{"status faults counted as 4xx/5xx", failed > 0},
		{"retries counted", retries > 0},
		{"FUSE read latency", metricSum(body, "earthmount_fuse_operation_seconds_count", `op="read"`) > 0},
		{"FUSE lookup latency", metricSum(body, "earthmount_fuse_operation_seconds_count", `op="lookup"`) > 0},
	} {
		if !c.ok {
			t.Errorf("/metrics: no %s", c.what)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
