package s3

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// TestRetryPolicy: throttling and server errors are retried (with
// backoff) up to the attempt cap; 403, 404 and 416 fail at once.
func TestRetryPolicy(t *testing.T) {
	isolateAWS(t)
	for _, c := range []struct {
		name      string
		status    int
		code      string
		failures  int32 // first requests that fail
		wantOK    bool
		wantTries int32
	}{
		{"500 heals", 500, "InternalError", 2, true, 3},
		{"503 SlowDown heals", 503, "SlowDown", 2, true, 3},
		{"429 heals", 429, "TooManyRequests", 2, true, 3},
		{"429 without a code heals", 429, "", 2, true, 3},
		{"502 heals", 502, "", 1, true, 2},
		{"500 forever stops at the cap", 500, "InternalError", 100, false, 3},
		{"403 fails fast", 403, "AccessDenied", 100, false, 1},
		{"404 fails fast", 404, "NoSuchKey", 100, false, 1},
		{"416 fails fast", 416, "InvalidRange", 100, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeS3(t, "b")
			f.put("b", "k", []byte("data"))
			var n atomic.Int32
			f.fail = func(r *http.Request) (int, string) {
				if n.Add(1) <= c.failures {
					return c.status, c.code
				}
				return 0, ""
			}
			st := newTestStore(t, f, func(cfg *Config) { cfg.MaxAttempts = 3 })
			start := time.Now()
			_, err := st.Stat(t.Context(), "b/k")
			if (err == nil) != c.wantOK || n.Load() != c.wantTries {
				t.Errorf("Stat = %v after %d requests (%v); want ok=%v after %d", err, n.Load(), time.Since(start), c.wantOK, c.wantTries)
			}
			if !c.wantOK && c.status == 404 && !errors.Is(err, backends.ErrNotExist) {
				t.Errorf("404: %v, want ErrNotExist", err)
			}
		})
	}
}
