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
	// demandWaiting counts readers waiting for room; while any wait,
	// read-ahead reserves nothing.
	demandWaiting int
	freeBufs      [][]byte // each of cap chunkSize
	allocs        int64    // buffers allocated so far (tests check recycling)
}

// chunk is one cached chunk. Its buffer is shared with readers while they
// copy out of it (refs > 0), so it is neither recycled nor reused then.
type chunk struct {
	buf  []byte
	cost int64
	// GUARDED_BY(Cache.mu):
	refs       int
	evicted    bool // removed from the LRU; buffer released at the last unpin
	prefetched bool // fetched by read-ahead and not read yet
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

// evictOldestLocked drops the least recently used chunk; false when the
// LRU is empty.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) evictOldestLocked() bool {
	_, ch, ok := c.lru.RemoveOldest()
	if !ok {
		return false
	}
	c.droppedLocked(ch)
	return true
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

// unpin ends one read of ch.
func (c *Cache) unpin(ch *chunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
