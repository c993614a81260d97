package fs

import (
	"context"
	"strings"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/earthmount/earthmount/cache"
)

// dirNode is a directory: a remote's root or a prefix of its keys.
type dirNode struct {
	gofs.Inode
	fsys   *filesystem
	remote *Remote

	mu     sync.Mutex
	prefix string // "" or ends in "/"; a rename changes it; guarded by mu
}

// dir is the directory's key prefix now.
func (d *dirNode) dir() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.prefix
}

// moved gives the node and every node below it their prefix after a
// rename of the directory from the prefix from to the prefix to.
func (d *dirNode) moved(from, to string) {
	d.mu.Lock()
	d.prefix = to + strings.TrimPrefix(d.prefix, from)
	d.mu.Unlock()
	for _, c := range d.Children() {
		switch n := c.Operations().(type) {
		case *dirNode:
			n.moved(from, to)
		case *fileNode:
			prefix, name := n.key()
			prefix = to + strings.TrimPrefix(prefix, from)
			n.moveTo(prefix, name, prefix+name)
		}
	}
}

var (
	_ gofs.NodeLookuper       = (*dirNode)(nil)
	_ gofs.NodeOpendirHandler = (*dirNode)(nil)
	_ gofs.NodeGetattrer      = (*dirNode)(nil)
	_ gofs.NodeStatfser       = (*dirNode)(nil)
	_ gofs.NodeGetxattrer     = (*dirNode)(nil)
	_ gofs.NodeSetattrer      = (*dirNode)(nil)
	_ gofs.NodeCreater        = (*dirNode)(nil)
	_ gofs.NodeMkdirer        = (*dirNode)(nil)
	_ gofs.NodeUnlinker       = (*dirNode)(nil)
	_ gofs.NodeRmdirer        = (*dirNode)(nil)
	_ gofs.NodeRenamer        = (*dirNode)(nil)
	_ gofs.NodeSymlinker      = (*dirNode)(nil)
	_ gofs.NodeMknoder        = (*dirNode)(nil)
	_ gofs.NodeLinker         = (*dirNode)(nil)
)

func (d *dirNode) path(name string) string {
	p := d.remote.Name + ":" + d.dir()
	if name != "" {
		p += name
	}
	return p
}

func (d *dirNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fsys.dirAttr(&out.Attr, d.StableAttr().Ino)
	d.remote.writableMode(&out.Attr)
	return 0
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if ch := d.localChild(name); ch != nil {
		ch.Operations().(*fileNode).attr(ctx, &out.Attr)
		return ch, 0 // being written: not in the store yet
	}
	if d.remote.Writer == nil {
		// A store's listing starts with its lookup. Writable remotes wait
		// for the lookup's answer (Found): rsync looks up names it creates.
		d.remote.zarr.Looking(d.dir(), name)
	}
	e, err := d.remote.Meta.Lookup(ctx, d.dir(), name)
	if err != nil {
		return nil, toErrno(d.fsys.log, "lookup", d.path(name), err)
	}
	d.remote.zarr.Found(d.dir(), e) // a Zarr document makes this a store
	return d.childInode(ctx, e, out), 0
}

// childInode returns the inode for entry e, reusing a known child so that
// a node's identity (and the kernel's cached pages) survives new lookups.
func (d *dirNode) childInode(ctx context.Context, e cache.Entry, out *fuse.EntryOut) *gofs.Inode {
	if e.Dir {
		key := d.dir() + e.Name + "/"
		ino := inoFor(d.remote.Name, key)
		d.fsys.dirAttr(&out.Attr, ino)
		d.remote.writableMode(&out.Attr)
		if ch := d.GetChild(e.Name); ch != nil && ch.StableAttr().Ino == ino {
			return ch
		}
		n := &dirNode{fsys: d.fsys, remote: d.remote, prefix: key}
		return d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino})
	}
	ino := inoFor(d.remote.Name, e.Info.Key)
	e.Info = d.remote.entryModTime(ctx, d.dir(), e)
	d.fsys.fileAttr(&out.Attr, ino, e.Info)
	d.remote.writableMode(&out.Attr)
	if ch := d.GetChild(e.Name); ch != nil && ch.StableAttr().Ino == ino {
		if f, ok := ch.Operations().(*fileNode); ok {
			if f.attrLocal(&out.Attr) {
				return ch // being written: its staged content wins
			}
			f.setInfo(e.Info)
			return ch
		}
	}
	f := &fileNode{fsys: d.fsys, remote: d.remote, prefix: d.dir(), name: e.Name}
	f.setInfo(e.Info)
	return d.NewInode(ctx, f, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: ino})
}

func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	return &dirHandle{dir: d, reader: d.remote.Meta.OpenDir(d.dir())}, 0, 0
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.fsys.statfs(out)
}

// Getxattr answers ENODATA without a request: ls and cp ask for ACLs and
// security labels on every file, and object stores keep none.
func (d *dirNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

// Changes on a read-only remote are refused here (and, when no remote of
// the mount is writable, by the read-only mount flag too). Writable
// remotes: write.go. Directories have no attributes to change: chmod,
// chown and utimes on them are accepted and ignored.
func (d *dirNode) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if d.remote.Writer == nil {
		return syscall.EROFS
	}
	if _, ok := in.GetSize(); ok {
		return syscall.EISDIR
	}
	return d.Getattr(ctx, f, out)
}

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if d.remote.Writer == nil {
		return nil, nil, 0, syscall.EROFS
	}
	return d.create(ctx, name, out)
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.remote.Writer == nil {
		return nil, syscall.EROFS
	}
	return d.mkdir(ctx, name, out)
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if d.remote.Writer == nil {
		return syscall.EROFS
	}
	return d.unlink(ctx, name)
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if d.remote.Writer == nil {
		return syscall.EROFS
	}
	return d.rmdir(ctx, name)
}

func (d *dirNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if d.remote.Writer == nil {
		return syscall.EROFS
	}
	return d.rename(ctx, name, newParent, newName, flags)
}

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
func (d *dirNode) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
func (d *dirNode) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
