package testenv

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
)

// FSType is the filesystem type earthmount mounts show in mountinfo.
const FSType = "fuse.earthmount"

// ReadyPrefix starts the line earthmount prints to stderr once the mount
// is ready: "earthmount: mounted <what> on <mountpoint>".
const ReadyPrefix = "earthmount: mounted "

// MountOptions describes one `earthmount mount` subprocess.
type MountOptions struct {
	Binary     string   // the earthmount binary (BuildEarthmount)
	Config     string   // config file, passed with --config
	Target     string   // REMOTE[:PATH], or "" for every remote
	Mountpoint string   // an existing directory
	Args       []string // extra flags, e.g. "--cache-memory", "256MiB"
	// Home is HOME for the subprocess (empty ~/.aws); "" means the
	// directory "home" beside the log.
	Home string
	// LogPath receives earthmount's stderr and stdout.
	LogPath string
	// ReadyTimeout bounds the wait for the mount; 0 means 30s.
	ReadyTimeout time.Duration
}

// Mount is a running earthmount mount.
type Mount struct {
	Dir     string // the mountpoint
	proc    *Proc
	home    string
	secrets []secret // what its log must not show (CheckLogSecrets)
}

// StartMount runs `earthmount mount` and waits until its ready line is in
// the log and the mountpoint shows fuse.earthmount in /proc/self/mountinfo.
// When earthmount exits first or the wait times out, the error holds the
// log's tail; the process is stopped and any mount removed.
func StartMount(ctx context.Context, opts MountOptions) (*Mount, error) {
	if opts.Home == "" {
		opts.Home = filepath.Join(filepath.Dir(opts.LogPath), "home")
	}
	if err := os.MkdirAll(opts.Home, 0o755); err != nil {
		return nil, fmt.Errorf("mount: %w", err)
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	env := Env(opts.Home)
	proc, err := StartProc(ProcOptions{
		Name: "earthmount", Path: opts.Binary, Args: MountArgs(opts),
		Env: env, LogPath: opts.LogPath,
		DeathSignal: syscall.SIGTERM, // so that a killed test run still unmounts
	})
	if err != nil {
		return nil, err
	}
	m := &Mount{Dir: opts.Mountpoint, proc: proc, home: opts.Home, secrets: mountSecrets(opts, env)}
	if err := m.waitReady(ctx, opts.ReadyTimeout); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	return m, nil
}

// MountArgs returns the command line arguments StartMount uses.
func MountArgs(opts MountOptions) []string {
	args := []string{"mount"}
	if opts.Config != "" {
		args = append(args, "--config", opts.Config)
	}
	args = append(args, opts.Args...)
	if opts.Target != "" {
		args = append(args, opts.Target)
	}
	return append(args, opts.Mountpoint)
}

func (m *Mount) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		if m.proc.Exited() {
			code, _ := m.proc.Wait(0)
			return fmt.Errorf("earthmount exited (code %d) before mounting %s; its log:\n%s", code, m.Dir, m.Log())
		}
		fstype, _, err := MountedAt(m.Dir)
		if err != nil {
			return err
		}
		if fstype == FSType && strings.Contains(m.proc.Log(1<<20), ReadyPrefix) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("earthmount not ready on %s after %v (mount type %q, ready line seen: %v); its log:\n%s",
				m.Dir, timeout, fstype, strings.Contains(m.proc.Log(1<<20), ReadyPrefix), m.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Log returns the tail of earthmount's output.
func (m *Mount) Log() string { return m.proc.Log(16 << 10) }

// LogPath is the file holding earthmount's output.
func (m *Mount) LogPath() string { return m.proc.LogPath() }

// PID is earthmount's process id.
func (m *Mount) PID() int { return m.proc.PID() }

// Done is closed when earthmount has exited.
func (m *Mount) Done() <-chan struct{} { return m.proc.Done() }

// Signal sends sig to earthmount.
func (m *Mount) Signal(sig syscall.Signal) error { return m.proc.Signal(sig) }

// Wait waits up to timeout for earthmount to exit and returns its exit code.
func (m *Mount) Wait(timeout time.Duration) (int, error) { return m.proc.Wait(timeout) }

// Stop sends SIGTERM and waits up to timeout for earthmount to exit; it
// returns the exit code. It does not clean up behind a failing earthmount:
// Close does.
func (m *Mount) Stop(timeout time.Duration) (int, error) {
	if err := m.proc.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	return m.proc.Wait(timeout)
}

// Close makes sure that neither the process nor the mount is left: SIGTERM
// and a grace period, then a lazy unmount and SIGKILL. It is safe to call
// after Stop or more than once. It fails when the log shows a secret
// (CheckLogSecrets).
func (m *Mount) Close() error {
	var errs []error
	if !m.proc.Exited() {
		m.proc.Signal(syscall.SIGTERM)
		if _, err := m.proc.Wait(15 * time.Second); err != nil {
			errs = append(errs, fmt.Errorf("earthmount ignored SIGTERM for 15s: %w", err))
			errs = append(errs, Unmount(m.Dir))
			errs = append(errs, m.proc.Stop(0))
		}
	}
	if fstype, _, err := MountedAt(m.Dir); err != nil {
		errs = append(errs, err)
	} else if strings.HasPrefix(fstype, "fuse") {
		errs = append(errs, fmt.Errorf("earthmount exited and left %s mounted", m.Dir), Unmount(m.Dir))
	}
	errs = append(errs, CheckLogSecrets(m.LogPath(), append(m.secrets, icosSecrets(m.home)...)))
	return errors.Join(errs...)
}

// Unmount removes a FUSE mount at dir, lazily so that open files or a dead
// server cannot block it.
func Unmount(dir string) error {
	out, err := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fusermount3 -u -z %s: %w: %s", dir, err, bytes.TrimSpace(out))
	}
	return nil
}

// MountedAt returns the filesystem type and source of the topmost mount
// whose mountpoint is exactly dir, or "" when nothing is mounted there.
func MountedAt(dir string) (fstype, source string, err error) {
	ms, err := MountsAt(dir)
	if err != nil || len(ms) == 0 {
		return "", "", err
	}
	return ms[len(ms)-1].FSType, ms[len(ms)-1].Source, nil
}

// MountInfo is one line of /proc/self/mountinfo.
type MountInfo struct{ FSType, Source string }

// MountsAt returns every mount stacked on exactly dir, the topmost last.
func MountsAt(dir string) ([]MountInfo, error) {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	// EvalSymlinks stats the path, which fails on a stale FUSE mount; the
	// plain absolute path is what mountinfo holds then.
	dir, _ = filepath.Abs(dir)
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	var ms []MountInfo
	for line := range strings.SplitSeq(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 2 && unescapeMountinfo(f[4]) == dir {
			ms = append(ms, MountInfo{FSType: g[0], Source: unescapeMountinfo(g[1])})
		}
	}
	return ms, nil
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// RunResult is the outcome of a short earthmount command.
type RunResult struct {
	Stdout, Stderr string
	Code           int // exit code; -1 when killed
}

// Run runs earthmount with args (a command that ends by itself: remotes,
// version, or a mount expected to fail) in the scrubbed environment with
// HOME=home, and kills it after timeout.
func Run(ctx context.Context, bin, home string, timeout time.Duration, args ...string) (RunResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = Env(home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := RunResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("earthmount %s: no exit after %v (stderr: %s)", strings.Join(args, " "), timeout, res.Stderr)
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		return res, fmt.Errorf("earthmount %s: %w", strings.Join(args, " "), err)
	}
	return res, nil
}
