package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cache"
)

// localFile is the staged content of a file being written: a spool file,
// uploaded whole on flush (close) and fsync. Every open of the node shares
// it while any is open; the last release removes it once uploaded.
type localFile struct {
	spool *Spool

	mu       sync.Mutex
	f        *os.File      // guarded by mu
	size     int64         // guarded by mu; bytes reserved in the spool
	mtime    time.Time     // guarded by mu
	dirty    bool          // changed since the last upload; guarded by mu
	uploaded bool          // an upload of this content succeeded once; guarded by mu
	broken   syscall.Errno // a write failed: never upload a partial file; guarded by mu
	gone     bool          // unlinked while open: never upload; guarded by mu
	held     bool          // closed, upload waiting for a rename (hold.go); guarded by mu
	timer    *time.Timer   // uploads a held file whose rename does not come; guarded by mu
	refs     int           // open handles; guarded by node.mu
}

func newLocalFile(sp *Spool) (*localFile, error) {
	f, err := sp.create()
	if err != nil {
		return nil, err
	}
	return &localFile{spool: sp, f: f, mtime: time.Now()}, nil
}

// truncate sets the size, reserving or giving back spool space.
// LOCKS_REQUIRED(l.mu)
func (l *localFile) truncateLocked(size int64) error {
	if size > l.size {
		if err := l.spool.reserve(size - l.size); err != nil {
			return err
		}
	} else {
		l.spool.release(l.size - size)
	}
	if err := l.f.Truncate(size); err != nil {
		return err
	}
	l.size, l.dirty, l.mtime = size, true, time.Now()
	return nil
}

// discard closes and removes the spool file.
// LOCKS_REQUIRED(l.mu)
func (l *localFile) discardLocked() {
	l.spool.release(l.size)
	l.size = 0
	l.spool.unkeep(l.f)
	l.spool.recycle(l.f)
}

// getLocal returns the staged content while the node is being written.
func (f *fileNode) getLocal() *localFile {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.local
}

// attrLocal fills out from the staged content when the node is being
// written, and reports whether it did.
func (f *fileNode) attrLocal(out *fuse.Attr) bool {
	l := f.getLocal()
	if l == nil {
		return false
	}
	info := f.getInfo()
	l.mu.Lock()
	info.Size, info.ModTime = l.size, l.mtime
	l.mu.Unlock()
	f.fsys.fileAttr(out, f.StableAttr().Ino, info)
	f.remote.writableMode(out)
	return true
}

// attr fills out with the node's current attributes.
func (f *fileNode) attr(ctx context.Context, out *fuse.Attr) {
	if !f.attrLocal(out) {
		f.fsys.fileAttr(out, f.StableAttr().Ino, f.getInfo())
		f.remote.writableMode(out)
	}
}

// key is the node's store key now (rename changes it).
func (f *fileNode) key() (prefix, name string) {
	f.nameMu.Lock()
	defer f.nameMu.Unlock()
	return f.prefix, f.name
}

// openLocal opens the staged content: always for writing, and for reading
// while the node is being written. It returns no handle and no error when
// a read-only open should read the store.
func (f *fileNode) openLocal(ctx context.Context, flags uint32, writing bool) (gofs.FileHandle, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.local
	if l == nil && !writing {
		return nil, 0
	}
	if l == nil {
		var err error
		if l, err = newLocalFile(f.fsys.opts.Spool); err != nil {
			return nil, toErrno(f.fsys.log, "open", f.path(), err)
		}
		l.mu.Lock()
		if flags&syscall.O_TRUNC != 0 {
			l.dirty = true
		} else if errno := f.fillLocked(ctx, l); errno != 0 {
			l.discardLocked()
			l.mu.Unlock()
			return nil, errno
		}
		// Named now, so that a restart after a crash can tell the user
		// which file this was (it is not uploaded: it may be incomplete).
		if err := l.spool.keep(l.f, f.remote.Name, f.info.Key, l.mtime, true); err != nil {
			f.fsys.log.Warn("cannot record where a spool file goes", "spool_file", l.f.Name(), "err", err)
		}
		l.mu.Unlock()
		f.local = l
	} else if flags&syscall.O_TRUNC != 0 {
		l.mu.Lock()
		err := l.truncateLocked(0)
		l.broken = 0 // a fresh start
		l.mu.Unlock()
		if err != nil {
			return nil, toErrno(f.fsys.log, "open", f.path(), err)
		}
	}
	l.refs++
	return &writeHandle{node: f, local: l}, 0
}

