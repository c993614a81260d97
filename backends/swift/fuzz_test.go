package swift

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// FuzzListingJSON feeds arbitrary container listing bodies to List: it
// must never panic, must fail with a *backends.Error naming the op and
// the remote, and must only return keys inside the listed container.
func FuzzListingJSON(f *testing.F) {
	f.Add(200, `[{"name":"d/x","bytes":3,"hash":"h","last_modified":"2026-11-23T14:45:07.996710"},{"subdir":"d/e/"}]`)
	f.Add(200, `[{"name":"d/m","bytes":0,"content_type":"text/plain"}]`)
	f.Add(200, `[{"name":"","bytes":-5,"last_modified":"garbage"},{}]`)
	f.Add(200, `[{"name":"d/x","bytes":1e99}]`)
	f.Add(200, `{"name":"x"}`)
	f.Add(200, `[`)
	f.Add(204, ``)
	f.Add(500, `boom`)
	f.Add(503, `slow down`)
	f.Add(401, `no`)
	var status atomic.Int64
	var body atomic.Value
	f.Fuzz(func(t *testing.T, code int, js string) {
		if code < 200 || code > 599 || (code >= 300 && code < 400) {
			code = 200
		}
		status.Store(int64(code))
		body.Store(js)
		st, _ := fakeStore(t, Config{MaxAttempts: 1}, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(int(status.Load()))
			w.Write([]byte(body.Load().(string)))
		})
		for _, req := range []backends.ListRequest{{Prefix: "c/d/", Delimiter: "/"}, {Prefix: "c/"}} {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			page, err := st.List(ctx, req)
			timedOut := ctx.Err() != nil
			cancel()
			if timedOut {
				t.Fatalf("List(%q) with HTTP %d %q: no answer in 5s", req.Prefix, code, js)
			}
			if err != nil {
				var be *backends.Error
				if !errors.As(err, &be) || be.Op != "list" || be.Remote != "fake" {
					t.Fatalf("List(%q): error does not name op and remote: %#v", req.Prefix, err)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Fatalf("error shows the token: %v", err)
				}
				continue
			}
			for _, o := range page.Objects {
				if !strings.HasPrefix(o.Key, "c/") {
					t.Fatalf("List(%q): key %q outside the container", req.Prefix, o.Key)
				}
			}
			for _, p := range page.Prefixes {
				if !strings.HasPrefix(p, "c/") {
					t.Fatalf("List(%q): prefix %q outside the container", req.Prefix, p)
				}
			}
		}
	})
}

// FuzzParseListingTime never panics, and reads back what it formats.
func FuzzParseListingTime(f *testing.F) {
	f.Add("2026-11-23T14:45:07.996710", int64(1790000000), int64(996710000))
	f.Add("", int64(0), int64(0))
	f.Add("2026-11-23T14:45:07", int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, s string, sec, nsec int64) {
		parseListingTime(s)
		if sec < 0 || sec > 1<<34 || nsec < 0 || nsec >= 1e9 {
			return
		}
		want := time.Unix(sec, nsec/1000*1000).UTC()
		if got := parseListingTime(want.Format("2006-01-02T15:04:05.000000")); !got.Equal(want) {
			t.Fatalf("round trip of %v gave %v", want, got)
		}
	})
}
