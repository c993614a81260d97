package cache

import (
	"fmt"
	"log/slog"
	"time"
)

// DefaultChunkSize is the unit of fetching, caching and read-ahead.
//
// 8 MiB is the part size Mountpoint for S3 and the AWS CRT settled on for
// throughput, gcsfuse's chunk cache uses the same, and HDF5/NetCDF block
// caches see 1-8 MiB as the sweet spot (zarr-access.md §0.8). Against a
// 20 ms round trip one 8 MiB GET spends most of its time moving bytes, not
// waiting, so a handful in flight saturate a link; the kernel's 128 KiB
// FUSE reads then hit memory 64 times per fetch. Smaller chunks cost more
// requests per GiB (Ceph RGW and OSN rate-limit per request); larger ones
// over-read on random access and make the budget coarser. Most Zarr chunk
// objects (0.5-50 MB) are fetched whole in one or a few requests.
// TODO(lead): confirm with the benchmark of issue 2 (keep it one constant).
const DefaultChunkSize = 8 << 20

// DefaultMaxInflight bounds concurrent backend fetches over all readers.
// Memory is bounded by the budget anyway; this bounds connections and
// keeps a busy mount from tripping the store's per-client throttling.
const DefaultMaxInflight = 32

// DefaultFetchTimeout bounds one chunk fetch (after it got a connection
// slot). Generous: 8 MiB over a slow 100 KB/s link takes 80 s, and the
// stores retry transient errors inside it.
const DefaultFetchTimeout = 2 * time.Minute

// maxWindow caps the read-ahead window of one Reader, in chunks (128 MiB
// at 8 MiB chunks): enough in flight to saturate a link at 20 ms RTT.
const maxWindow = 16

// entryOverhead is charged to the budget for every chunk besides its
// bytes (map entry, list element, struct), so that many tiny objects
// cannot grow the heap past the budget either.
const entryOverhead = 512

// Options configures a Cache. The zero value of each field picks the
// default named in its comment; Budget is required.
type Options struct {
	// Budget is the byte bound on every cached chunk plus every fetch in
	// flight (demand and read-ahead) plus recycled buffers, over all open
	// readers. It must hold at least one chunk.
	Budget int64
	// ChunkSize is the fetch and cache unit; 0 means DefaultChunkSize.
	ChunkSize int64
	// MaxInflight bounds concurrent backend fetches; 0 means
	// DefaultMaxInflight.
	MaxInflight int
	// FetchTimeout bounds one chunk fetch; 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// normalize fills in defaults and validates.
func (o Options) normalize() (Options, error) {
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.MaxInflight == 0 {
		o.MaxInflight = DefaultMaxInflight
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.ChunkSize < 0:
		return o, fmt.Errorf("cache: chunk size %d is negative", o.ChunkSize)
	case o.MaxInflight < 0:
		return o, fmt.Errorf("cache: max inflight %d is negative", o.MaxInflight)
	case o.FetchTimeout < 0:
		return o, fmt.Errorf("cache: fetch timeout %v is negative", o.FetchTimeout)
	case o.Budget < o.ChunkSize+entryOverhead:
		return o, fmt.Errorf("cache: memory budget %d bytes is smaller than one chunk (%d bytes)", o.Budget, o.ChunkSize+entryOverhead)
	}
	return o, nil
}
