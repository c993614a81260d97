package cache

// Budget accounting. Every byte the cache holds is in exactly one of four
// places, and their sum (used) never exceeds the budget:
//
//	cached    chunks in the LRU, readable
//	inflight  buffers reserved by fetches that are running
//	free      buffers of evicted full-size chunks, kept for reuse
//	pinned    evicted chunks that a reader is still copying out of
//
// A fetch reserves its buffer before it starts, evicting LRU chunks to make
// room; nothing is ever allocated outside a reservation. Full-size buffers
// are recycled through the free list, so a long sequential read reuses the
// same buffers instead of producing garbage; partial chunks (tails, small
// objects) get exact-size buffers and are left to the GC when dropped.

// accounting holds the budget levels; GUARDED_BY(Cache.mu).
type accounting struct {
	budget   int64
	used     int64 // INVARIANT: used == cached + inflight + free + pinned <= budget
	cached   int64
	inflight int64
	free     int64
	pinned   int64
	// prefetch counts read-ahead bytes in flight plus prefetched chunks
	// not yet read; read-ahead may not push it above budget/2.
	prefetch int64
	// kept counts the chunks in Cache.kept (part of cached); at most
	// budget/keptShare.
	kept int64
	// demandWaiting counts readers waiting for room; while any wait,
	// read-ahead reserves nothing.
	demandWaiting int
	freeBufs      [][]byte // each of cap chunkSize
	allocs        int64    // buffers allocated so far (tests check recycling)
}

// Predictions are kept until read. A chunk fetched by read-ahead and not
// read yet waits in Cache.ahead, apart from the chunks read at least once
// (Cache.lru): room is made by evicting read chunks first, least recently
// used first, and predictions only when no read chunk is left. Without
// this, a reader that consumes its predictions in a different order than
// they arrived (dask's `a - b` reads a/K, b/K while the predictions of the
// next keys sit in the LRU's tail) saw them evicted and fetched again:
// 1.46x the bytes under a 512 MiB budget. The protection is bounded:
// read-ahead may hold at most half the budget (prefetchRoomLocked), so
// the other half always serves demand reads; and a prediction not read
// while readers consumed as many bytes as the whole budget is stale, the
// first to go, also to make room for new predictions (dropStaleLocked).

// chunk is one cached chunk. Its buffer is shared with readers while they
// copy out of it (refs > 0), so it is neither recycled nor reused then.
type chunk struct {
	buf  []byte
	cost int64
	// GUARDED_BY(Cache.mu):
	refs       int
	evicted    bool  // removed from the LRU; buffer released at the last unpin
	prefetched bool  // fetched by read-ahead and not read yet (in Cache.ahead)
	mark       int64 // Cache.demandBytes when it was prefetched
	keepers    int   // open Readers keeping it (in Cache.kept)
}

// cost is what a chunk of n bytes is charged against the budget.
func cost(n int64) int64 { return n + entryOverhead }

// reserveLocked takes room for a buffer of n bytes, evicting LRU chunks
// and dropping free buffers as needed. It returns false, taking nothing,
// when the room is held by fetches in flight and pinned chunks.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) reserveLocked(n int64) ([]byte, bool) {
	a := &c.acct
	full := n == c.chunkSize
	for {
		if full && len(a.freeBufs) > 0 {
			buf := a.freeBufs[len(a.freeBufs)-1]
			a.freeBufs = a.freeBufs[:len(a.freeBufs)-1]
			a.free -= cost(n)
			a.inflight += cost(n)
			c.publishLocked()
			return buf[:n], true
		}
		if a.used+cost(n) <= a.budget {
			a.used += cost(n)
			a.inflight += cost(n)
			a.allocs++
			c.publishLocked()
			return make([]byte, n), true
		}
		if len(a.freeBufs) > 0 {
			a.freeBufs[len(a.freeBufs)-1] = nil
			a.freeBufs = a.freeBufs[:len(a.freeBufs)-1]
			a.free -= cost(c.chunkSize)
			a.used -= cost(c.chunkSize)
			continue
		}
		if !c.evictOldestLocked() {
			return nil, false
		}
	}
}

// unreserveLocked gives back the reservation of a fetch that failed.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) unreserveLocked(buf []byte) {
	c.acct.inflight -= cost(int64(len(buf)))
	c.releaseBufLocked(buf)
}

// releaseBufLocked takes a buffer that nobody uses any more, already
// removed from its category, and recycles or drops it.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) releaseBufLocked(buf []byte) {
	a := &c.acct
	if int64(cap(buf)) == c.chunkSize {
		a.freeBufs = append(a.freeBufs, buf[:cap(buf)])
		a.free += cost(c.chunkSize)
	} else {
		a.used -= cost(int64(len(buf)))
	}
	c.publishLocked()
	c.signalRoomLocked()
}

