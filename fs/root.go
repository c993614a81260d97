package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// rootNode holds one directory per remote when several are mounted.
type rootNode struct {
	gofs.Inode
	fsys *filesystem
}

var (
	_ gofs.NodeOnAdder    = (*rootNode)(nil)
	_ gofs.NodeGetattrer  = (*rootNode)(nil)
	_ gofs.NodeStatfser   = (*rootNode)(nil)
	_ gofs.NodeGetxattrer = (*rootNode)(nil)
)

func (r *rootNode) OnAdd(ctx context.Context) {
	for i := range r.fsys.opts.Remotes {
		rem := &r.fsys.opts.Remotes[i]
		d := &dirNode{fsys: r.fsys, remote: rem, prefix: rem.Prefix}
		ch := r.NewPersistentInode(ctx, d, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoFor(rem.Name, rem.Prefix)})
		r.AddChild(rem.Name, ch, false)
	}
}

func (r *rootNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.fsys.dirAttr(&out.Attr, 1)
	return 0
}

func (r *rootNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return r.fsys.statfs(out)
}

func (r *rootNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}
