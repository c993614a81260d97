package s3

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// TestStalledBodyIsReadOn: a body that stops half way without closing is
// given up after the stall timeout and read on from where it stopped,
// pinned to the same version; the caller gets every byte, once.
func TestStalledBodyIsReadOn(t *testing.T) {
	isolateAWS(t)
	data := bytes.Repeat([]byte("abcdefghij"), 10000)
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var first, last int
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last)
		last = min(last, len(data)-1)
		if n := gets.Add(1); n > 1 && r.Header.Get("If-Match") != `"v1"` {
			t.Errorf("request %d not pinned: If-Match %q", n, r.Header.Get("If-Match"))
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
		w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
		w.WriteHeader(http.StatusPartialContent)
		body := data[first : last+1]
		if gets.Load() == 1 {
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // stall until the client gives up
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	st, err := New(t.Context(), Config{Remote: "stall", Endpoint: srv.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		MaxAttempts: 3, StallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, len(data))
	start := time.Now()
	n, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "b/k", Size: int64(len(data))}, p, 0)
	took := time.Since(start)
	if err != nil || n != len(data) || !bytes.Equal(p, data) {
		t.Fatalf("ReadAt = %d, %v; want %d identical bytes", n, err, len(data))
	}
	if gets.Load() != 2 || took > 5*time.Second {
		t.Errorf("%d GETs in %v; want 2, soon after the 200ms stall timeout", gets.Load(), took)
	}
}

// TestStallTimeoutNamesTheStall: when every attempt stalls, the error
// says so and is an outage (ErrUnavailable), not data.
func TestStallTimeoutNamesTheStall(t *testing.T) {
	isolateAWS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var first, last int
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last)
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/100", first, last))
		w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	st, err := New(t.Context(), Config{Remote: "stall", Endpoint: srv.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		MaxAttempts: 2, StallTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100)
	n, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "b/k", Size: 100}, p, 0)
	if err == nil || !strings.Contains(err.Error(), "no data for 100ms") || !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("ReadAt = %d, %v; want a stall error of kind ErrUnavailable", n, err)
	}
}
