package integration

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// s3Counter is a reverse proxy in front of an S3 endpoint that counts
// requests by kind: what earthmount asks for a workload.
type s3Counter struct {
	url string
	mu  sync.Mutex
	n   map[string]int // guarded by mu
}

// startS3Counter proxies to upstream until the test ends.
func startS3Counter(t *testing.T, upstream string) *s3Counter {
	t.Helper()
	target, err := url.Parse(upstream)
	need(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	need(t, err)
	c := &s3Counter{url: "http://" + ln.Addr().String(), n: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // signed by the client (SigV4)
			c.count(r.In)
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Close() })
	return c
}

// count classifies one path-style request.
func (c *s3Counter) count(r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	q := r.URL.Query()
	kind := r.Method
	switch {
	case r.Method == http.MethodGet && !strings.Contains(path, "/"):
		kind = "LIST"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		kind = "COPY"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		kind = "PART"
	case r.Method == http.MethodPost:
		kind = "MULTIPART"
	}
	c.mu.Lock()
	c.n[kind]++
	c.mu.Unlock()
}

// take returns the counts so far and starts again from zero.
func (c *s3Counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// TestWriteRsyncRequestCount: rsync -a of a Zarr store into a new
// directory costs one PUT per file and per directory and nothing else
// (no copy for the mtime, no copy and delete for the rename of rsync's
// temporary file, no lookup per file); cp -r the same. A second rsync -a
// sends no write at all.
func TestWriteRsyncRequestCount(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	need(t, v.CreateBucket(t.Context(), "inbox"))
	counter := startS3Counter(t, v.URL)
	src := t.TempDir()
	const grid = 12 // 144 chunks
	want := writeZarrTree(t, src, grid)
	dirs := 2 // my.zarr/ and my.zarr/t2m/
	writable := false
	rw := v.Remote("inbox")
	rw.Endpoint, rw.ReadOnly = counter.url, &writable
	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Spool: t.TempDir()},
		Remotes: map[string]testenv.RemoteConfig{"rw": rw},
	}})
	root := filepath.Join(m.Dir, "rw", "inbox")
	for _, tool := range []struct {
		name string
		args []string
	}{
		{"rsync -a", []string{"rsync", "-a", src + "/", filepath.Join(root, "rs") + "/"}},
		{"cp -r", []string{"cp", "-r", src, filepath.Join(root, "cp")}},
	} {
		t.Run(tool.name, func(t *testing.T) {
			counter.take()
			took := within(t, 2*time.Minute, tool.name, func() { run(t, 2*time.Minute, tool.args[0], tool.args[1:]...) })
			got := counter.take()
			files := len(want)
			t.Logf("%s of %d files in %d directories: %v in %v", tool.name, files, dirs, got, took.Round(time.Millisecond))
			// One PUT per file and per directory made (the top one too),
			// a few lookups and listings at the top, nothing per file.
			if got["PUT"] != files+dirs+1 {
				t.Errorf("%d PUTs, want %d", got["PUT"], files+dirs+1)
			}
			for _, k := range []string{"COPY", "DELETE", "PART", "MULTIPART"} {
				if got[k] != 0 {
					t.Errorf("%d %s requests, want none", got[k], k)
				}
			}
			if got["HEAD"]+got["LIST"] > 8 {
				t.Errorf("%d HEAD and %d LIST, want a few (none per file)", got["HEAD"], got["LIST"])
			}
		})
	}
	checkUploaded(t, v.S3Endpoint, "inbox", "rs/", want)
	counter.take()
	out := run(t, 2*time.Minute, "rsync", "-a", "--stats", src+"/", filepath.Join(root, "rs")+"/")
	if !strings.Contains(out, "Number of regular files transferred: 0\n") {
		t.Errorf("second rsync -a transferred files:\n%s", out)
	}
	got := counter.take()
	if got["PUT"]+got["COPY"]+got["DELETE"] != 0 {
		t.Errorf("second rsync -a wrote: %v", got)
	}
	t.Logf("second rsync -a: %v", got)
}
