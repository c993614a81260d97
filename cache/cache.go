package cache

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/earthmount/earthmount/backends"
)

// Source reads byte ranges of pinned objects; backends.Store satisfies it.
type Source interface {
	ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error)
}

// chunkKey names one chunk of one version of one object. nonce is 0 for
// versioned objects and a per-Reader number for unversioned ones, so that
// their chunks are never shared across opens. block is the chunk size the
// index counts in: Readers of different formats use different sizes
// (blockSize), and chunk 3 of 128 KiB must never answer for chunk 3 of
// 8 MiB.
type chunkKey struct {
	remote, key, version string
	nonce                uint64
	block, index         int64
}

// Cache is the chunk cache shared by every open file of a mount. It is
// safe for concurrent use.
type Cache struct {
	// Constant after New.
	opts      Options
	log       *slog.Logger
	chunkSize int64
	ctx       context.Context // owns every fetch; cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // fetch goroutines
	slots     chan struct{}  // semaphore: one token per fetch talking to a store

	mu sync.Mutex
	// GUARDED_BY(mu):
	lru     *simplelru.LRU[chunkKey, *chunk] // chunks read at least once
	ahead   *simplelru.LRU[chunkKey, *chunk] // prefetched, not read yet (budget.go)
	kept    *simplelru.LRU[chunkKey, *chunk] // head and tail blocks of open HDF5 files (keep.go)
	fetches map[chunkKey]*fetch
	// demandBytes counts bytes copied out to readers; a prefetched chunk
	// not read while it grew by the budget is stale (budget.go).
	demandBytes int64
	acct        accounting
	room        chan struct{} // closed and replaced when bytes are released
	nonce       uint64

	stats counters
}

// counters are the atomic backing of Stats.
type counters struct {
	hits, misses, evictions, bytesFetched    atomic.Int64
	bytesCached, bytesInFlight, bytesUsed    atomic.Int64
	prefetchIssued, prefetchUsed, peakBytes  atomic.Int64
	prefetchSkipped, staleReads, fetchErrors atomic.Int64
}

// Stats is a snapshot of the cache's counters. Counts are totals since New;
// Bytes* without "Fetched" are current levels.
type Stats struct {
	Hits            int64 // chunk requests answered from memory
	Misses          int64 // chunk requests that started or joined a fetch
	Evictions       int64 // chunks dropped to make room (or on Close of an unversioned reader)
	BytesFetched    int64 // bytes read from stores
	BytesCached     int64 // bytes of chunks in the LRU now
	BytesInFlight   int64 // bytes reserved by fetches running now
	BytesUsed       int64 // everything counted against the budget now
	PeakBytes       int64 // highest BytesUsed seen; never above Budget
	PrefetchIssued  int64 // read-ahead fetches started
	PrefetchUsed    int64 // read-ahead chunks that a read then used
	PrefetchSkipped int64 // read-ahead not started for lack of room or slots
	StaleReads      int64 // fetches refused because the object changed
	FetchErrors     int64 // fetches that failed for any reason
}

// New returns an empty cache. Call Close when done to stop its fetches.
func New(opts Options) (*Cache, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	// The LRU's entry limit never binds: the byte budget evicts first.
	entries := opts.Budget/entryOverhead + 1
	if entries > math.MaxInt32 {
		entries = math.MaxInt32
	}
	lru, err := simplelru.NewLRU[chunkKey, *chunk](int(entries), nil)
	if err != nil {
		return nil, err
	}
	ahead, err := simplelru.NewLRU[chunkKey, *chunk](int(entries), nil)
	if err != nil {
		return nil, err
	}
	kept, err := simplelru.NewLRU[chunkKey, *chunk](int(entries), nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cache{
		opts:      opts,
		log:       opts.Logger,
		chunkSize: opts.ChunkSize,
		ctx:       ctx,
		cancel:    cancel,
		slots:     make(chan struct{}, opts.MaxInflight),
		lru:       lru,
		ahead:     ahead,
		kept:      kept,
		fetches:   map[chunkKey]*fetch{},
		room:      make(chan struct{}),
	}
	c.acct.budget = opts.Budget
	return c, nil
}

// ChunkSize returns the chunk size in use.
func (c *Cache) ChunkSize() int64 { return c.chunkSize }

// Close cancels every fetch and read-ahead and waits for them to return.
// Readers fail afterwards.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.cancel() // under mu: no fetch starts after this (wg.Add is under mu)
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// Stats returns a snapshot of the counters; it does not block on the cache.
func (c *Cache) Stats() Stats {
	s := &c.stats
	return Stats{
		Hits:            s.hits.Load(),
		Misses:          s.misses.Load(),
		Evictions:       s.evictions.Load(),
		BytesFetched:    s.bytesFetched.Load(),
		BytesCached:     s.bytesCached.Load(),
		BytesInFlight:   s.bytesInFlight.Load(),
		BytesUsed:       s.bytesUsed.Load(),
		PeakBytes:       s.peakBytes.Load(),
		PrefetchIssued:  s.prefetchIssued.Load(),
		PrefetchUsed:    s.prefetchUsed.Load(),
		PrefetchSkipped: s.prefetchSkipped.Load(),
		StaleReads:      s.staleReads.Load(),
		FetchErrors:     s.fetchErrors.Load(),
	}
}

// publishLocked copies the byte levels into the atomic counters.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) publishLocked() {
	a := &c.acct
	c.stats.bytesCached.Store(a.cached)
	c.stats.bytesInFlight.Store(a.inflight)
	c.stats.bytesUsed.Store(a.used)
	if a.used > c.stats.peakBytes.Load() {
		c.stats.peakBytes.Store(a.used)
	}
}
