package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cache"
)

// Namespace changes on writable remotes. Directories exist in object
// stores only as key prefixes: mkdir uploads an empty marker object
// "dir/" so that an empty directory survives, and rmdir removes it once
// the directory is empty. Renaming a directory copies every object below
// it (dirrename.go): done for small trees, refused with EXDEV for big ones.

// writableMode adds the owner's write bit on writable remotes, so that the
// kernel's permission checks let writes through.
func (r *Remote) writableMode(out *fuse.Attr) {
	if r.Writer != nil {
		out.Mode |= 0o200
	}
}

// localChild returns the child called name while it is being written.
func (d *dirNode) localChild(name string) *gofs.Inode {
	ch := d.GetChild(name)
	if ch == nil {
		return nil
	}
	if f, ok := ch.Operations().(*fileNode); ok && f.getLocal() != nil {
		return ch
	}
	return nil
}

func (d *dirNode) create(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	key := d.dir() + name
	n := &fileNode{fsys: d.fsys, remote: d.remote, prefix: d.dir(), name: name}
	n.setInfo(backends.ObjectInfo{Key: key, ModTime: time.Now()})
	ch := d.GetChild(name)
	if ch == nil || ch.StableAttr().Ino != inoFor(d.remote.Name, key) {
		ch = d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: inoFor(d.remote.Name, key)})
	}
	f, ok := ch.Operations().(*fileNode)
	if !ok {
		return nil, nil, 0, syscall.EISDIR
	}
	h, errno := f.openLocal(ctx, syscall.O_TRUNC, true)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	f.attr(ctx, &out.Attr)
	return ch, h, fuse.FOPEN_DIRECT_IO, 0
}

func (d *dirNode) mkdir(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if _, err := d.remote.Meta.Lookup(ctx, d.dir(), name); err == nil {
		return nil, syscall.EEXIST
	}
	key := d.dir() + name + "/"
	if _, err := d.remote.Writer.Upload(ctx, key, bytes.NewReader(nil), 0, time.Now()); err != nil {
		return nil, toErrno(d.fsys.log, "mkdir", d.path(name), err)
	}
	d.remote.Meta.MadeDir(d.dir(), name) // known empty: no lookups in it
	return d.childInode(ctx, cache.Entry{Name: name, Dir: true}, out), 0
}

// entry finds name in this directory: a file being written, or what the
// store has.
func (d *dirNode) entry(ctx context.Context, name string) (cache.Entry, *fileNode, error) {
	var f *fileNode
	if ch := d.GetChild(name); ch != nil {
		f, _ = ch.Operations().(*fileNode)
	}
	if f != nil && f.getLocal() != nil {
		return cache.Entry{Name: name, Info: f.getInfo()}, f, nil
	}
	e, err := d.remote.Meta.Lookup(ctx, d.dir(), name)
	return e, f, err
}

func (d *dirNode) unlink(ctx context.Context, name string) syscall.Errno {
	e, f, err := d.entry(ctx, name)
	if err != nil {
		return toErrno(d.fsys.log, "unlink", d.path(name), err)
	}
	if e.Dir {
		return syscall.EISDIR
	}
	if f != nil {
		if l := f.getLocal(); l != nil {
			l.mu.Lock()
			l.gone = true // open handles keep reading and writing; nothing is uploaded
			l.mu.Unlock()
			if f.takeHeld(l) {
				f.releaseIdle(l) // closed, waiting for a rename: gone now
			}
		}
	}
	if err := d.remote.Writer.Remove(ctx, e.Info.Key); err != nil {
		return toErrno(d.fsys.log, "unlink", d.path(name), err)
	}
	d.remote.times.forget(e.Info.Key)
	d.remote.Meta.Deleted(d.dir(), name)
	return 0
}

func (d *dirNode) rmdir(ctx context.Context, name string) syscall.Errno {
	e, _, err := d.entry(ctx, name)
	if err != nil {
		return toErrno(d.fsys.log, "rmdir", d.path(name), err)
	}
	if !e.Dir {
		return syscall.ENOTDIR
	}
	key := d.dir() + name + "/"
	d.remote.Meta.Invalidate(key, "") // decide on a fresh listing
	batch, err := d.remote.Meta.OpenDir(key).Next(ctx)
	if len(batch) > 0 {
		return syscall.ENOTEMPTY
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return toErrno(d.fsys.log, "rmdir", d.path(name), err)
	}
	if ch := d.GetChild(name); ch != nil && len(ch.Children()) > 0 {
		for _, c := range ch.Children() {
			if f, ok := c.Operations().(*fileNode); ok && f.getLocal() != nil {
				return syscall.ENOTEMPTY // a file in it is being written
			}
		}
	}
	if err := d.remote.Writer.Remove(ctx, key); err != nil {
		return toErrno(d.fsys.log, "rmdir", d.path(name), err)
	}
	d.remote.Meta.Deleted(d.dir(), name)
	d.remote.Meta.Invalidate(key, "")
	return 0
}

func (d *dirNode) rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	nd, ok := newParent.(*dirNode)
	if !ok || nd.remote != d.remote {
		return syscall.EXDEV
	}
	if flags&unix.RENAME_EXCHANGE != 0 {
		return syscall.EINVAL
	}
	e, f, err := d.entry(ctx, name)
	if err != nil {
		return toErrno(d.fsys.log, "rename", d.path(name), err)
	}
	if e.Dir {
		return d.renameDir(ctx, name, nd, newName, flags&unix.RENAME_NOREPLACE != 0) // dirrename.go
	}
	if t, _, err := nd.entry(ctx, newName); err == nil {
		switch {
		case flags&unix.RENAME_NOREPLACE != 0:
			return syscall.EEXIST
		case t.Dir:
			return syscall.EISDIR
		}
	}
	dst := nd.dir() + newName
	var l *localFile
	if f != nil {
		l = f.getLocal()
	}
	info := e.Info
	if l != nil {
		l.mu.Lock()
		notYet := !l.uploaded
		l.mu.Unlock()
		if notYet {
			// Never uploaded (rsync's and many editors' temporary file):
			// a closed one is uploaded to the new key now, as the
			// rename (hold.go); an open one only changes its name, and
			// its close uploads it there.
			done, errno := f.renameHeld(ctx, l, nd.dir(), newName)
			if errno != 0 {
				return errno
			}
			if !done {
				f.moveTo(nd.dir(), newName, dst)
			}
			d.remote.Meta.Deleted(d.dir(), name)
			return 0
		}
	}
	info, err = d.remote.Writer.Rename(ctx, e.Info.Key, dst)
	if err != nil {
		return toErrno(d.fsys.log, "rename", d.path(name), err)
	}
	d.remote.times.forget(e.Info.Key)
	d.remote.times.remember(info)
	d.remote.Meta.Deleted(d.dir(), name)
	d.remote.Meta.Put(nd.dir(), cache.Entry{Name: newName, Info: info})
	if f != nil {
		f.moveTo(nd.dir(), newName, dst)
		f.setInfo(info)
	}
	return 0
}

// moveTo gives the node its new place after a rename.
func (f *fileNode) moveTo(prefix, name, key string) {
	f.nameMu.Lock()
	f.prefix, f.name = prefix, name
	f.nameMu.Unlock()
	f.mu.Lock()
	f.info.Key = key
	f.mu.Unlock()
}