// fillLocked copies the object's current content into l, for a write
// that does not truncate (append, or changes in place).
func (f *fileNode) fillLocked(ctx context.Context, l *localFile) syscall.Errno {
	info := f.info
	if err := l.spool.reserve(info.Size); err != nil {
		return syscall.ENOSPC
	}
	l.size, l.mtime, l.uploaded = info.Size, info.ModTime, true
	r := f.fsys.opts.Cache.Open(f.remote.Source, f.remote.Name, info)
	defer r.Close()
	_, err := io.Copy(io.NewOffsetWriter(l.f, 0), io.NewSectionReader(readerAt{ctx, r}, 0, info.Size))
	if err != nil {
		return toErrno(f.fsys.log, "open", f.path(), err)
	}
	return 0
}

// readerAt adapts a cache.Reader to io.ReaderAt for one request.
type readerAt struct {
	ctx context.Context
	r   *cache.Reader
}

func (r readerAt) ReadAt(p []byte, off int64) (int, error) { return r.r.ReadAt(r.ctx, p, off) }

// upload sends the staged content, when it changed, to prefix+name (the
// node's name, or its new name in a rename). A failure keeps the spool
// file and is reported as EIO (with a log line naming the file).
func (f *fileNode) upload(ctx context.Context, l *localFile, prefix, name string) syscall.Errno {
	info, sent, errno := f.send(ctx, l, prefix, name)
	if sent {
		// After l.mu: the lock order is f.mu, then l.mu, and the
		// caches take f.mu.
		f.uploaded(prefix, name, info)
	}
	return errno
}

// send uploads l under l.mu when it changed, and reports whether it did.
func (f *fileNode) send(ctx context.Context, l *localFile, prefix, name string) (backends.ObjectInfo, bool, syscall.Errno) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.broken != 0:
		return backends.ObjectInfo{}, false, l.broken // the content is incomplete: nothing is uploaded
	case !l.dirty || l.gone:
		return backends.ObjectInfo{}, false, 0
	}
	// Recorded before the upload: if this process dies during it, the
	// next mount resumes it.
	if kerr := l.spool.keep(l.f, f.remote.Name, prefix+name, l.mtime, false); kerr != nil {
		f.fsys.log.Warn("cannot record where a spool file goes", "spool_file", l.f.Name(), "err", kerr)
	}
	info, err := f.remote.Writer.Upload(ctx, prefix+name, l.f, l.size, l.mtime)
	if err != nil {
		f.fsys.log.Error("upload failed; the content stays in the spool", "path", f.path(), "spool_file", l.f.Name(), "err", err)
		if errno := toErrno(f.fsys.log, "upload", f.path(), err); errno == syscall.EINTR || errno == syscall.EROFS || errno == syscall.EACCES {
			return backends.ObjectInfo{}, false, errno
		}
		return backends.ObjectInfo{}, false, syscall.EIO
	}
	l.dirty, l.uploaded, l.held = false, true, false
	l.spool.unkeep(l.f)
	return info, true, 0
}

// uploaded records a new version of the node in every cache.
func (f *fileNode) uploaded(prefix, name string, info backends.ObjectInfo) {
	f.setInfo(info)
	f.remote.times.remember(info)
	f.remote.Meta.Put(prefix, cache.Entry{Name: name, Info: info})
}

// setattr changes size (truncate) and mtime; mode and owner changes are
// accepted and ignored: object stores keep neither.
func (f *fileNode) setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	size, hasSize := in.GetSize()
	mtime, hasMtime := in.GetMTime()
	if hasSize {
		if errno := f.truncate(ctx, int64(size)); errno != 0 {
			return errno
		}
	}
	if hasMtime {
		if l := f.getLocal(); l != nil {
			l.mu.Lock()
			l.mtime = mtime
			clean := !l.dirty
			l.mu.Unlock()
			if clean { // uploaded already: record it there too
				if errno := f.setModTime(ctx, mtime); errno != 0 {
					return errno
				}
			}
		} else if errno := f.setModTime(ctx, mtime); errno != 0 {
			return errno
		}
	}
	f.attr(ctx, &out.Attr)
	return 0
}

