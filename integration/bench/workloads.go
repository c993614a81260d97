package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errTimeout marks a command that ran past its bound: the cell says
// "> N s" and later runs of that cell are skipped.
var errTimeout = errors.New("timed out")

// ran is how long a command took and the CPU time it used.
type ran struct{ took, cpu time.Duration }

// command runs name with args, stdout into out (nil: discarded), stderr
// kept for the error, and kills its whole process group after timeout or
// when ctx ends.
func command(ctx context.Context, timeout time.Duration, out io.Writer, name string, args ...string) (ran, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(cctx, name, args...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second // a reader stuck in a dead mount must not hang us
	start := time.Now()
	err := cmd.Run()
	r := ran{took: time.Since(start)}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	switch {
	case ctx.Err() != nil:
		return r, ctx.Err()
	case cctx.Err() != nil:
		return r, fmt.Errorf("%s: %w after %v", name, errTimeout, timeout)
	case err != nil:
		return r, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, lastLine(stderr.String()))
	}
	return r, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// readBig is (a) through a mount: cp of the 1 GiB object to /dev/null.
// It returns MB/s (10^6 bytes per second) and cp's CPU time.
func readBig(ctx context.Context, timeout time.Duration, mnt string) (float64, time.Duration, error) {
	r, err := command(ctx, timeout, nil, "cp", filepath.Join(mnt, filepath.FromSlash(bigKey)), "/dev/null")
	if err != nil {
		return 0, 0, err
	}
	return mbps(bigSize, r.took), r.cpu, nil
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }

// findTree is (b): find over the tree; it checks the number of entries.
func findTree(ctx context.Context, timeout time.Duration, mnt string) (time.Duration, error) {
	var out lineCounter
	r, err := command(ctx, timeout, &out, "find", filepath.Join(mnt, strings.TrimSuffix(treePrefix, "/")))
	if err != nil {
		return r.took, err
	}
	if out.n != treeEntries {
		return r.took, fmt.Errorf("find printed %d entries, want %d", out.n, treeEntries)
	}
	return r.took, nil
}

type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// rsyncCopy is (c)'s first run: rsync -a of the small files out of the
// mount into an empty dest, checked against the reference copy.
func rsyncCopy(ctx context.Context, timeout time.Duration, mnt, dest, reference string) (time.Duration, error) {
	if err := os.RemoveAll(dest); err != nil {
		return 0, fmt.Errorf("rsync: %w", err)
	}
	r, err := command(ctx, timeout, nil, "rsync", "-a", rsyncSource(mnt), dest+"/")
	if err != nil {
		return r.took, err
	}
	if err := sameTree(reference, dest); err != nil {
		return r.took, fmt.Errorf("rsync -a copy: %w", err)
	}
	return r.took, nil
}

// rsyncAgain is (c)'s second run over the same mount and dest; it fails
// when rsync transferred any file.
func rsyncAgain(ctx context.Context, timeout time.Duration, mnt, dest string) (time.Duration, error) {
	var stats bytes.Buffer
	r, err := command(ctx, timeout, &stats, "rsync", "-a", "--stats", rsyncSource(mnt), dest+"/")
	if err != nil {
		return r.took, err
	}
	n, err := transferred(stats.String())
	if err == nil && n != 0 {
		err = fmt.Errorf("the second rsync -a transferred %d files, want 0", n)
	}
	return r.took, err
}

// rsyncSource ends in a slash: rsync copies the contents, not the
// directory.
func rsyncSource(mnt string) string {
	return filepath.Join(mnt, filepath.FromSlash(smallPrefix)) + "/"
}

var transferredRE = regexp.MustCompile(`Number of regular files transferred: ([0-9,]+)`)

func transferred(stats string) (int, error) {
	m := transferredRE.FindStringSubmatch(stats)
	if m == nil {
		return 0, fmt.Errorf("no file count in rsync --stats output")
	}
	return strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
}

// sameTree checks that got holds exactly the regular files of want, with
// the same bytes.
func sameTree(want, got string) error {
	n := 0
	err := filepath.WalkDir(want, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, path)
		a, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			return fmt.Errorf("copy incomplete: %w", err)
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("%s differs from the object", rel)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	var extra int
	err = filepath.WalkDir(got, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			extra++
		}
		return err
	})
	if err == nil && extra != n {
		err = fmt.Errorf("copy has %d files, the bucket %d", extra, n)
	}
	return err
}
