package swift

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// TestStalledBodyIsReadOn: a body that stops half way without closing is
// given up after the stall timeout and read on, pinned, from where it
// stopped; when every attempt stalls the error names the stall.
func TestStalledBodyIsReadOn(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefghij"), 10000)
	for _, c := range []struct {
		name     string
		stalls   int32 // how many GETs stall
		wantErr  bool
		attempts int
	}{
		{"one stall", 1, false, 3},
		{"every attempt stalls", 100, true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var gets atomic.Int32
			st, _ := fakeStore(t, Config{MaxAttempts: c.attempts, StallTimeout: 200 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
				var first, last int
				fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last)
				last = min(last, len(data)-1)
				if n := gets.Add(1); n > 1 && strings.Trim(r.Header.Get("If-Match"), `"`) != "v1" {
					t.Errorf("request %d not pinned: If-Match %q", n, r.Header.Get("If-Match"))
				}
				w.Header().Set("Etag", `"v1"`)
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
				w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
				w.WriteHeader(http.StatusPartialContent)
				body := data[first : last+1]
				if gets.Load() <= c.stalls {
					w.Write(body[:len(body)/2])
					w.(http.Flusher).Flush()
					<-r.Context().Done()
					return
				}
				w.Write(body)
			})
			p := make([]byte, len(data))
			start := time.Now()
			n, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "c/k", Size: int64(len(data))}, p, 0)
			took := time.Since(start)
			if took > 5*time.Second {
				t.Errorf("ReadAt took %v with a 200ms stall timeout", took)
			}
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), "no data for 200ms") || !errors.Is(err, backends.ErrUnavailable) {
					t.Fatalf("ReadAt = %d, %v; want a stall error of kind ErrUnavailable", n, err)
				}
				return
			}
			if err != nil || n != len(data) || !bytes.Equal(p, data) || gets.Load() != 2 {
				t.Fatalf("ReadAt = %d, %v after %d GETs; want %d identical bytes after 2", n, err, gets.Load(), len(data))
			}
		})
	}
}