// truncate changes the size of the staged content; a file not open for
// writing (truncate(2)) is staged, changed and uploaded at once.
func (f *fileNode) truncate(ctx context.Context, size int64) syscall.Errno {
	if l := f.getLocal(); l != nil {
		l.mu.Lock()
		err := l.truncateLocked(size)
		l.mu.Unlock()
		return toErrno(f.fsys.log, "truncate", f.path(), err)
	}
	h, errno := f.openLocal(ctx, 0, true)
	if errno != 0 {
		return errno
	}
	wh := h.(*writeHandle)
	defer wh.Release(ctx)
	wh.local.mu.Lock()
	err := wh.local.truncateLocked(size)
	wh.local.mu.Unlock()
	if err != nil {
		wh.local.mu.Lock()
		wh.local.broken = syscall.EIO
		wh.local.mu.Unlock()
		return toErrno(f.fsys.log, "truncate", f.path(), err)
	}
	return wh.Flush(ctx)
}

// setModTime stores mtime in the object's metadata (no re-upload).
func (f *fileNode) setModTime(ctx context.Context, mtime time.Time) syscall.Errno {
	prefix, name := f.key()
	key := f.getInfo().Key
	if key == "" {
		key = prefix + name
	}
	info, err := f.remote.Writer.SetModTime(ctx, key, mtime)
	if err != nil {
		return toErrno(f.fsys.log, "utimes", f.path(), err)
	}
	info.ModTime = mtime
	f.uploaded(prefix, name, info)
	return 0
}

// writeHandle is one open of a file being written (or read while it is).
type writeHandle struct {
	node  *fileNode
	local *localFile
}

var (
	_ gofs.FileReader    = (*writeHandle)(nil)
	_ gofs.FileWriter    = (*writeHandle)(nil)
	_ gofs.FileFlusher   = (*writeHandle)(nil)
	_ gofs.FileFsyncer   = (*writeHandle)(nil)
	_ gofs.FileReleaser  = (*writeHandle)(nil)
	_ gofs.FileGetattrer = (*writeHandle)(nil)
)

func (h *writeHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	l := h.local
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.f.ReadAt(dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, toErrno(h.node.fsys.log, "read", h.node.path(), err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *writeHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	l := h.local
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != 0 {
		return 0, l.broken
	}
	if end := off + int64(len(data)); end > l.size {
		if err := l.spool.reserve(end - l.size); err != nil {
			h.node.fsys.log.Warn("spool full; the file will not be uploaded", "path", h.node.path(), "spool", l.spool.Dir())
			l.broken = syscall.ENOSPC
			// It will never be uploaded: give its spool space back now,
			// not at the release, which the kernel sends some time after
			// close returns (the next file written would find the spool
			// still full).
			if l.f.Truncate(0) == nil {
				l.spool.release(l.size)
				l.size = 0
			}
			return 0, syscall.ENOSPC
		}
		l.size = end
	}
	n, err := l.f.WriteAt(data, off)
	l.dirty, l.mtime = true, time.Now()
	if err != nil {
		l.broken = syscall.EIO
		if errNoSpace(err) {
			l.broken = syscall.ENOSPC
		}
		h.node.fsys.log.Warn("writing to the spool failed; the file will not be uploaded", "path", h.node.path(), "err", err)
		return uint32(n), l.broken
	}
	return uint32(n), 0
}

// Flush runs at every close(2): the content is uploaded then, so that
// close reports a failed upload; rsync's temporary files wait for their
// rename instead (hold.go).
func (h *writeHandle) Flush(ctx context.Context) syscall.Errno {
	if h.node.hold(h.local) {
		return 0
	}
	prefix, name := h.node.key()
	return h.node.upload(ctx, h.local, prefix, name)
}

func (h *writeHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	prefix, name := h.node.key()
	return h.node.upload(ctx, h.local, prefix, name)
}

func (h *writeHandle) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	h.node.attr(ctx, &out.Attr)
	return 0
}

// Release drops the staged content after the last handle closes, unless
// its upload failed (then it stays in the spool for the user) or waits
// for a rename (hold.go).
func (h *writeHandle) Release(ctx context.Context) syscall.Errno {
	f := h.node
	l := h.local
	f.mu.Lock()
	if l.refs--; l.refs > 0 {
		f.mu.Unlock()
		return 0
	}
	l.mu.Lock()
	if f.local == l && f.armHeldLocked(l) {
		l.mu.Unlock()
		f.mu.Unlock()
		if _, name := f.key(); !heldName(name) {
			// Renamed while still open (the kernel may send the
			// release after the rename): upload to the new name now.
			f.uploadHeld(f.fsys.ctx, l)
		}
		return 0
	}
	if f.local == l {
		f.local = nil
	}
	f.closeLocalLocked(l)
	l.mu.Unlock()
	f.mu.Unlock()
	return 0
}
