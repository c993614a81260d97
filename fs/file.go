package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cache"
)

// fileNode is one object. Its attributes come from the listing or lookup
// that found it, refreshed through cache.Meta; it never sends a HEAD of
// its own.
type fileNode struct {
	gofs.Inode
	fsys   *filesystem
	remote *Remote
	nameMu sync.Mutex // guards prefix and name, which rename changes
	prefix string     // parent directory's prefix
	name   string     // name in the parent (may differ from the key: "a~object")

	mu         sync.Mutex
	info       backends.ObjectInfo // guarded by mu
	lastOpened string              // version at the previous open; guarded by mu
	local      *localFile          // staged content while written; guarded by mu
}

var (
	_ gofs.NodeGetattrer  = (*fileNode)(nil)
	_ gofs.NodeOpener     = (*fileNode)(nil)
	_ gofs.NodeSetattrer  = (*fileNode)(nil)
	_ gofs.NodeGetxattrer = (*fileNode)(nil)
)

func (f *fileNode) setInfo(info backends.ObjectInfo) {
	f.mu.Lock()
	f.info = info
	f.mu.Unlock()
}

func (f *fileNode) getInfo() backends.ObjectInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

func (f *fileNode) path() string {
	prefix, name := f.key()
	return f.remote.Name + ":" + prefix + name
}

// refresh asks cache.Meta for the current attributes. Meta answers from
// its listings until they expire, so this is usually free; when the object
// is gone, the node keeps its last known attributes and the open fails.
func (f *fileNode) refresh(ctx context.Context) (backends.ObjectInfo, error) {
	prefix, name := f.key()
	e, err := f.remote.Meta.Lookup(ctx, prefix, name)
	if err != nil {
		return f.getInfo(), err
	}
	if e.Dir {
		return f.getInfo(), backends.ErrStale
	}
	info := f.remote.entryModTime(ctx, prefix, e)
	f.setInfo(info)
	return info, nil
}

func (f *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*fileHandle); ok {
		// An open file shows the version it is pinned to.
		f.fsys.fileAttr(&out.Attr, f.StableAttr().Ino, h.info)
		f.remote.writableMode(&out.Attr)
		return 0
	}
	if f.attrLocal(&out.Attr) {
		return 0
	}
	info, err := f.refresh(ctx)
	if err != nil && !errors.Is(err, backends.ErrUnavailable) && !errors.Is(err, backends.ErrThrottled) {
		return toErrno(f.fsys.log, "getattr", f.path(), err)
	}
	f.fsys.fileAttr(&out.Attr, f.StableAttr().Ino, info)
	f.remote.writableMode(&out.Attr)
	return 0
}

func (f *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	writing := flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0
	if writing && f.remote.Writer == nil {
		return nil, 0, syscall.EROFS
	}
	if h, errno := f.openLocal(ctx, flags, writing); h != nil || errno != 0 {
		return h, fuse.FOPEN_DIRECT_IO, errno
	}
	info, err := f.refresh(ctx)
	if err != nil {
		return nil, 0, toErrno(f.fsys.log, "open", f.path(), err)
	}
	var fuseFlags uint32
	f.mu.Lock()
	// The kernel may keep the pages it has only when they belong to the
	// same version; without a version, always drop them.
	if info.Version != "" && info.Version == f.lastOpened {
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	}
	f.lastOpened = info.Version
	f.mu.Unlock()
	h := &fileHandle{
		node:   f,
		info:   info,
		reader: f.fsys.opts.Cache.Open(f.remote.Source, f.remote.Name, info),
	}
	if h.reader.Direct() && f.fsys.directMmap.Load() {
		// NetCDF/HDF5: reads reach the cache exactly as the program
		// makes them, without the kernel's read-ahead past each chunk
		// (cache.Reader.Direct); the blocks stay cached in the cache.
		fuseFlags = fuse.FOPEN_DIRECT_IO
	}
	// The first block (a small file whole) and, for NetCDF/HDF5, the last
	// one are fetched now, in parallel, rather than one round trip each
	// as the reads arrive (not when the kernel keeps the pages: it may
	// not read at all). cp -r, rsync and tar open a directory's files in
	// listing order: the next small files are fetched meanwhile.
	if fuseFlags&fuse.FOPEN_KEEP_CACHE == 0 {
		h.reader.StartFetches()
	}
	// Zarr: a store's metadata is parsed and a chunk feeds the predictor,
	// which alone fetches ahead in an array. Tree read-ahead there took
	// dask's blocky orders, which follow the listing for a few chunks
	// (0.0.0, 0.0.1, 0.1.0, 0.1.1, 1.0.0, ...), for a walk: in `a - b` it
	// fetched 164 chunks, a third of them evicted unread. A walk of a
	// store (cp -r) steps by one chunk in C order, which the predictor's
	// stride follows.
	prefix, name := f.key()
	if !f.remote.zarr.Opened(prefix, name, info) {
		f.remote.ahead.Opened(prefix, name, false)
	}
	return h, fuseFlags, 0
}

func (f *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if f.remote.Writer == nil {
		return syscall.EROFS
	}
	return f.setattr(ctx, in, out)
}

func (f *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

// fileHandle is one open of a file, pinned to the version seen at open.
type fileHandle struct {
	node   *fileNode
	info   backends.ObjectInfo
	reader *cache.Reader
}

var (
	_ gofs.FileReader    = (*fileHandle)(nil)
	_ gofs.FileReleaser  = (*fileHandle)(nil)
	_ gofs.FileGetattrer = (*fileHandle)(nil)
)

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.reader.ReadAt(ctx, dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, backends.ErrStale) {
			// The next open must see the new version, not pin this one again.
			h.node.remote.Meta.Invalidate(h.node.key())
		}
		return nil, toErrno(h.node.fsys.log, "read", h.node.path(), err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *fileHandle) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	h.node.fsys.fileAttr(&out.Attr, h.node.StableAttr().Ino, h.info)
	h.node.remote.writableMode(&out.Attr)
	return 0
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	h.reader.Close()
	return 0
}
