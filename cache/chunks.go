package cache

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/earthmount/earthmount/backends"
)

// errCacheClosed fails reads after Cache.Close.
var errCacheClosed = backends.Kind(backends.ErrUnavailable, errors.New("cache: closed"))

// errNoRoom is begin's answer, with noWait, when a fetch would have to
// wait for room.
var errNoRoom = errors.New("cache: no room without waiting")

// fetch is one chunk being read from a store. Readers that want the chunk
// meanwhile join it instead of starting another (single-flight).
type fetch struct {
	key      chunkKey
	done     chan struct{} // closed when the fetch has finished
	prefetch bool          // started by read-ahead
	reader   *Reader       // the Reader that started it

	// GUARDED_BY(Cache.mu):
	finished bool
	waiters  int  // readers waiting; each gets one pin of ch
	used     bool // a demand read joined this read-ahead fetch

	// Written before done is closed, read-only after:
	ch    *chunk // on success, pinned once per waiter
	err   error
	retry bool // the fetch was cancelled by its owner, not failed: try again
}

// geometry returns the offset and length of chunk idx of r's object.
func (r *Reader) geometry(idx int64) (off, n int64) { return r.geometryOf(r.bs, idx) }

// geometryOf returns the offset and length of block idx of r's object in
// blocks of bs bytes.
func (r *Reader) geometryOf(bs, idx int64) (off, n int64) {
	off = idx * bs
	return off, min(bs, r.obj.Size-off)
}

// begin returns block idx (in blocks of bs bytes) of r's object pinned,
// or the fetch to wait for, already joined. When there is no room for a
// new fetch it waits, until ctx is done, for room to free up; with noWait
// it returns errNoRoom instead.
func (c *Cache) begin(ctx context.Context, r *Reader, bs, idx int64, noWait bool) (*chunk, *fetch, error) {
	key := r.keyOf(bs, idx)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.ctx.Err() != nil {
			return nil, nil, errCacheClosed
		}
		if ch, ok := c.getLocked(key); ok {
			c.pinLocked(ch)
			c.stats.hits.Add(1)
			return ch, nil, nil
		}
		f, ok := c.fetches[key]
		if ok {
			if f.prefetch && !f.used {
				f.used = true
				c.stats.prefetchUsed.Add(1)
			}
		} else {
			_, n := r.geometryOf(bs, idx)
			buf, ok := c.reserveLocked(n)
			if !ok {
				if noWait {
					return nil, nil, errNoRoom
				}
				if err := c.waitRoomLocked(ctx); err != nil {
					return nil, nil, err
				}
				continue
			}
			f = c.startLocked(c.ctx, r, bs, idx, buf, false)
		}
		f.waiters++
		c.stats.misses.Add(1)
		return nil, f, nil
	}
}

// waitRoomLocked releases c.mu until bytes are released or ctx is done.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) waitRoomLocked(ctx context.Context) error {
	c.acct.demandWaiting++
	room := c.room
	c.mu.Unlock()
	var err error
	select {
	case <-room:
	case <-ctx.Done():
		err = ctx.Err()
	case <-c.ctx.Done():
		err = errCacheClosed
	}
	c.mu.Lock()
	c.acct.demandWaiting--
	return err
}

// wait waits for f as one of its joined waiters and returns the chunk
// pinned. retry reports that the fetch was cancelled by its owner and the
// caller should ask again. A caller that gives up (ctx done) leaves the
// fetch running for the others.
func (c *Cache) wait(ctx context.Context, f *fetch) (ch *chunk, retry bool, err error) {
	select {
	case <-f.done:
	case <-ctx.Done():
		c.leave(nil, f)
		return nil, false, ctx.Err()
	}
	if f.err != nil {
		return nil, f.retry, f.err
	}
	return f.ch, false, nil
}

// leave gives up a chunk begun and not read: its pin, or its place among
// a fetch's waiters (or the pin the finished fetch took for it).
func (c *Cache) leave(ch *chunk, f *fetch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ch != nil:
		c.unpinLocked(ch)
	case !f.finished:
		f.waiters--
	case f.err == nil:
		c.unpinLocked(f.ch)
	}
}

// startLocked registers a fetch of chunk idx into buf and starts it under
// a context derived from parent (the cache's for demand reads, the
// Reader's for read-ahead). A read-ahead fetch already holds a slot.
// LOCKS_REQUIRED(c.mu)
func (c *Cache) startLocked(parent context.Context, r *Reader, bs, idx int64, buf []byte, prefetch bool) *fetch {
	f := &fetch{key: r.keyOf(bs, idx), done: make(chan struct{}), prefetch: prefetch, reader: r}
	if prefetch {
		r.prefetching++
		c.acct.prefetch += cost(int64(len(buf)))
		c.stats.prefetchIssued.Add(1)
	}
	c.fetches[f.key] = f
	c.wg.Add(1)
	go c.run(parent, f, r.src, r.obj.Ref(), idx, buf)
	return f
}

