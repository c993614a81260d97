package testenv

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
)

// AnchorOptions describes a mount of one of the tools earthmount is
// compared with (Debian's rclone and s3fs) over an S3 bucket.
type AnchorOptions struct {
	S3      S3Endpoint
	Bucket  string
	Dir     string // the mountpoint
	Work    string // where the tool's config or password file is written
	Home    string // HOME of the process
	LogPath string
	// RcloneCacheMode is rclone's --vfs-cache-mode: "off" (default) or
	// "full", which gets a fresh --cache-dir beside the mountpoint.
	RcloneCacheMode string
}

// AnchorMount is a running foreground FUSE daemon of rclone or s3fs.
type AnchorMount struct {
	Dir  string
	PID  int
	proc *Proc
}

// Close unmounts with fusermount3 -u (the daemon then exits by itself),
// then stops the process and lazily detaches whatever is left.
func (m *AnchorMount) Close() error {
	var errs []error
	if fstype, _, _ := MountedAt(m.Dir); strings.HasPrefix(fstype, "fuse") {
		if out, err := exec.Command("fusermount3", "-u", m.Dir).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("fusermount3 -u %s: %w: %s", m.Dir, err, bytes.TrimSpace(out)))
		}
	}
	if _, err := m.proc.Wait(10 * time.Second); err != nil {
		errs = append(errs, m.proc.Stop(5*time.Second))
	}
	if fstype, _, _ := MountedAt(m.Dir); strings.HasPrefix(fstype, "fuse") {
		errs = append(errs, Unmount(m.Dir))
	}
	return errors.Join(errs...)
}

// MountRclone runs Debian's rclone mount with the S3 remote given in
// RCLONE_CONFIG_* variables. Env drops AWS_CA_BUNDLE, which rclone 1.60
// cannot load.
func MountRclone(ctx context.Context, o AnchorOptions) (*AnchorMount, error) {
	empty := filepath.Join(o.Work, "rclone.conf")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return nil, fmt.Errorf("rclone: %w", err)
	}
	env := Env(o.Home,
		"RCLONE_CONFIG="+empty,
		"RCLONE_CONFIG_ANCHOR_TYPE=s3",
		"RCLONE_CONFIG_ANCHOR_PROVIDER=Other",
		"RCLONE_CONFIG_ANCHOR_ENDPOINT="+o.S3.URL,
		"RCLONE_CONFIG_ANCHOR_REGION="+o.S3.Region,
		"RCLONE_CONFIG_ANCHOR_ACCESS_KEY_ID="+o.S3.AccessKey,
		"RCLONE_CONFIG_ANCHOR_SECRET_ACCESS_KEY="+o.S3.SecretKey,
		"RCLONE_CONFIG_ANCHOR_FORCE_PATH_STYLE=true",
	)
	mode := o.RcloneCacheMode
	if mode == "" {
		mode = "off"
	}
	args := []string{"mount", "anchor:" + o.Bucket, o.Dir, "--read-only", "--vfs-cache-mode", mode}
	if mode != "off" {
		args = append(args, "--cache-dir", o.Dir+".cache")
	}
	return startAnchor(ctx, "rclone", args, env, o, "fuse.rclone")
}

// MountS3fs runs Debian's s3fs in the foreground (-f), so that the caller
// owns the process, with the keys in a 0600 password file.
func MountS3fs(ctx context.Context, o AnchorOptions) (*AnchorMount, error) {
	passwd := filepath.Join(o.Work, "s3fs.passwd")
	if err := os.WriteFile(passwd, []byte(o.S3.AccessKey+":"+o.S3.SecretKey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("s3fs: %w", err)
	}
	args := []string{o.Bucket, o.Dir, "-f", "-o", "url=" + o.S3.URL, "-o", "use_path_request_style",
		"-o", "passwd_file=" + passwd, "-o", "ro"}
	return startAnchor(ctx, "s3fs", args, Env(o.Home), o, "fuse.s3fs")
}

// startAnchor starts a foreground FUSE daemon and waits until its
// mountpoint shows fstype in mountinfo.
func startAnchor(ctx context.Context, prog string, args, env []string, o AnchorOptions, fstype string) (*AnchorMount, error) {
	path, err := exec.LookPath(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog, err)
	}
	proc, err := StartProc(ProcOptions{
		Name: prog, Path: path, Args: args, Env: env, LogPath: o.LogPath,
		DeathSignal: syscall.SIGTERM, // both unmount on SIGTERM
	})
	if err != nil {
		return nil, err
	}
	m := &AnchorMount{Dir: o.Dir, PID: proc.PID(), proc: proc}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _, err := MountedAt(o.Dir)
		switch {
		case err != nil:
			return nil, errors.Join(err, m.Close())
		case got == fstype:
			return m, nil
		case proc.Exited():
			return nil, errors.Join(fmt.Errorf("%s exited before mounting %s:\n%s", prog, o.Dir, proc.Log(4096)), m.Close())
		case time.Now().After(deadline):
			return nil, errors.Join(fmt.Errorf("%s: %s not mounted after 30s:\n%s", prog, o.Dir, proc.Log(4096)), m.Close())
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), m.Close())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// PeakRSS reads VmHWM, the process's resident high-water mark, in bytes.
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS: %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/%d/status", pid)
}
