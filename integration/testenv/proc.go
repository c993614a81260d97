package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ProcOptions describes one server or client process.
type ProcOptions struct {
	Name string   // short label for errors ("versitygw", "swift-proxy")
	Path string   // executable
	Args []string // arguments, without the program name
	Env  []string // full environment; nil means Env(HOME unchanged)
	Dir  string   // working directory; "" means the current one
	// LogPath receives stdout and stderr. Required: a failed start or
	// test shows its tail.
	LogPath string
	// DeathSignal is sent to the process when the starting process dies
	// (a test binary killed by -timeout). Zero means SIGKILL. earthmount
	// uses SIGTERM so that it unmounts.
	DeathSignal syscall.Signal
}

// Proc is a running child process in its own process group.
type Proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when Wait has returned
	waitErr error         // valid after done is closed
}

// StartProc starts the process described by opts.
func StartProc(opts ProcOptions) (*Proc, error) {
	if opts.LogPath == "" {
		return nil, fmt.Errorf("start %s: no log path", opts.Name)
	}
	logf, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Name, err)
	}
	defer logf.Close() // the child has its own copy
	sig := opts.DeathSignal
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	cmd := exec.Command(opts.Path, opts.Args...)
	cmd.Env = opts.Env
	if cmd.Env == nil {
		cmd.Env = Env("")
	}
	cmd.Dir = opts.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: sig}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Name, err)
	}
	recordPID(cmd.Process.Pid)
	p := &Proc{name: opts.Name, logPath: opts.LogPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PIDFileEnv names an environment variable: when it holds a file name,
// every started process is appended to that file as "PID<TAB>EXECUTABLE",
// so that .ci/run's exit trap can stop, by pid, whatever a killed test run
// left behind (the parent-death signal normally does it already).
const PIDFileEnv = "EARTHMOUNT_TEST_PIDFILE"

func recordPID(pid int) {
	path := os.Getenv(PIDFileEnv)
	if path == "" {
		return
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return // already gone
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return // best effort: the death signal still applies
	}
	fmt.Fprintf(f, "%d\t%s\n", pid, exe)
	f.Close()
}

// PID returns the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to end and returns its exit code
// (-1 when a signal ended it). It fails when the process is still running.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	if !p.Exited() {
		select {
		case <-p.done:
		case <-time.After(timeout):
			return 0, fmt.Errorf("%s (pid %d) still running after %v", p.name, p.PID(), timeout)
		}
	}
	var exit *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0, nil
	case errors.As(p.waitErr, &exit):
		return exit.ExitCode(), nil
	default:
		return 0, p.waitErr
	}
}

// Signal sends sig to the process's group, unless it has ended.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	err := syscall.Kill(-p.PID(), sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Stop asks the process to end (SIGTERM) and kills its group if it has not
// ended after grace. It is safe to call more than once.
func (p *Proc) Stop(grace time.Duration) error {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	if _, err := p.Wait(grace); err == nil {
		return nil
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	_, err := p.Wait(10 * time.Second)
	return err
}

// Log returns the last limit bytes of the process's output.
func (p *Proc) Log(limit int64) string { return tail(p.logPath, limit) }

// LogPath is the file holding the process's output.
func (p *Proc) LogPath() string { return p.logPath }

// tail returns the last limit bytes of the file at path, or a note saying why
// it cannot.
func tail(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	off := max(st.Size()-limit, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	s := string(b)
	if off > 0 {
		s = "…" + s
	}
	return strings.TrimRight(s, "\n")
}
