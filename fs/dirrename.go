package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/cache"
)

// Directory renames. Object stores have no directories: renaming one
// copies every object below it server-side and deletes the originals. Up
// to maxDirRename objects this is done (renameParallel at a time); a
// bigger tree is refused with EXDEV, and mv then copies and deletes file
// by file itself. Not atomic: a failure half-way leaves some objects
// under each name (EIO, logged), as a failed mv across filesystems does.
const (
	maxDirRename   = 1000
	renameParallel = 16
)

// renameDir moves the directory name of d to newName in nd.
func (d *dirNode) renameDir(ctx context.Context, name string, nd *dirNode, newName string, noReplace bool) syscall.Errno {
	src, dst := d.dir()+name+"/", nd.dir()+newName+"/"
	if strings.HasPrefix(dst, src) {
		return syscall.EINVAL // into itself
	}
	if t, _, err := nd.entry(ctx, newName); err == nil {
		switch {
		case noReplace:
			return syscall.EEXIST
		case !t.Dir:
			return syscall.ENOTDIR
		}
		nd.remote.Meta.Invalidate(dst, "")
		if batch, err := nd.remote.Meta.OpenDir(dst).Next(ctx); len(batch) > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return syscall.ENOTEMPTY
		}
	}
	if ch := d.GetChild(name); ch != nil && writing(ch) {
		return syscall.EBUSY // a file below is being written
	}
	d.remote.Meta.InvalidateTree(src) // decide on fresh listings
	keys, dirs, err := d.treeKeys(ctx, src)
	if err != nil {
		return toErrno(d.fsys.log, "rename", d.path(name), err)
	}
	if len(keys) > maxDirRename {
		return syscall.EXDEV
	}
	w := d.remote.Writer
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(renameParallel)
	for _, k := range keys {
		g.Go(func() error {
			_, err := w.Rename(gctx, k, dst+strings.TrimPrefix(k, src))
			return err
		})
	}
	// Markers keep (possibly empty) directories: one per directory moved.
	for _, dir := range dirs {
		g.Go(func() error {
			to := dst + strings.TrimPrefix(dir, src)
			if _, err := w.Upload(gctx, to, bytes.NewReader(nil), 0, time.Now()); err != nil {
				return err
			}
			return w.Remove(gctx, dir)
		})
	}
	err = g.Wait()
	d.remote.Meta.InvalidateTree(src)
	d.remote.Meta.InvalidateTree(dst)
	d.remote.Meta.Deleted(d.dir(), name)
	nd.remote.Meta.Put(nd.dir(), cache.Entry{Name: newName, Dir: true})
	if err != nil {
		d.fsys.log.Error("directory rename failed half-way; objects may be under both names", "from", d.path(name), "to", nd.path(newName), "err", err)
		return toErrno(d.fsys.log, "rename", d.path(name), err)
	}
	// The kernel keeps the moved node: it and the nodes below it take
	// their new keys.
	if ch := d.GetChild(name); ch != nil {
		if n, ok := ch.Operations().(*dirNode); ok {
			n.moved(src, dst)
		}
	}
	return 0
}

// treeKeys lists the objects below prefix (at most maxDirRename+1) and
// the directories, prefix included.
func (d *dirNode) treeKeys(ctx context.Context, prefix string) (keys, dirs []string, err error) {
	dirs = []string{prefix}
	for i := 0; i < len(dirs) && len(keys) <= maxDirRename; i++ {
		r := d.remote.Meta.OpenDir(dirs[i])
		for {
			batch, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			for _, e := range batch {
				if e.Dir {
					dirs = append(dirs, dirs[i]+e.Name+"/")
				} else {
					keys = append(keys, e.Info.Key)
				}
			}
		}
	}
	return keys, dirs, nil
}

// writing reports whether a file at or below the inode is being written.
func writing(n *gofs.Inode) bool {
	if f, ok := n.Operations().(*fileNode); ok {
		return f.getLocal() != nil
	}
	for _, c := range n.Children() {
		if writing(c) {
			return true
		}
	}
	return false
}
