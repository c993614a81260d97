package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// cacheMemory is earthmount's budget in every run.
const cacheMemory = "512MiB"

// A tool is one column: a FUSE filesystem mounted afresh for every run,
// fsspec over HTTP (no mount), the lower bound (no Python), or Python on
// the local copy (the compute floor).
type tool struct {
	Name  string
	Label string
	mount func(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error)
}

// tools in table order: earthmount, then the anchors, then the bound.
func tools() []tool {
	return []tool{
		{Name: "earthmount", Label: "earthmount", mount: mountEarthmount},
		{Name: "rclone-off", Label: "rclone off", mount: mountRclone("off")},
		{Name: "rclone-full", Label: "rclone full", mount: mountRclone("full")},
		{Name: "s3fs", Label: "s3fs", mount: mountS3fs},
		{Name: "fsspec", Label: "fsspec HTTP"},
		{Name: "lower", Label: "lower bound"},
		{Name: "local", Label: "local disk"},
	}
}

// mounted is one live mount and the process serving it.
type mounted struct {
	Dir   string
	PID   int
	close func() error
}

// Close unmounts and stops the process; safe to call twice.
func (m *mounted) Close() error {
	if m == nil || m.close == nil {
		return nil
	}
	c := m.close
	m.close = nil
	return c()
}

func mountEarthmount(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error) {
	cfg := filepath.Join(b.work, fmt.Sprintf("earthmount-%dms.yaml", ep.RTT.Milliseconds()))
	conf := testenv.Config{Remotes: map[string]testenv.RemoteConfig{"bench": ep.S3.Remote(bucket)}}
	if err := conf.Write(cfg); err != nil {
		return nil, err
	}
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: b.earthmount, Config: cfg, Target: "bench:" + bucket, Mountpoint: dir,
		Args: []string{"--cache-memory", cacheMemory}, Home: filepath.Join(b.work, "home"), LogPath: log,
	})
	if err != nil {
		return nil, err
	}
	return &mounted{Dir: dir, PID: m.PID(), close: m.Close}, nil
}

// mountRclone returns a mounter for Debian's rclone with the given
// --vfs-cache-mode; "full" gets a fresh cache directory per mount so that
// no run inherits the previous one's files. testenv.Env drops
// AWS_CA_BUNDLE, which rclone 1.60 cannot load.
func mountRclone(mode string) func(context.Context, *bench, endpoint, string, string) (*mounted, error) {
	return func(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error) {
		empty := filepath.Join(b.work, "rclone.conf")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			return nil, fmt.Errorf("rclone: %w", err)
		}
		env := testenv.Env(filepath.Join(b.work, "home"),
			"RCLONE_CONFIG="+empty,
			"RCLONE_CONFIG_BENCH_TYPE=s3",
			"RCLONE_CONFIG_BENCH_PROVIDER=Other",
			"RCLONE_CONFIG_BENCH_ENDPOINT="+ep.S3.URL,
			"RCLONE_CONFIG_BENCH_REGION="+ep.S3.Region,
			"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+ep.S3.AccessKey,
			"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+ep.S3.SecretKey,
			"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
		)
		args := []string{"mount", "bench:" + bucket, dir, "--read-only", "--vfs-cache-mode", mode,
			"--cache-dir", dir + ".cache"}
		return startFUSE(ctx, "rclone", args, env, dir, log, "fuse.rclone")
	}
}

// mountS3fs runs Debian's s3fs in the foreground (-f) so that zarrbench
// owns the process; no use_cache, its default.
func mountS3fs(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error) {
	passwd := filepath.Join(b.work, "s3fs.passwd")
	if err := os.WriteFile(passwd, []byte(ep.S3.AccessKey+":"+ep.S3.SecretKey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("s3fs: %w", err)
	}
	args := []string{bucket, dir, "-f", "-o", "url=" + ep.S3.URL, "-o", "use_path_request_style",
		"-o", "passwd_file=" + passwd, "-o", "ro"}
	return startFUSE(ctx, "s3fs", args, testenv.Env(filepath.Join(b.work, "home")), dir, log, "fuse.s3fs")
}

// startFUSE starts a foreground FUSE daemon and waits until dir shows
// fstype in mountinfo.
func startFUSE(ctx context.Context, prog string, args, env []string, dir, log, fstype string) (*mounted, error) {
	path, err := exec.LookPath(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog, err)
	}
	proc, err := testenv.StartProc(testenv.ProcOptions{
		Name: prog, Path: path, Args: args, Env: env, LogPath: log,
		DeathSignal: syscall.SIGTERM, // both unmount on SIGTERM
	})
	if err != nil {
		return nil, err
	}
	m := &mounted{Dir: dir, PID: proc.PID(), close: func() error { return unmountFUSE(proc, dir) }}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _, err := testenv.MountedAt(dir)
		switch {
		case err != nil:
			return nil, errors.Join(err, m.Close())
		case got == fstype:
			return m, nil
		case proc.Exited():
			return nil, errors.Join(fmt.Errorf("%s exited before mounting:\n%s", prog, proc.Log(2048)), m.Close())
		case time.Now().After(deadline):
			return nil, errors.Join(fmt.Errorf("%s: not mounted after 30s:\n%s", prog, proc.Log(2048)), m.Close())
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), m.Close())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// unmountFUSE unmounts with fusermount3 -u (the daemon then exits), then
// stops the process by pid, and detaches lazily whatever is left.
func unmountFUSE(proc *testenv.Proc, dir string) error {
	var errs []error
	if fstype, _, _ := testenv.MountedAt(dir); strings.HasPrefix(fstype, "fuse") {
		if out, err := exec.Command("fusermount3", "-u", dir).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("fusermount3 -u %s: %w: %s", dir, err, bytes.TrimSpace(out)))
		}
	}
	if _, err := proc.Wait(10 * time.Second); err != nil {
		errs = append(errs, proc.Stop(5*time.Second))
	}
	if fstype, _, _ := testenv.MountedAt(dir); strings.HasPrefix(fstype, "fuse") {
		errs = append(errs, testenv.Unmount(dir))
	}
	return errors.Join(errs...)
}

// peakRSS reads VmHWM, the process's resident high-water mark, in KiB.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM for pid %d", pid)
}
