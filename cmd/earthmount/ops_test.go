package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/auth"
)

func TestLoosePermsWarnings(t *testing.T) {
	const doc = "remotes:\n  shared:\n    type: s3\n    endpoint: http://127.0.0.1:9\n  keyed:\n    type: s3\n    endpoint: http://127.0.0.1:9\n    access_key_id: AK\n    secret_access_key: s3cr3t-v4lue\n  icos:\n    type: icos\n"
	for _, c := range []struct {
		name       string
		mode       os.FileMode // of all three files
		wantWarned []string
	}{
		{"owner only", 0o600, nil},
		{"group readable", 0o640, []string{"config file", "AWS shared credentials file", "icoscp_core credentials file"}},
		{"world readable", 0o644, []string{"config file", "AWS shared credentials file", "icoscp_core credentials file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			cfg := filepath.Join(home, "c.yaml")
			aws := filepath.Join(home, ".aws", "credentials")
			icos := filepath.Join(home, auth.ICOSDefaultCredentialsFile)
			for path, body := range map[string]string{cfg: doc, aws: "[default]\n", icos: "{}"} {
				os.MkdirAll(filepath.Dir(path), 0o700)
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				os.Chmod(path, c.mode)
			}
			env := map[string]string{"HOME": home, "AWS_EC2_METADATA_DISABLED": "true"}
			_, errOut, err := run(t, env, "remotes", "--config", cfg)
			if err != nil {
				t.Fatalf("remotes: %v (%s)", err, errOut)
			}
			lines := strings.Count(errOut, "warning: ")
			if lines != len(c.wantWarned) {
				t.Errorf("%d warnings, want %d:\n%s", lines, len(c.wantWarned), errOut)
			}
			for _, w := range c.wantWarned {
				if !strings.Contains(errOut, "warning: "+w) {
					t.Errorf("no warning for the %s:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "s3cr3t") {
				t.Errorf("a warning shows the secret:\n%s", errOut)
			}
		})
	}
}

func TestLogFileIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "earthmount.log")
	w, closeLog, err := logWriter(os.Stderr, path)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := newLogger(w, "info")
	log.Info("hello")
	closeLog()
	w, closeLog, _ = logWriter(os.Stderr, path) // appends
	log, _ = newLogger(w, "info")
	log.Info("again")
	closeLog()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if data, _ := os.ReadFile(path); strings.Count(string(data), "msg=") != 2 {
		t.Errorf("log file does not hold both lines:\n%s", data)
	}
	if _, _, err := logWriter(os.Stderr, filepath.Join(path, "sub")); err == nil || !strings.Contains(err.Error(), "--log-file") {
		t.Errorf("unwritable log file: %v", err)
	}
}

type countForget struct{ n atomic.Int32 }

func (c *countForget) Forget() { c.n.Add(1) }

func TestHangupForgets(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a, b := &countForget{}, &countForget{}
	onHangup(ctx, slog.New(slog.DiscardHandler), []forgetter{a, b})
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.n.Load() == 0 || b.n.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reach the caches: %d, %d", a.n.Load(), b.n.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
