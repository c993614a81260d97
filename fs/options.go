package fs

import (
	"context"
	"log/slog"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cache"
)

// WriteStore is what a writable remote needs of its store: the writes,
// and Stat, which reads the mtime metadata that listings do not carry.
type WriteStore interface {
	backends.Writer
	Stat(ctx context.Context, key string) (backends.ObjectInfo, error)
}

// Remote is one configured remote as the filesystem sees it.
type Remote struct {
	// Name is the remote's name: the top-level directory when several
	// remotes are mounted together, and the label in logs.
	Name string
	// Prefix is the mounted subtree ("" or ending in "/"), from REMOTE:PATH.
	Prefix string
	// Meta answers listings and lookups.
	Meta *cache.Meta
	// Source reads object bytes through the chunk cache.
	Source cache.Source
	// Writer, when set, makes the remote writable (config read_only:
	// false); nil keeps it read-only, every change refused with EROFS.
	Writer WriteStore

	ahead *cache.TreeAhead // set by Mount: fetches the next files of a walked directory
	times *mtimes          // set by Mount for writable remotes: mtime metadata by version
	zarr  *cache.Zarr      // set by Mount: Zarr store detection and chunk prediction
}

// Options configures a mount. Zero durations take the defaults below.
type Options struct {
	// Remotes to mount. With Single, there must be exactly one and its
	// Prefix becomes the mount's root; otherwise each remote is a
	// directory of the root.
	Remotes []Remote
	Single  bool

	// Cache serves every file read; it holds the one byte budget.
	Cache *cache.Cache
	// Spool stages files written through the mount until they are
	// uploaded; required when any remote has a Writer.
	Spool *Spool

	// AttrTTL is how long the kernel trusts entries and attributes.
	AttrTTL time.Duration
	// NegativeTTL is how long the kernel trusts "no such file".
	NegativeTTL time.Duration

	AllowOther bool
	DebugFUSE  bool
	// UID and GID own every file; default the mounting user.
	UID, GID uint32

	// Latency, when set, hears how long each FUSE operation took, by
	// operation ("lookup", "read", ...): the metrics' histogram.
	Latency func(op string, d time.Duration)

	Logger *slog.Logger
}

// Defaults suited to read-mostly science data: datasets change rarely, and
// every kernel revalidation of a path costs a FUSE round trip.
const (
	DefaultAttrTTL     = time.Minute
	DefaultNegativeTTL = 30 * time.Second
)
