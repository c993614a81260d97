package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/earthmount/earthmount/integration/faultproxy"
	"github.com/earthmount/earthmount/integration/testenv"
)

// diskEnv is versitygw behind a counting proxy, one bucket of objects,
// and the config of mounts that share one disk cache directory.
type diskEnv struct {
	h        *harness
	bucket   string
	objects  map[string][]byte // key -> content
	remote   testenv.RemoteConfig
	gets     *atomic.Int64 // object GETs that reached the store
	cacheDir string
}

// newDiskEnv writes objects into a fresh bucket and puts a proxy that
// counts object GETs in front of versitygw; upstream, when set, wraps the
// proxy's URL (toxiproxy for latency).
func newDiskEnv(t *testing.T, objects map[string][]byte, upstream func(url string) string) *diskEnv {
	t.Helper()
	e := &diskEnv{h: newHarness(t), bucket: "disk", objects: objects, gets: new(atomic.Int64),
		cacheDir: filepath.Join(t.TempDir(), "blocks")}
	v := startVersity(t, testenv.VersityOptions{})
	need(t, v.CreateBucket(t.Context(), e.bucket))
	for key, data := range objects {
		_, err := v.WriteObject(e.bucket, key, data)
		need(t, err)
	}
	p, err := faultproxy.Start(faultproxy.Options{Upstream: v.URL, Eligible: func(r *http.Request) bool {
		key, ok := strings.CutPrefix(r.URL.Path, "/"+e.bucket+"/")
		if ok && key != "" && r.Method == http.MethodGet && !strings.Contains(r.URL.RawQuery, "list-type") {
			e.gets.Add(1)
		}
		return false // no faults: the proxy only counts
	}})
	need(t, err)
	t.Cleanup(func() { p.Close() })
	e.remote = v.Remote(e.bucket)
	e.remote.Endpoint = p.URL
	if upstream != nil {
		e.remote.Endpoint = upstream(p.URL)
	}
	return e
}

// mount starts earthmount with a memory budget and the disk tier capped
// at disk ("" for no disk tier); the test stops it with Stop or leaves it
// to cleanup.
func (e *diskEnv) mount(t *testing.T, memory, disk string) *testenv.Mount {
	t.Helper()
	dir := t.TempDir()
	cache := map[string]string{"memory": memory}
	if disk != "" {
		cache["dir"], cache["disk"] = e.cacheDir, disk
	}
	doc, err := yaml.Marshal(map[string]any{"cache": cache, "remotes": map[string]testenv.RemoteConfig{"s3": e.remote}})
	need(t, err)
	cfgPath := filepath.Join(dir, "config.yaml")
	need(t, os.WriteFile(cfgPath, doc, 0o600))
	return e.h.mount(t, mountSpec{cfgPath: cfgPath, target: "s3"})
}

// stop unmounts with SIGTERM, which writes the disk tier's queue out.
func stop(t *testing.T, m *testenv.Mount) {
	t.Helper()
	code, err := m.Stop(30 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("stopping earthmount: exit %d, %v\n%s", code, err, m.Log())
	}
}

// readAll lists the objects' directories, then reads every object through
// the mount with four readers at once
// and fails unless each equals its content. It returns the object GETs
// that reached the store meanwhile and the wall time.
func (e *diskEnv) readAll(t *testing.T, m *testenv.Mount) (int64, time.Duration) {
	t.Helper()
	before := e.gets.Load()
	keys := make(chan string, len(e.objects))
	dirs := map[string]bool{}
	for k := range e.objects {
		keys <- k
		dirs[filepath.Dir(filepath.FromSlash(k))] = true
	}
	close(keys)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	start := time.Now()
	// List first, as ls, find or a consolidated Zarr store would: the
	// lookups then come from the listing, not a round trip per file.
	for d := range dirs {
		_, err := os.ReadDir(filepath.Join(m.Dir, e.bucket, d))
		need(t, err)
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				got, err := os.ReadFile(filepath.Join(m.Dir, e.bucket, filepath.FromSlash(k)))
				if err != nil || !bytes.Equal(got, e.objects[k]) {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%s (%d bytes, %v)", k, len(got), err))
					mu.Unlock()
				}
			}
		}()
	}
	within(t, 5*time.Minute, "reading the objects", wg.Wait)
	wall := time.Since(start)
	if len(bad) > 0 {
		t.Fatalf("wrong content through the mount: %v", bad)
	}
	return e.gets.Load() - before, wall
}

// blockFiles lists the block files of the disk cache, largest first.
func blockFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	var sizes = map[string]int64{}
	filepath.WalkDir(filepath.Join(dir, "v1"), func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			files = append(files, path)
			sizes[path] = info.Size()
		}
		return nil
	})
	for i := range files { // few files: a selection sort keeps it obvious
		for j := i + 1; j < len(files); j++ {
			if sizes[files[j]] > sizes[files[i]] {
				files[i], files[j] = files[j], files[i]
			}
		}
	}
	return files
}
