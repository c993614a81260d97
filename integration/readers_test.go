package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// concurrentReaders reads the file at path with n readers at once and
// checks every byte against want. Half read sequentially from the start
// (cp, cat); the others use ReadAt with different block sizes, each starting
// at a different offset and wrapping around (parallel chunked readers such
// as dask).
func concurrentReaders(t *testing.T, path string, want []byte, n int) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				errs[i] = readSequential(path, want, 32<<10<<(i%6))
			} else {
				start := int64(len(want)) / int64(n) * int64(i)
				errs[i] = readWrapping(path, want, 4<<10<<(i%9), start)
			}
		})
	}
	took := within(t, 3*time.Minute, fmt.Sprintf("%d concurrent readers", n), wg.Wait)
	t.Logf("%d readers of %d MiB took %v", n, len(want)>>20, took.Round(time.Millisecond))
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
	}
}

func readSequential(path string, want []byte, bufSize int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, bufSize)
	var off int
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if off+n > len(want) {
				return fmt.Errorf("read past the end: %d bytes at %d of %d", n, off, len(want))
			}
			if !bytes.Equal(buf[:n], want[off:off+n]) {
				return fmt.Errorf("wrong bytes at offset %d (buffer %d)", off, bufSize)
			}
			off += n
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
	}
	if off != len(want) {
		return fmt.Errorf("read %d bytes, want %d", off, len(want))
	}
	return nil
}

func readWrapping(path string, want []byte, block int, start int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	size := int64(len(want))
	buf := make([]byte, block)
	for done := int64(0); done < size; {
		off := (start + done) % size
		n := min(int64(block), size-off)
		got, err := f.ReadAt(buf[:n], off)
		if err != nil && !(err == io.EOF && int64(got) == n) {
			return fmt.Errorf("ReadAt(%d bytes at %d): %d, %w", n, off, got, err)
		}
		if !bytes.Equal(buf[:n], want[off:off+n]) {
			return fmt.Errorf("wrong bytes in %d bytes at offset %d", n, off)
		}
		done += n
	}
	return nil
}

// checkReadOnly tries every kind of write under the mount and expects EROFS
// for each, and that nothing changed afterwards.
func checkReadOnly(t *testing.T, mountRoot, root, file, emptyDir string) {
	before, err := os.ReadFile(file)
	need(t, err)
	now := time.Now()
	cases := []struct {
		name string
		op   func() error
	}{
		{"create a file", func() error { return os.WriteFile(filepath.Join(root, "new.txt"), []byte("x"), 0o644) }},
		{"open for writing", func() error { return openClose(file, os.O_WRONLY) }},
		{"open for appending", func() error { return openClose(file, os.O_WRONLY|os.O_APPEND) }},
		{"open with O_TRUNC", func() error { return openClose(file, os.O_RDWR|os.O_TRUNC) }},
		{"truncate", func() error { return os.Truncate(file, 0) }},
		{"mkdir", func() error { return os.Mkdir(filepath.Join(root, "newdir"), 0o755) }},
		{"mkdir at the mount root", func() error { return os.Mkdir(filepath.Join(mountRoot, "newremote"), 0o755) }},
		{"remove a file", func() error { return os.Remove(file) }},
		{"remove an empty directory", func() error { return os.Remove(emptyDir) }},
		{"rename", func() error { return os.Rename(file, file+".moved") }},
		{"chmod", func() error { return os.Chmod(file, 0o600) }},
		{"set times", func() error { return os.Chtimes(file, now, now) }},
		{"symlink", func() error { return os.Symlink("x", filepath.Join(root, "link")) }},
		{"hard link", func() error { return os.Link(file, filepath.Join(root, "hardlink")) }},
		{"set an xattr", func() error { return unix.Setxattr(file, "user.earthmount-test", []byte("1"), 0) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			within(t, 30*time.Second, c.name, func() { err = c.op() })
			if !errors.Is(err, syscall.EROFS) {
				t.Errorf("%s: error %v, want EROFS", c.name, err)
			}
		})
	}
	after, err := os.ReadFile(file)
	need(t, err)
	if !bytes.Equal(before, after) {
		t.Errorf("%s changed after the write attempts", file)
	}
	for _, name := range []string{"new.txt", "newdir", "link", "hardlink"} {
		if _, err := os.Lstat(filepath.Join(root, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: Lstat after the write attempts: %v, want not exist", name, err)
		}
	}
}

func openClose(path string, flag int) error {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return err
	}
	return f.Close()
}
