package integration

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// firstAccessLimit is how long the first access to a misconfigured remote
// may take before it fails: "a few seconds", never a hang.
const firstAccessLimit = 10 * time.Second

// TestFirstAccessErrors mounts remotes that cannot work (nothing listens at
// the endpoint, wrong keys, a bucket that does not exist) and checks that
// the first access fails quickly with the matching errno, and that the log
// names the remote and what to check.
func TestFirstAccessErrors(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	need(t, v.CreateBucket(t.Context(), "data"))
	_, err := v.WriteObject("data", "file.txt", []byte("content\n"))
	need(t, err)
	closedPort, err := testenv.FreePort() // nothing listens there
	need(t, err)
	closed := "127.0.0.1:" + strconv.Itoa(closedPort)

	unreachable := v.Remote("data")
	unreachable.Endpoint = "http://" + closed
	unreachableAll := unreachable
	unreachableAll.Buckets = nil
	wrongKeys := v.Remote("data")
	wrongKeys.SecretAccessKey = "not-the-secret"
	m := h.mount(t, mountSpec{cfg: testenv.Config{Remotes: map[string]testenv.RemoteConfig{
		"unreachable":         unreachable,
		"unreachable-listing": unreachableAll,
		"wrongkeys":           wrongKeys,
		"nobucket":            v.Remote("no-such-bucket"),
		"good":                v.Remote("data"),
	}}})

	cases := []struct {
		name string
		path string        // below the mountpoint
		want syscall.Errno // from ReadDir or Stat
		log  []string      // all on one line of earthmount's log: the remote, what to check
	}{
		{"closed port", "unreachable/data", syscall.EIO, []string{"unreachable", closed, "endpoint"}},
		{"closed port, file below", "unreachable/data/file.txt", syscall.EIO, []string{"unreachable", closed, "endpoint"}},
		{"closed port, bucket listing", "unreachable-listing", syscall.EIO, []string{"unreachable-listing", closed, "endpoint"}},
		{"wrong secret key", "wrongkeys/data", syscall.EACCES, []string{"wrongkeys", "secret_access_key"}},
		{"unknown bucket", "nobucket/no-such-bucket", syscall.ENOENT, []string{"nobucket", "no-such-bucket"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(m.Dir, c.path)
			for attempt := range 2 { // the second answer may come from a cache: it must agree
				var err error
				took := within(t, 2*firstAccessLimit, "first access to "+c.path, func() { err = access(path) })
				if !errors.Is(err, c.want) {
					t.Errorf("attempt %d: %s: %v, want %v", attempt+1, c.path, err, c.want)
				}
				if took > firstAccessLimit {
					t.Errorf("attempt %d: %s failed only after %v, want within %v", attempt+1, c.path, took, firstAccessLimit)
				}
			}
			if line, ok := waitLogLine(m, c.log, 5*time.Second); ok {
				t.Logf("log: %s", line)
			} else {
				t.Errorf("no line of earthmount's log contains all of %q", c.log)
			}
		})
	}

	t.Run("a good remote beside them works", func(t *testing.T) {
		got, err := os.ReadFile(filepath.Join(m.Dir, "good/data/file.txt"))
		if err != nil || string(got) != "content\n" {
			t.Errorf("read: %q, %v", got, err)
		}
	})
}

// access reads the directory at path, or stats it when it is not one.
func access(path string) error {
	if strings.HasSuffix(path, ".txt") {
		_, err := os.Stat(path)
		return err
	}
	_, err := os.ReadDir(path)
	return err
}

// waitLogLine polls earthmount's log for a line containing every word.
func waitLogLine(m *testenv.Mount, words []string, timeout time.Duration) (string, bool) {
	deadline := time.After(timeout)
	for {
		for line := range strings.SplitSeq(m.Log(), "\n") {
			if containsAll(line, words) {
				return line, true
			}
		}
		select {
		case <-deadline:
			return "", false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
