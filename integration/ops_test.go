package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestOperations mounts with a long dir_ttl, --log-file and
// --metrics-addr: a new object stays hidden behind the cached listing
// until SIGHUP drops the metadata caches, and then shows at once; the log
// goes to the file (mode 0600), the ready line to stderr; /metrics counts
// the store operations and the cache's bytes.
func TestOperations(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket = "ops"
	need(t, v.CreateBucket(ctx, bucket))
	_, err := v.Put(ctx, bucket, "dir/a.txt", []byte("a"))
	need(t, err)

	logFile := filepath.Join(t.TempDir(), "earthmount.log")
	port, err := testenv.FreePort()
	need(t, err)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	m := h.mount(t, mountSpec{
		cfg: testenv.Config{Cache: testenv.CacheConfig{DirTTL: "1h"}, Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}},
		args: []string{"--log-file", logFile, "--log-level", "debug",
			"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port)},
	})
	dir := filepath.Join(m.Dir, "local", bucket, "dir")
	if got := lsNames(t, dir); !slices.Equal(got, []string{"a.txt"}) {
		t.Fatalf("ls = %q, want [a.txt]", got)
	}
	_, err = v.Put(ctx, bucket, "dir/b.txt", []byte("b"))
	need(t, err)
	if got := lsNames(t, dir); !slices.Equal(got, []string{"a.txt"}) {
		t.Fatalf("ls before SIGHUP = %q: the listing was not cached, so this test proves nothing", got)
	}

	need(t, m.Signal(syscall.SIGHUP))
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := lsNames(t, dir)
		if slices.Equal(got, []string{"a.txt", "b.txt"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ls 10s after SIGHUP = %q, want [a.txt b.txt] (dir_ttl is 1h)", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "b.txt")); err != nil || string(data) != "b" {
		t.Errorf("read b.txt = %q, %v", data, err)
	}
	select {
	case <-m.Done():
		t.Fatalf("earthmount exited on SIGHUP")
	default:
	}

	resp, err := http.Get(metricsURL)
	need(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, re := range []string{
		`earthmount_store_operations_total\{op="list",remote="local",result="ok",type="s3"\} [1-9]`,
		`earthmount_store_operations_total\{op="read",remote="local",result="ok",type="s3"\} [1-9]`,
		`earthmount_store_read_bytes_total\{remote="local",type="s3"\} [1-9]`,
		`earthmount_cache_fetched_bytes_total [1-9]`,
		`process_resident_memory_bytes [1-9]`,
	} {
		if !regexp.MustCompile(re).Match(body) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}

	fi, err := os.Stat(logFile)
	need(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("--log-file mode %04o, want 0600", fi.Mode().Perm())
	}
	logData, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logData), "SIGHUP: dropped the metadata caches") {
		t.Errorf("the log file lacks the SIGHUP line:\n%s", logData)
	}
	if stderr := m.Log(); !strings.Contains(stderr, testenv.ReadyPrefix) || strings.Contains(stderr, "level=") {
		t.Errorf("stderr should hold the ready line and no log lines:\n%s", stderr)
	}
}
