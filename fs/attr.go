package fs

import (
	"hash/fnv"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/earthmount/earthmount/backends"
)

// inoFor derives a stable inode number from the remote and the key (dir
// keys end in "/"), so every lookup of a path finds the same node.
func inoFor(remote, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(remote))
	h.Write([]byte{0})
	h.Write([]byte(key))
	ino := h.Sum64()
	if ino <= 1 { // 1 is the root
		ino += 2
	}
	return ino
}

const (
	dirMode  = syscall.S_IFDIR | 0o555
	fileMode = syscall.S_IFREG | 0o444
	// blockSize is reported to programs as the preferred I/O size: cp and
	// rsync read in st_blksize units, and larger reads mean fewer FUSE
	// round trips.
	blockSize = 1 << 20
)

func (f *filesystem) dirAttr(out *fuse.Attr, ino uint64) {
	out.Ino = ino
	out.Mode = dirMode
	out.Nlink = 2
	out.Size = 4096
	out.Blksize = blockSize
	f.setTimes(out, f.started)
	out.Owner = fuse.Owner{Uid: f.opts.UID, Gid: f.opts.GID}
}

func (f *filesystem) fileAttr(out *fuse.Attr, ino uint64, info backends.ObjectInfo) {
	out.Ino = ino
	out.Mode = fileMode
	out.Nlink = 1
	out.Size = uint64(info.Size)
	out.Blocks = (uint64(info.Size) + 511) / 512
	out.Blksize = blockSize
	t := info.ModTime
	if t.IsZero() {
		t = f.started
	}
	f.setTimes(out, t)
	out.Owner = fuse.Owner{Uid: f.opts.UID, Gid: f.opts.GID}
}

func (f *filesystem) setTimes(out *fuse.Attr, t time.Time) {
	out.SetTimes(&t, &t, &t)
}
