package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// need stops the test when err is set: a skip with the reason when a
// component is missing locally, a failure in CI (CI=true) or for any other
// error.
func need(t testing.TB, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, testenv.ErrMissing) && !testenv.InCI():
		t.Skipf("skipped locally (CI fails instead): %v", err)
	default:
		t.Fatal(err)
	}
}

// harness holds the earthmount binary one test built.
type harness struct {
	bin string
}

// newHarness checks for FUSE and builds the earthmount binary (the Go build
// cache makes this cheap after the first test).
func newHarness(t *testing.T) *harness {
	t.Helper()
	need(t, testenv.CheckFUSE())
	bin, err := testenv.BuildEarthmount(t.Context(), t.TempDir())
	need(t, err)
	return &harness{bin: bin}
}

// startVersity starts versitygw for the test and stops it afterwards.
func startVersity(t *testing.T, opts testenv.VersityOptions) *testenv.Versity {
	t.Helper()
	opts.Dir = t.TempDir()
	v, err := testenv.StartVersity(t.Context(), opts)
	need(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("versitygw log (tail):\n%s", v.Log())
		}
		if err := v.Close(); err != nil {
			t.Errorf("stopping versitygw: %v", err)
		}
	})
	return v
}

// startSwift starts a Swift all-in-one with s3api for the test.
func startSwift(t *testing.T) *testenv.Swift {
	t.Helper()
	sw, err := testenv.StartSwift(t.Context(), testenv.SwiftOptions{Dir: t.TempDir()})
	need(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("swift logs (tails):\n%s", sw.Logs())
		}
		if err := sw.Close(); err != nil {
			t.Errorf("stopping swift: %v", err)
		}
	})
	return sw
}

// startToxiproxy starts toxiproxy for the test.
func startToxiproxy(t *testing.T) *testenv.Toxiproxy {
	t.Helper()
	tp, err := testenv.StartToxiproxy(t.Context(), testenv.ToxiproxyOptions{Dir: t.TempDir()})
	need(t, err)
	t.Cleanup(func() {
		if err := tp.Close(); err != nil {
			t.Errorf("stopping toxiproxy: %v", err)
		}
	})
	return tp
}

// mountSpec is what one mount needs beyond the harness.
type mountSpec struct {
	cfg        testenv.Config
	cfgPath    string   // a config file the test wrote; used instead of cfg
	noConfig   bool     // no config file: the built-in remotes
	target     string   // REMOTE[:PATH] or "" for every remote
	args       []string // extra flags
	mountpoint string   // "" means a fresh directory
	home       string   // earthmount's $HOME; "" means a fresh directory
}

// mount writes the config, starts earthmount and registers its teardown,
// which fails the test if earthmount leaves a mount or a process behind and
// prints earthmount's log when the test failed.
func (h *harness) mount(t *testing.T, spec mountSpec) *testenv.Mount {
	t.Helper()
	dir := t.TempDir()
	if spec.mountpoint == "" {
		spec.mountpoint = filepath.Join(dir, "mnt")
		need(t, os.Mkdir(spec.mountpoint, 0o755))
	}
	cfgPath := spec.cfgPath
	if cfgPath == "" && !spec.noConfig {
		cfgPath = filepath.Join(dir, "config.yaml")
		need(t, spec.cfg.Write(cfgPath))
	}
	if spec.home == "" {
		spec.home = filepath.Join(dir, "home")
	}
	m, err := testenv.StartMount(t.Context(), testenv.MountOptions{
		Binary: h.bin, Config: cfgPath, Target: spec.target, Mountpoint: spec.mountpoint,
		Args: spec.args, LogPath: filepath.Join(dir, "earthmount.log"), Home: spec.home,
	})
	need(t, err)
	t.Cleanup(func() {
		err := m.Close()
		if err != nil {
			t.Errorf("teardown: %v", err)
		}
		if t.Failed() || err != nil {
			t.Logf("earthmount log (%s, tail):\n%s", m.LogPath(), m.Log())
		}
	})
	return m
}

// writeConfig writes cfg into a fresh directory and returns its path.
func writeConfig(t *testing.T, cfg testenv.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	need(t, cfg.Write(path))
	return path
}

// within runs f in a goroutine and fails the test if it takes longer than
// d: a FUSE call that hangs must not hang the test. The goroutine is left
// behind in that case (teardown kills earthmount, which ends the call).
func within(t *testing.T, d time.Duration, what string, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(d):
		t.Fatalf("%s: no answer after %v (a hang)", what, d)
		return d
	}
}

// ctxTimeout returns a context for one step of a test.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
