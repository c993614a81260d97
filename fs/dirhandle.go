package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/earthmount/earthmount/cache"
)

// dirHandle streams one directory's entries to the kernel, pulling pages
// from cache.Meta as the kernel asks for more, so a huge directory starts
// showing entries after one listing request.
type dirHandle struct {
	dir *dirNode

	mu      sync.Mutex
	reader  *cache.DirReader // guarded by mu
	pending []cache.Entry    // fetched, not yet returned; guarded by mu
	off     uint64           // entries returned so far; guarded by mu
	last    cache.Entry      // the entry returned last, for READDIRPLUS
	done    bool
}

var (
	_ gofs.FileReaddirenter = (*dirHandle)(nil)
	_ gofs.FileLookuper     = (*dirHandle)(nil)
	_ gofs.FileSeekdirer    = (*dirHandle)(nil)
)

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.pending) == 0 {
		if h.done {
			return nil, 0
		}
		batch, err := h.reader.Next(ctx)
		if errors.Is(err, io.EOF) {
			h.done = true
			continue
		}
		if err != nil {
			return nil, toErrno(h.dir.fsys.log, "readdir", h.dir.path(""), err)
		}
		h.dir.remote.prefetchModTimes(ctx, batch)
		h.pending = batch
	}
	e := h.pending[0]
	h.pending = h.pending[1:]
	h.off++
	h.last = e
	de := &fuse.DirEntry{Name: e.Name, Off: h.off}
	if e.Dir {
		de.Mode = syscall.S_IFDIR
		de.Ino = inoFor(h.dir.remote.Name, h.dir.dir()+e.Name+"/")
	} else {
		de.Mode = syscall.S_IFREG
		de.Ino = inoFor(h.dir.remote.Name, e.Info.Key)
	}
	return de, 0
}

// Lookup serves READDIRPLUS from the entry just listed: the listing already
// carries the attributes, so no request is made.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	h.mu.Lock()
	e := h.last
	h.mu.Unlock()
	if e.Name != name {
		return h.dir.Lookup(ctx, name, out)
	}
	h.dir.remote.zarr.Found(h.dir.dir(), e)
	return h.dir.childInode(ctx, e, out), 0
}

// Seekdir supports rewinding (offset 0) by starting a fresh listing, and
// seeking forward by skipping entries; the kernel only asks for offsets it
// was given.
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	h.mu.Lock()
	if off < h.off {
		h.reader = h.dir.remote.Meta.OpenDir(h.dir.dir())
		h.pending, h.off, h.done = nil, 0, false
	}
	h.mu.Unlock()
	for {
		h.mu.Lock()
		cur := h.off
		h.mu.Unlock()
		if cur >= off {
			return 0
		}
		de, errno := h.Readdirent(ctx)
		if errno != 0 {
			return errno
		}
		if de == nil {
			return 0
		}
	}
}
