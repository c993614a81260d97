package icos

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestStalledDownloadResumes: a download whose body stops half way
// without closing is given up after the stall timeout and resumed with
// Range and If-Range; the file holds every byte once.
func TestStalledDownloadResumes(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 50000)
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := gets.Add(1)
		w.Header().Set("ETag", `"e1"`)
		start := 0
		if rg := r.Header.Get("Range"); rg != "" {
			if r.Header.Get("If-Range") != `"e1"` {
				t.Errorf("resumed without If-Range: %q", r.Header.Get("If-Range"))
			}
			fmt.Sscanf(rg, "bytes=%d-", &start)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
			w.Header().Set("Content-Length", strconv.Itoa(len(data)-start))
			w.WriteHeader(http.StatusPartialContent)
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		}
		if n == 1 {
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		w.Write(data[start:])
	}))
	defer srv.Close()
	st, err := New(Config{Remote: "stall", MetaURL: srv.URL, DataURL: srv.URL, AuthURL: srv.URL,
		RetryBase: time.Millisecond, MaxRetries: 3, StallTimeout: 200 * time.Millisecond, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "obj"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := &fetch{s: st, key: "t/obj", id: "hoidzqcaqmCU3mOZ435r2crG", size: int64(len(data)), f: f, h: sha256.New()}
	start := time.Now()
	if err := d.run(t.Context()); err != nil {
		t.Fatalf("download: %v", err)
	}
	got, _ := os.ReadFile(f.Name())
	if !bytes.Equal(got, data) || gets.Load() != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d bytes (identical: %v) after %d GETs in %v; want all after 2, soon after the 200ms stall",
			len(got), bytes.Equal(got, data), gets.Load(), time.Since(start))
	}
}
