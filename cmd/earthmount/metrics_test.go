package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cache"
)

type fixedStats cache.Stats

func (f fixedStats) Stats() cache.Stats { return cache.Stats(f) }

func TestMetrics(t *testing.T) {
	mem := memstore.New()
	info := mem.Put("b/k", []byte("hello"))
	m := newMetrics(fixedStats{Hits: 7, Misses: 3, BytesFetched: 1234, PrefetchIssued: 5, PrefetchUsed: 4, BytesCached: 99})
	m.addLogins("sw", func() int { return 2 })
	st := m.wrap("r", "s3", mem)
	ctx := context.Background()
	if _, err := st.List(ctx, backends.ListRequest{Prefix: "b/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, "b/missing"); err == nil {
		t.Fatal("Stat of a missing key succeeded")
	}
	p := make([]byte, 10)
	if n, _ := st.ReadAt(ctx, info.Ref(), p, 0); n != 5 {
		t.Fatalf("ReadAt = %d", n)
	}
	if lo, ok := st.(interface{ LookupOnly(string) bool }); !ok || lo.LookupOnly("x/") {
		t.Errorf("LookupOnly not passed on as false for a store without it")
	}

	srv := httptest.NewServer(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`earthmount_store_operations_total{op="list",remote="r",result="ok",type="s3"} 1`,
		`earthmount_store_operations_total{op="stat",remote="r",result="not_exist",type="s3"} 1`,
		`earthmount_store_operations_total{op="read",remote="r",result="ok",type="s3"} 1`,
		`earthmount_store_read_bytes_total{remote="r",type="s3"} 5`,
		`earthmount_store_operation_seconds_count{op="read",remote="r",type="s3"} 1`,
		`earthmount_cache_hits_total 7`,
		`earthmount_cache_misses_total 3`,
		`earthmount_cache_fetched_bytes_total 1234`,
		`earthmount_cache_prefetch_issued_total 5`,
		`earthmount_cache_prefetch_used_total 4`,
		`earthmount_cache_cached_bytes 99`,
		`earthmount_auth_logins_total{remote="sw"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

func TestResultOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"}, {io.EOF, "ok"}, {context.Canceled, "canceled"},
		{&backends.Error{Op: "read", Err: backends.ErrStale}, "stale"},
		{backends.Kind(backends.ErrThrottled, io.ErrUnexpectedEOF), "throttled"},
		{io.ErrUnexpectedEOF, "error"},
	} {
		if got := resultOf(c.err); got != c.want {
			t.Errorf("resultOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
