package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// cacheMemory is earthmount's budget in every run: (d) asks for the RSS
// under this budget during (a), so (a) runs with it too.
const cacheMemory = "256MiB"

// A tool is one column of the comparison: the direct download or a FUSE
// filesystem that bench mounts afresh for every run.
type tool struct {
	Name    string // earthmount, direct, rclone, s3fs
	Label   string // for the table, with the version
	Missing error  // not installed here: its cells say so
	// mount mounts the bucket on dir; nil for the direct download.
	mount func(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error)
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

// tools returns the tools in table order: the reference first.
func tools(ctx context.Context) []tool {
	ts := []tool{
		{Name: "direct", Label: fmt.Sprintf("direct SDK (%d × %d MiB ranged GETs)", directConcurrency, directPart>>20)},
		{Name: "earthmount", Label: "earthmount (--cache-memory " + cacheMemory + ")", mount: mountEarthmount},
		{Name: "rclone", Label: "rclone mount", mount: mountRclone},
		{Name: "s3fs", Label: "s3fs", mount: mountS3fs},
	}
	for i := range ts {
		switch ts[i].Name {
		case "rclone":
			ts[i].Label, ts[i].Missing = version(ctx, "rclone", "rclone", "version")
		case "s3fs":
			ts[i].Label, ts[i].Missing = version(ctx, "s3fs", "s3fs", "--version")
		}
	}
	return ts
}

// version finds prog and labels it with the first line of its version
// output, shortened to "NAME VERSION".
func version(ctx context.Context, prog, pkg, flag string) (string, error) {
	path, err := testenv.LookPath(prog, pkg)
	if err != nil {
		return prog, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, flag).CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	for _, f := range strings.Fields(first) {
		if f != "" && (f[0] == 'v' || f[0] == 'V') && len(f) > 1 && f[1] >= '0' && f[1] <= '9' {
			return prog + " " + strings.TrimLeft(f, "vV"), nil
		}
	}
	return prog, nil
}

// mountEarthmount runs the binary under test through testenv, which waits
// for its ready line; its own SIGTERM handling unmounts it on Close.
func mountEarthmount(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error) {
	cfg := filepath.Join(b.work, fmt.Sprintf("earthmount-%dms.yaml", lat.RTT.Milliseconds()))
	conf := testenv.Config{
		Cache:   testenv.CacheConfig{ChunkSize: b.opts.chunkSize},
		Remotes: map[string]testenv.RemoteConfig{"bench": lat.S3.Remote(bucket)},
	}
	if err := conf.Write(cfg); err != nil {
		return nil, err
	}
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: b.earthmount, Config: cfg, Target: "bench:" + bucket, Mountpoint: dir,
		Args: []string{"--cache-memory", cacheMemory}, Home: b.home, LogPath: log,
	})
	if err != nil {
		return nil, err
	}
	return &mounted{Dir: dir, PID: m.PID(), close: m.Close}, nil
}

// mountRclone runs Debian's rclone mount with an S3 remote given in
// RCLONE_CONFIG_* variables. testenv.Env drops AWS_CA_BUNDLE, which
// Debian's rclone 1.60 cannot load.
func mountRclone(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error) {
	empty := filepath.Join(b.work, "rclone.conf")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return nil, fmt.Errorf("rclone: %w", err)
	}
	env := testenv.Env(b.home,
		"RCLONE_CONFIG="+empty,
		"RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other",
		"RCLONE_CONFIG_BENCH_ENDPOINT="+lat.S3.URL,
		"RCLONE_CONFIG_BENCH_REGION="+lat.S3.Region,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+lat.S3.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+lat.S3.SecretKey,
		"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
	)
	args := []string{"mount", "bench:" + bucket, dir, "--read-only", "--vfs-cache-mode", "off"}
	return startFUSE(ctx, "rclone", args, env, dir, log, "fuse.rclone")
}

// mountS3fs runs Debian's s3fs in the foreground (-f), so that bench owns
// the process, with the keys in a 0600 passwd file.
func mountS3fs(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error) {
	passwd := filepath.Join(b.work, "s3fs.passwd")
	if err := os.WriteFile(passwd, []byte(lat.S3.AccessKey+":"+lat.S3.SecretKey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("s3fs: %w", err)
	}
	args := []string{bucket, dir, "-f",
		"-o", "url=" + lat.S3.URL, "-o", "use_path_request_style",
		"-o", "passwd_file=" + passwd, "-o", "ro",
	}
	return startFUSE(ctx, "s3fs", args, testenv.Env(b.home), dir, log, "fuse.s3fs")
}

// startFUSE starts a foreground FUSE daemon and waits until dir shows
// fstype in mountinfo. Its Close unmounts with fusermount3 -u (the daemon
// then exits by itself), and only then stops the process and, if anything
// is left, detaches the mount lazily.
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
			return nil, errors.Join(fmt.Errorf("%s exited before mounting %s:\n%s", prog, dir, proc.Log(4096)), m.Close())
		case time.Now().After(deadline):
			return nil, errors.Join(fmt.Errorf("%s: %s not mounted after 30s:\n%s", prog, dir, proc.Log(4096)), m.Close())
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), m.Close())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func unmountFUSE(proc *testenv.Proc, dir string) error {
	var errs []error
	if fstype, _, _ := testenv.MountedAt(dir); strings.HasPrefix(fstype, "fuse") {
		out, err := exec.Command("fusermount3", "-u", dir).CombinedOutput()
		if err != nil {
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