// evictOldestLocked drops a stale prediction, else the least recently
// used chunk that was read, else the oldest prediction; false when
// nothing is cached.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) evictOldestLocked() bool {
	if c.dropStaleLocked() {
		return true
	}
	_, ch, ok := c.lru.RemoveOldest()
	if !ok {
		_, ch, ok = c.ahead.RemoveOldest()
	}
	if !ok {
		if _, ch, ok = c.kept.RemoveOldest(); ok {
			c.acct.kept -= ch.cost
		}
	}
	if !ok {
		return false
	}
	c.droppedLocked(ch)
	return true
}

// dropStaleLocked evicts the oldest prediction if readers have consumed
// more than the budget's worth of bytes since it arrived.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) dropStaleLocked() bool {
	key, ch, ok := c.ahead.GetOldest()
	if !ok || c.demandBytes-ch.mark <= c.acct.budget {
		return false
	}
	c.ahead.Remove(key)
	c.droppedLocked(ch)
	return true
}

// peekLocked returns the cached chunk of key, read or predicted, without
// touching its recency.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) peekLocked(key chunkKey) (*chunk, bool) {
	if ch, ok := c.lru.Peek(key); ok {
		return ch, true
	}
	if ch, ok := c.kept.Peek(key); ok {
		return ch, true
	}
	return c.ahead.Peek(key)
}

// getLocked returns the cached chunk of key for a read: it becomes the
// most recently used, and a prediction becomes a read chunk.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) getLocked(key chunkKey) (*chunk, bool) {
	if ch, ok := c.lru.Get(key); ok {
		return ch, true
	}
	if ch, ok := c.kept.Get(key); ok {
		return ch, true
	}
	ch, ok := c.ahead.Peek(key)
	if ok {
		c.ahead.Remove(key)
		c.lru.Add(key, ch)
	}
	return ch, ok
}

// addLocked caches ch under key: with the predictions when prefetched.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) addLocked(key chunkKey, ch *chunk) {
	if ch.prefetched {
		ch.mark = c.demandBytes
		c.ahead.Add(key, ch)
		return
	}
	c.lru.Add(key, ch)
}

// removeLocked drops key from the cache, wherever it is.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) removeLocked(key chunkKey) {
	if ch, ok := c.lru.Peek(key); ok {
		c.lru.Remove(key)
		c.droppedLocked(ch)
	}
	if ch, ok := c.ahead.Peek(key); ok {
		c.ahead.Remove(key)
		c.droppedLocked(ch)
	}
	if ch, ok := c.kept.Peek(key); ok {
		c.kept.Remove(key)
		c.acct.kept -= ch.cost
		c.droppedLocked(ch)
	}
}

// droppedLocked accounts for ch having been removed from the LRU.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) droppedLocked(ch *chunk) {
	a := &c.acct
	c.stats.evictions.Add(1)
	a.cached -= ch.cost
	if ch.prefetched {
		ch.prefetched = false
		a.prefetch -= ch.cost
		c.log.Debug("prediction evicted before it was read", "bytes", len(ch.buf),
			"read_since", c.demandBytes-ch.mark, "read_chunks", c.lru.Len(), "predicted_chunks", c.ahead.Len())
	}
	if ch.refs > 0 {
		ch.evicted = true
		a.pinned += ch.cost
		c.publishLocked()
		return
	}
	c.releaseBufLocked(ch.buf)
}

// pinLocked marks ch as being read; it cannot be recycled until unpinned.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) pinLocked(ch *chunk) {
	ch.refs++
	if ch.prefetched {
		ch.prefetched = false
		c.acct.prefetch -= ch.cost
		c.stats.prefetchUsed.Add(1)
	}
}

// unpin ends one read of ch, which copied n bytes out of it.
func (c *Cache) unpin(ch *chunk, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.demandBytes += int64(n)
	c.unpinLocked(ch)
}

// LOCKS_REQUIRED(c.mu)
func (c *Cache) unpinLocked(ch *chunk) {
	ch.refs--
	if ch.refs == 0 && ch.evicted {
		ch.evicted = false
		c.acct.pinned -= ch.cost
		c.releaseBufLocked(ch.buf)
		ch.buf = nil
	}
}

// signalRoomLocked wakes readers waiting for room.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) signalRoomLocked() {
	if c.acct.demandWaiting > 0 {
		close(c.room)
		c.room = make(chan struct{})
	}
}

// prefetchRoomLocked reports whether read-ahead may reserve n more bytes:
// nobody waits for room and read-ahead stays within half the budget, so
// that demand reads and the cache's working set keep the other half.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) prefetchRoomLocked(n int64) bool {
	a := &c.acct
	return a.demandWaiting == 0 && a.prefetch+cost(n) <= a.budget/2
}
