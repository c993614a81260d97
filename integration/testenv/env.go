package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// Env returns the environment for a subprocess: the caller's, without any
// AWS_* variable (no credentials, profiles or endpoints leak in from the
// developer's shell), with AWS_EC2_METADATA_DISABLED=true so that no SDK ever
// asks 169.254.169.254, with HTTP(S) proxies pointing at a closed loopback
// port so that a client honouring them cannot reach anything but 127.0.0.1
// (loopback is never proxied), and, when home is set, HOME and
// XDG_CONFIG_HOME pointing into it so that ~/.aws and ~/.config are empty.
// extra entries ("K=V") are appended last and win.
func Env(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), k == "EARTHMOUNT_CONFIG":
			continue
		case strings.HasSuffix(strings.ToUpper(k), "_PROXY"):
			continue
		case home != "" && (k == "HOME" || k == "XDG_CONFIG_HOME"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "AWS_EC2_METADATA_DISABLED=true",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost")
	if home != "" {
		env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+home+"/.config")
	}
	return append(env, extra...)
}

// InCI reports whether the CI variable is set (CI=true), in which case
// nothing may be skipped for a missing component.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// ErrMissing marks an error caused by a component that is not installed on
// this machine (no /dev/fuse, no Swift, ...). Tests skip on it locally and
// fail on it in CI.
var ErrMissing = errors.New("component missing")

// CheckFUSE reports whether FUSE mounts can work here: /dev/fuse and
// fusermount3 must exist.
func CheckFUSE() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("%w: /dev/fuse: %v (load the fuse module or run the tests where FUSE exists)", ErrMissing, err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return fmt.Errorf("%w: fusermount3 not found (apt-get install fuse3)", ErrMissing)
	}
	return nil
}

// LookPath finds a program that a Debian package provides, and says which
// package to install when it is missing.
func LookPath(prog, pkg string) (string, error) {
	p, err := exec.LookPath(prog)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found (apt-get install %s)", ErrMissing, prog, pkg)
	}
	return p, nil
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago. The caller binds them soon after; a server that then fails to
// bind exits and its start reports the log.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreePort returns one free port on 127.0.0.1.
func FreePort() (int, error) {
	p, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}
