package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/earthmount/earthmount/cache"
)

// filesystem is what every node of one mount shares.
type filesystem struct {
	opts    Options
	log     *slog.Logger
	started time.Time
	ctx     context.Context // owns background uploads (hold.go)
	held    holds           // uploads waiting for a rename
	// directMmap: the kernel maps files opened with direct I/O, so
	// NetCDF/HDF5 files may be (file.go).
	directMmap atomic.Bool
}

// Server is a mounted filesystem.
type Server struct {
	srv  *fuse.Server
	dir  string
	fsys *filesystem
}

// Wait blocks until the filesystem is unmounted, then uploads the files
// still waiting for a rename (hold.go).
func (s *Server) Wait() {
	s.srv.Wait()
	s.fsys.held.flush(s.fsys.ctx)
}

// Unmount uploads the files waiting for a rename, then detaches the
// filesystem. Programs with files open in it get errors from then on.
func (s *Server) Unmount() error {
	s.fsys.held.flush(s.fsys.ctx)
	return s.srv.Unmount()
}

// Mount mounts the remotes on dir and returns once the kernel serves it.
func Mount(dir string, opts Options) (*Server, error) {
	if len(opts.Remotes) == 0 {
		return nil, errors.New("fs: no remote to mount")
	}
	if opts.Single && len(opts.Remotes) != 1 {
		return nil, errors.New("fs: a single-remote mount needs exactly one remote")
	}
	if opts.Cache == nil {
		return nil, errors.New("fs: no cache")
	}
	if opts.AttrTTL == 0 {
		opts.AttrTTL = DefaultAttrTTL
	}
	if opts.NegativeTTL == 0 {
		opts.NegativeTTL = DefaultNegativeTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.UID == 0 && opts.GID == 0 {
		opts.UID, opts.GID = uint32(os.Getuid()), uint32(os.Getgid())
	}
	writable := false
	for _, r := range opts.Remotes {
		writable = writable || r.Writer != nil
	}
	if writable && opts.Spool == nil {
		return nil, errors.New("fs: a writable remote needs a spool")
	}
	fsys := &filesystem{opts: opts, log: opts.Logger, started: time.Now(), ctx: context.Background()}
	fsys.opts.Remotes = slices.Clone(opts.Remotes) // the nodes point into it
	for i := range fsys.opts.Remotes {
		rem := &fsys.opts.Remotes[i]
		rem.ahead = cache.NewTreeAhead(opts.Cache, rem.Meta, rem.Source, rem.Name)
		rem.zarr = cache.NewZarr(opts.Cache, rem.Meta, rem.Source, rem.Name)
		if rem.Writer != nil {
			rem.times = newMtimes()
		}
	}

	var root gofs.InodeEmbedder
	if opts.Single {
		rem := &fsys.opts.Remotes[0]
		root = &dirNode{fsys: fsys, remote: rem, prefix: rem.Prefix}
	} else {
		root = &rootNode{fsys: fsys}
	}

	attrTTL, negTTL := opts.AttrTTL, opts.NegativeTTL
	mo := fuse.MountOptions{
		FsName:     "earthmount",
		Name:       "earthmount",
		AllowOther: opts.AllowOther,
		Debug:      opts.DebugFUSE,
		Logger:     slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		// Read-only until writes exist: the kernel refuses changes itself.
		Options:          []string{"ro", "default_permissions"},
		DirectMount:      true,
		DirectMountFlags: syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_RDONLY,
		// 1 MiB reads (the kernel's max_pages limit here is 256 pages)
		// cut the FUSE round trips of a sequential read by 8 against the
		// 128 KiB default; the chunk cache serves them from memory. The
		// kernel only sends them once read-ahead allows (readahead_linux.go).
		MaxWrite:     1 << 20,
		MaxReadAhead: 1 << 20,
		// Kernel read-ahead and parallel readers (dask, 16 threads of cp)
		// issue many async reads at once; the default of 12 serialises them.
		MaxBackground: 64,
		// File locks stay in the kernel (EnableLocks off): it grants
		// flock and fcntl locks on the mount locally, which is all a
		// read-only mount needs, and HDF5 (netCDF4, h5py) locks every
		// file it opens and fails where locking is refused.
		EnableLocks:          false,
		DisableXAttrs:        false,
		IgnoreSecurityLabels: true,
		// NetCDF/HDF5 files are opened with direct I/O (file.go); this
		// lets programs still mmap them (xarray's scipy engine maps
		// NetCDF-3 files). Kernels before 6.6 do not offer it; then
		// those files keep the page cache.
		ExtraCapabilities: fuse.CAP_DIRECT_IO_ALLOW_MMAP,
	}
	// Kernel caches (measurements in zarr-access.md §2.1 and §4):
	//   - Negative entries live NegativeTTL (30 s): zarr stats every chunk
	//     before reading it, a missing chunk is one LOOKUP answered ENOENT
	//     (zarr 2.15+ stats twice, dask tasks repeat it), and shells and
	//     Python probe for names all the time. Meta answers the first
	//     LOOKUP from the directory's listing; the kernel answers the
	//     repeats without a FUSE round trip.
	//   - Pages: file.go returns FOPEN_KEEP_CACHE when a file is opened
	//     again at the version of its previous open. Without it every open
	//     drops the file's pages, and xarray's three reads of time/0 and
	//     netCDF-c's open-sniff-close-reopen went to the filesystem again.
	if writable {
		// Read-only remotes still refuse changes, in their nodes (EROFS).
		mo.Options = []string{"default_permissions"}
		mo.DirectMountFlags &^= syscall.MS_RDONLY
	}
	// gofs.Mount's steps, with the raw filesystem timed when asked.
	var raw fuse.RawFileSystem = gofs.NewNodeFS(root, &gofs.Options{
		EntryTimeout:    &attrTTL,
		AttrTimeout:     &attrTTL,
		NegativeTimeout: &negTTL,
		UID:             opts.UID,
		GID:             opts.GID,
	})
	if opts.Latency != nil {
		raw = &timedFS{RawFileSystem: raw, record: opts.Latency}
	}
	server, err := fuse.NewServer(raw, dir, &mo)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	fsys.directMmap.Store(server.KernelSettings().Flags64()&fuse.CAP_DIRECT_IO_ALLOW_MMAP != 0)
	setKernelReadAhead(dir, kernelReadAheadKiB, opts.Logger)
	return &Server{srv: server, dir: dir, fsys: fsys}, nil
}

// statfs reports an empty, read-only filesystem: object stores have no
// meaningful capacity, and df should not show a full disk.
func (f *filesystem) statfs(out *fuse.StatfsOut) syscall.Errno {
	out.Bsize = blockSize
	out.Frsize = blockSize
	out.NameLen = 255
	if f.opts.Spool != nil {
		// Writes are limited by what the spool can stage.
		free := uint64(f.opts.Spool.free()) / blockSize
		out.Blocks, out.Bfree, out.Bavail = free, free, free
	}
	return 0
}
