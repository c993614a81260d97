package fs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/earthmount/earthmount/backends"
)

// Spool is the local directory where files written through the mount are
// staged until they are uploaded, with a cap on the bytes it holds. A file
// whose upload failed stays there (and keeps counting) until it is
// uploaded or removed.
type Spool struct {
	dir   string
	limit int64

	sidecars atomic.Bool // records are sidecar files: the filesystem has no user xattrs

	mu   sync.Mutex
	used int64      // guarded by mu
	idle []*os.File // emptied spool files to reuse; guarded by mu
}

// NewSpool makes dir (0700) and returns a spool capped at limit bytes.
func NewSpool(dir string, limit int64) (*Spool, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("spool %s: size limit %d must be positive", dir, limit)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{dir: dir, limit: limit}, nil
}

// Dir is the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Leftover is a spool file an earlier mount left: an upload that failed
// (Remote and Key say where it was going), a file still being written when
// earthmount was killed (Partial: never closed, so possibly incomplete,
// never uploaded by itself), or a file of an older version with no record
// (Remote and Key empty).
type Leftover struct {
	Path    string
	Remote  string
	Key     string
	MTime   time.Time
	Partial bool
}

// target is the record of where a spool file goes, so that a later mount
// can resume or name it: the extended attribute user.earthmount.target of
// the spool file (no second file to create and delete per upload), or,
// where the spool's filesystem has no user xattrs, a sidecar file
// "<spool file>.target".
type target struct {
	Remote  string    `json:"remote"`
	Key     string    `json:"key"`
	MTime   time.Time `json:"mtime"`
	Partial bool      `json:"partial,omitempty"`
}

const (
	targetSuffix = ".target"
	targetXattr  = "user.earthmount.target"
)

// keep records where the spool file f goes: partial while it is being
// written (from its creation to its close), complete from its first
// upload attempt on.
func (s *Spool) keep(f *os.File, remote, key string, mtime time.Time, partial bool) error {
	b, err := json.Marshal(target{Remote: remote, Key: key, MTime: mtime, Partial: partial})
	if err != nil {
		return err
	}
	if !s.sidecars.Load() {
		err := unix.Fsetxattr(int(f.Fd()), targetXattr, b, 0)
		if err == nil || !errors.Is(err, unix.ENOTSUP) {
			return err
		}
		s.sidecars.Store(true) // this filesystem keeps no user xattrs
	}
	return os.WriteFile(f.Name()+targetSuffix, b, 0o600)
}

// unkeep drops the record of f after its upload: if the file is written
// again and earthmount dies meanwhile, the next mount must not upload it.
func (s *Spool) unkeep(f *os.File) {
	if s.sidecars.Load() {
		_ = os.Remove(f.Name() + targetSuffix)
		return
	}
	_ = unix.Fremovexattr(int(f.Fd()), targetXattr)
}

// forget removes the sidecar record of the spool file path, if any.
func (s *Spool) forget(path string) {
	if s.sidecars.Load() {
		_ = os.Remove(path + targetSuffix)
	}
}

// record reads the record of the spool file path: its xattr, else its
// sidecar (also what earlier versions wrote).
func record(path string) (target, bool) {
	var t target
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(path, targetXattr, buf)
	if err == nil && json.Unmarshal(buf[:n], &t) == nil {
		return t, true
	}
	b, err := os.ReadFile(path + targetSuffix)
	if err == nil && json.Unmarshal(b, &t) == nil {
		return t, true
	}
	return target{}, false
}

// Leftovers lists the files left by earlier mounts.
func (s *Spool) Leftovers() ([]Leftover, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Leftover
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), targetSuffix) {
			continue
		}
		l := Leftover{Path: filepath.Join(s.dir, e.Name())}
		t, ok := record(l.Path)
		if fi, err := e.Info(); !ok && err == nil && fi.Size() == 0 {
			_ = os.Remove(l.Path) // a recycled file, empty (create)
			continue
		}
		if ok {
			l.Remote, l.Key, l.MTime, l.Partial = t.Remote, t.Key, t.MTime, t.Partial
		}
		out = append(out, l)
	}
	return out, nil
}

// Resume uploads a leftover with w and removes it from the spool.
func (s *Spool) Resume(ctx context.Context, l Leftover, w backends.Writer) (backends.ObjectInfo, error) {
	f, err := os.Open(l.Path)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	info, err := w.Upload(ctx, l.Key, f, st.Size(), l.MTime)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	_ = os.Remove(l.Path + targetSuffix)
	return info, os.Remove(l.Path)
}

// create makes a new, empty spool file.
// create returns an empty spool file: a recycled one, else a new one.
func (s *Spool) create() (*os.File, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		f := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return f, nil
	}
	s.mu.Unlock()
	return os.CreateTemp(s.dir, "upload-*")
}

// maxFree bounds the emptied spool files kept for reuse.
const maxFree = 16

// recycle empties a spool file whose content is done with and keeps it
// for the next file written: cheaper than removing it and creating
// another (cp -r of small files creates one per file). Its record must be
// gone already.
func (s *Spool) recycle(f *os.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.idle) < maxFree && f.Truncate(0) == nil && seekStart(f) == nil {
		s.idle = append(s.idle, f)
		return
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	if s.sidecars.Load() {
		_ = os.Remove(f.Name() + targetSuffix)
	}
}

// reserve accounts for n more bytes, or fails with ENOSPC when the spool
// would outgrow its limit.
func (s *Spool) reserve(n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used+n > s.limit {
		return syscall.ENOSPC
	}
	s.used += n
	return nil
}

// release gives back n bytes.
func (s *Spool) release(n int64) {
	s.mu.Lock()
	s.used -= n
	s.mu.Unlock()
}

// free is what the spool can still take, for statfs.
func (s *Spool) free() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.limit-s.used, 0)
}

// errNoSpace tells whether err is the spool (or its disk) being full.
func errNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }

// seekStart rewinds f: writers at the file offset start at 0 again.
func seekStart(f *os.File) error {
	_, err := f.Seek(0, io.SeekStart)
	return err
}
