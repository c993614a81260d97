package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// prepareMountpoint checks dir before mounting and returns its absolute
// path. A stale FUSE mount (its server died: every access fails with
// ENOTCONN) is detached so that the new mount can take its place; a live
// mount is an error.
func prepareMountpoint(dir string, log *slog.Logger) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if isDisconnected(err) || (err == nil && stale(abs)) {
		log.Warn("cleaning up a stale mount left by a process that died", "mountpoint", abs)
		if err := detach(abs); err != nil {
			return "", fmt.Errorf("mountpoint %s: stale mount could not be removed: %w (try: fusermount3 -uz %s)", abs, err, abs)
		}
		fi, err = os.Stat(abs)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("mountpoint %s does not exist (create it with: mkdir -p %s)", abs, abs)
	case err != nil:
		return "", fmt.Errorf("mountpoint %s: %w", abs, err)
	case !fi.IsDir():
		return "", fmt.Errorf("mountpoint %s is not a directory", abs)
	}
	if fstype, ok := mountedFS(abs); ok {
		return "", fmt.Errorf("mountpoint %s is already mounted (%s); unmount it first: fusermount3 -u %s", abs, fstype, abs)
	}
	return abs, nil
}

// stale reports whether dir is a FUSE mount whose server is gone. stat
// alone cannot tell: the kernel answers it from cached attributes, so ask
// for something only the server can give, the directory's entries.
func stale(dir string) bool {
	fstype, ok := mountedFS(dir)
	if !ok || !strings.HasPrefix(fstype, "fuse") {
		return false
	}
	f, err := os.Open(dir)
	if err != nil {
		return isDisconnected(err)
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return isDisconnected(err)
}

func isDisconnected(err error) bool {
	return errors.Is(err, syscall.ENOTCONN) || errors.Is(err, syscall.ECONNABORTED)
}

// detach lazily unmounts dir: directly when we may, else through the
// setuid fusermount3 helper, as an unprivileged user must.
func detach(dir string) error {
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err == nil {
		return nil
	}
	var lastErr error
	for _, helper := range []string{"fusermount3", "fusermount"} {
		out, err := exec.Command(helper, "-u", "-z", dir).CombinedOutput()
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("%s: %v: %s", helper, err, strings.TrimSpace(string(out)))
	}
	return lastErr
}

// mountedFS reports whether dir is a mount point, and its type, from
// /proc/self/mountinfo.
func mountedFS(dir string) (string, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// Fields: id parent major:minor root mountpoint options ... - fstype source super
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || unescapeMountinfo(fields[4]) != dir {
			continue
		}
		fstype := "unknown type"
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) {
				fstype = fields[i+1]
			}
		}
		return fstype, true
	}
	return "", false
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) the kernel
// uses in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