// run performs one fetch and publishes its result.
func (c *Cache) run(parent context.Context, f *fetch, src Source, ref backends.ObjectRef, idx int64, buf []byte) {
	defer c.wg.Done()
	if !f.prefetch {
		select {
		case c.slots <- struct{}{}:
		case <-parent.Done():
			c.complete(f, buf, parent.Err(), true)
			return
		}
	}
	ctx, cancel := context.WithTimeout(parent, c.opts.FetchTimeout)
	off := idx * f.key.block
	n, err := src.ReadAt(ctx, ref, buf, off)
	<-c.slots
	cancelled := err != nil && parent.Err() != nil
	timedOut := err != nil && !cancelled && ctx.Err() != nil
	cancel()
	c.stats.bytesFetched.Add(int64(n))
	switch {
	case n == len(buf) && (err == nil || err == io.EOF):
		err = nil
	case cancelled:
	case errors.Is(err, backends.ErrStale):
		c.stats.staleReads.Add(1)
	case timedOut:
		err = backends.Kind(backends.ErrUnavailable, fmt.Errorf("timed out after %v: %w", c.opts.FetchTimeout, err))
	case err == nil || err == io.EOF:
		// The store returned fewer bytes than the pinned size promises;
		// short data is never served.
		err = backends.Kind(backends.ErrUnavailable, fmt.Errorf("short read: %d of %d bytes", n, len(buf)))
	}
	if err != nil {
		if !cancelled {
			c.stats.fetchErrors.Add(1)
		}
		err = fmt.Errorf("cache: read %q chunk %d (bytes %d-%d): %w", ref.Key, idx, off, off+int64(len(buf)), err)
		c.log.Debug("chunk fetch failed", "key", ref.Key, "version", ref.Version, "chunk", idx, "err", err)
	}
	c.complete(f, buf, err, cancelled)
}

// complete publishes the result of f: the chunk goes into the LRU (never
// on error: a stale or failed chunk is not cached) and every waiter gets
// it pinned.
func (c *Cache) complete(f *fetch, buf []byte, err error, cancelled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.finished = true
	delete(c.fetches, f.key)
	cst := cost(int64(len(buf)))
	if f.prefetch {
		f.reader.prefetching--
		c.acct.prefetch -= cst
	}
	if err == nil && f.key.nonce != 0 && f.waiters == 0 && f.reader.ctx.Err() != nil {
		// An unversioned chunk nobody can use any more.
		c.unreserveLocked(buf)
		close(f.done)
		return
	}
	if err != nil {
		f.err, f.retry = err, cancelled
		c.unreserveLocked(buf)
		close(f.done)
		return
	}
	ch := &chunk{buf: buf, cost: cst, refs: f.waiters}
	// Cannot be cached already (fetches are single-flight); keep the books
	// right anyway.
	c.removeLocked(f.key)
	c.acct.inflight -= cst
	c.acct.cached += cst
	if f.prefetch && f.waiters == 0 {
		ch.prefetched = true
		c.acct.prefetch += cst
	}
	c.addLocked(f.key, ch)
	c.publishLocked()
	c.signalRoomLocked() // a cached chunk can be evicted, an in-flight one not
	f.ch = ch
	close(f.done)
}

// prefetchResult says what tryPrefetch did.
type prefetchResult int

const (
	prefetchStarted prefetchResult = iota
	prefetchPresent                // cached or in flight already
	prefetchBusy                   // the Reader has limit fetches in flight
	prefetchRefused                // no room in the budget or no fetch slot
)

// tryPrefetch starts a read-ahead fetch of block idx (of bs bytes) for r unless it is
// cached or in flight already, or r has limit read-ahead fetches in flight.
// It never waits for room or for a fetch slot.
func (c *Cache) tryPrefetch(r *Reader, bs, idx int64, limit int) prefetchResult {
	key := r.keyOf(bs, idx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.ctx.Err() != nil {
		return prefetchBusy
	}
	if _, ok := c.peekLocked(key); ok || c.fetches[key] != nil {
		return prefetchPresent
	}
	if r.prefetching >= limit {
		return prefetchBusy
	}
	_, n := r.geometryOf(bs, idx)
	for !c.prefetchRoomLocked(n) && c.dropStaleLocked() {
	}
	// Leave a quarter of the fetch slots to demand reads.
	if !c.prefetchRoomLocked(n) || len(c.slots) >= cap(c.slots)-cap(c.slots)/4 {
		c.stats.prefetchSkipped.Add(1)
		return prefetchRefused
	}
	select {
	case c.slots <- struct{}{}:
	default:
		c.stats.prefetchSkipped.Add(1)
		return prefetchRefused
	}
	buf, ok := c.reserveLocked(n)
	if !ok {
		<-c.slots
		c.stats.prefetchSkipped.Add(1)
		return prefetchRefused
	}
	c.startLocked(r.ctx, r, bs, idx, buf, true)
	return prefetchStarted
}
