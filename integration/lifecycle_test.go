package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestLifecycle covers starting and stopping: SIGTERM in the middle of
// reads, a stale mount left by SIGKILL, bad mountpoints, and the commands
// that do not mount.
func TestLifecycle(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	const bucket = "life"
	need(t, v.CreateBucket(t.Context(), bucket))
	const readers, readerSize = 4, 16 << 20
	for i := range readers {
		key := fmt.Sprintf("big/%d.bin", i)
		_, err := v.WriteObjectFrom(bucket, key, testenv.Content(bucket+"/"+key, readerSize))
		need(t, err)
	}
	small := []byte("small file\n")
	_, err := v.WriteObject(bucket, "small.txt", small)
	need(t, err)
	cfg := testenv.Config{Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}}
	target := "local:" + bucket

	t.Run("SIGTERM during reads unmounts and exits 0", func(t *testing.T) {
		// Slow responses down so that the reads are still running when
		// the signal comes.
		tp := startToxiproxy(t)
		px, err := tp.Proxy("slow", v.URL)
		need(t, err)
		need(t, px.SetLatency(20*time.Millisecond))
		need(t, px.SetBandwidth(2048))
		slow := v.Remote(bucket)
		slow.Endpoint = px.URL
		m := h.mount(t, mountSpec{cfg: testenv.Config{Remotes: map[string]testenv.RemoteConfig{"slow": slow}}, target: "slow:" + bucket})

		started := make(chan struct{}, readers) // one send per reader, after its first bytes
		var finished atomic.Int32
		var wg sync.WaitGroup
		for i := range readers {
			wg.Go(func() {
				defer finished.Add(1)
				f, err := os.Open(filepath.Join(m.Dir, fmt.Sprintf("big/%d.bin", i)))
				if err != nil {
					started <- struct{}{}
					return
				}
				defer f.Close()
				buf := make([]byte, 256<<10)
				for first := true; ; first = false {
					_, err := f.Read(buf)
					if first {
						started <- struct{}{}
					}
					if err != nil {
						return
					}
				}
			})
		}
		timeout := time.After(30 * time.Second)
		for range readers {
			select {
			case <-started:
			case <-timeout:
				t.Fatal("the readers got no bytes within 30s")
			}
		}
		if finished.Load() == readers {
			t.Fatalf("all readers finished before SIGTERM; the test did not test anything")
		}
		t.Logf("SIGTERM with %d of %d readers still reading", readers-finished.Load(), readers)
		code, err := m.Stop(20 * time.Second)
		if err != nil {
			t.Fatalf("earthmount did not exit after SIGTERM: %v", err)
		}
		if code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0", code)
		}
		if fstype, _, err := testenv.MountedAt(m.Dir); err != nil || fstype != "" {
			t.Errorf("after SIGTERM %s is still mounted (%q, %v)", m.Dir, fstype, err)
		}
		within(t, 20*time.Second, "readers ending after the unmount", wg.Wait)
	})

	t.Run("a stale mount left by SIGKILL is cleaned up and mounted over", func(t *testing.T) {
		m1 := h.mount(t, mountSpec{cfg: cfg, target: target})
		need(t, m1.Signal(syscall.SIGKILL))
		if _, err := m1.Wait(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		// A stat may still be answered from the kernel's attribute cache;
		// listing the directory needs the (dead) server.
		var lsErr error
		within(t, 10*time.Second, "listing a stale mount", func() { _, lsErr = os.ReadDir(m1.Dir) })
		if !errors.Is(lsErr, syscall.ENOTCONN) {
			t.Fatalf("listing the killed mount: %v, want ENOTCONN (a stale mount)", lsErr)
		}
		m2 := h.mount(t, mountSpec{cfg: cfg, target: target, mountpoint: m1.Dir})
		if !strings.Contains(m2.Log(), "stale") {
			t.Errorf("earthmount's log does not mention the stale mount it cleaned up:\n%s", m2.Log())
		}
		got, err := os.ReadFile(filepath.Join(m2.Dir, "small.txt"))
		if err != nil || string(got) != string(small) {
			t.Errorf("read through the new mount: %q, %v", got, err)
		}
		ms, err := testenv.MountsAt(m2.Dir)
		need(t, err)
		if len(ms) != 1 {
			t.Errorf("mounts on %s: %v, want exactly one (the stale one removed, not stacked)", m2.Dir, ms)
		}
	})

	t.Run("bad mountpoints", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "a-file")
		need(t, os.WriteFile(file, nil, 0o644))
		live := h.mount(t, mountSpec{cfg: cfg, target: target})
		cfgPath := writeConfig(t, cfg)
		cases := []struct{ name, mountpoint, words string }{
			{"missing", filepath.Join(dir, "does-not-exist"), "does not exist"},
			{"not a directory", file, "not a directory"},
			{"already mounted", live.Dir, "already mounted"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res, err := testenv.Run(t.Context(), h.bin, t.TempDir(), 20*time.Second, "mount", "--config", cfgPath, target, c.mountpoint)
				if err != nil {
					// It mounted and stayed: remove what it left.
					if ms, _ := testenv.MountsAt(c.mountpoint); len(ms) > 1 || (c.mountpoint != live.Dir && len(ms) > 0) {
						testenv.Unmount(c.mountpoint)
					}
					t.Fatal(err)
				}
				if res.Code == 0 || !strings.Contains(res.Stderr, c.mountpoint) || !strings.Contains(res.Stderr, c.words) {
					t.Errorf("exit code %d, stderr %q; want a non-zero exit and a message naming %s that says %q",
						res.Code, res.Stderr, c.mountpoint, c.words)
				}
			})
		}
		if got, err := os.ReadFile(filepath.Join(live.Dir, "small.txt")); err != nil || string(got) != string(small) {
			t.Errorf("the live mount after the failed attempts: %q, %v", got, err)
		}
	})

	t.Run("remotes and version", func(t *testing.T) {
		checkRemotes(t, h, v)
	})
}

// checkRemotes runs `earthmount remotes` with a config and without one, and
// `earthmount version`.
func checkRemotes(t *testing.T, h *harness, v *testenv.Versity) {
	const secret = "s3cr3t-that-must-never-be-printed"
	keyed := v.Remote("life")
	keyed.AccessKeyID, keyed.SecretAccessKey = "AKIAEARTHMOUNTTEST", secret
	cfgPath := writeConfig(t, testenv.Config{Remotes: map[string]testenv.RemoteConfig{
		"keyed":  keyed,
		"public": {Type: "s3", Endpoint: "http://127.0.0.1:9", Anonymous: true},
	}})
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"configured", []string{"remotes", "--config", cfgPath},
			[]string{"keyed", "public", "s3", v.URL, "access keys from config", "anonymous"}},
		{"built-in default without a config file", []string{"remotes"},
			[]string{"osn", "https://nyu1.osn.mghpcc.org"}},
		{"version", []string{"version"}, []string{"earthmount "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := testenv.Run(t.Context(), h.bin, t.TempDir(), 20*time.Second, c.args...)
			need(t, err)
			if res.Code != 0 {
				t.Fatalf("earthmount %s: exit code %d, stderr %q", strings.Join(c.args, " "), res.Code, res.Stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(res.Stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, res.Stdout)
				}
			}
			if strings.Contains(res.Stdout+res.Stderr, secret) {
				t.Errorf("earthmount %s printed the secret key:\n%s%s", strings.Join(c.args, " "), res.Stdout, res.Stderr)
			}
			t.Logf("earthmount %s:\n%s", strings.Join(c.args, " "), res.Stdout)
		})
	}
}
