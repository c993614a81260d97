package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/earthmount/earthmount/backends"
)

// Reader reads one pinned version of one object through the cache, with
// read-ahead for sequential access. It is safe for concurrent use (the
// kernel issues several reads of one open file at once).
type Reader struct {
	// Constant after Open.
	c      *Cache
	src    Source
	remote string
	obj    backends.ObjectInfo
	nonce  uint64             // non-zero for unversioned objects: chunks private to this Reader
	ctx    context.Context    // owns read-ahead fetches; cancelled by Close
	cancel context.CancelFunc // cancels ctx

	mu sync.Mutex
	// GUARDED_BY(mu):
	pattern pattern
	err     error // sticky: fs.ErrClosed after Close, the ErrStale once seen

	// GUARDED_BY(c.mu):
	prefetching int // read-ahead fetches of this Reader in flight
}

// Open returns a Reader of obj (its Key, Version and Size are pinned: every
// fetch asks src for exactly that version). Objects with an empty Version
// are read through the cache but their chunks are never shared with other
// Readers. A Size below zero (unknown) bypasses the cache. Close the
// Reader to stop its read-ahead.
func (c *Cache) Open(src Source, remote string, obj backends.ObjectInfo) *Reader {
	r := &Reader{c: c, src: src, remote: remote, obj: obj}
	r.ctx, r.cancel = context.WithCancel(c.ctx)
	r.pattern = newPattern(c.chunkSize)
	if obj.Version == "" {
		c.mu.Lock()
		c.nonce++
		r.nonce = c.nonce
		c.mu.Unlock()
	}
	return r
}

// Info returns the object the Reader is pinned to.
func (r *Reader) Info() backends.ObjectInfo { return r.obj }

func (r *Reader) chunkKey(idx int64) chunkKey {
	return chunkKey{remote: r.remote, key: r.obj.Key, version: r.obj.Version, nonce: r.nonce, index: idx}
}

// ReadAt reads len(p) bytes at off with io.ReaderAt semantics: n < len(p)
// only with an error, io.EOF when the object ends first. Bytes always come
// from the pinned version; once the store reports the object changed, this
// and every later read fail with an error that errors.Is
// backends.ErrStale. When ctx is done ReadAt returns ctx.Err() unwrapped,
// while a fetch it started goes on for other readers.
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("cache: read %q at negative offset %d", r.obj.Key, off)
	}
	r.mu.Lock()
	err := r.err
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	size := r.obj.Size
	if size < 0 {
		return r.src.ReadAt(ctx, r.obj.Ref(), p, off)
	}
	if off >= size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), size)
	window := r.observe(off, end-off)
	cs := r.c.chunkSize
	n, aheadDone := 0, false
	for pos := off; pos < end; {
		idx := pos / cs
		ch, f, err := r.c.begin(ctx, r, idx)
		if err == nil && !aheadDone {
			// The demand fetch is registered first, so it never
			// queues behind its own read-ahead.
			aheadDone = true
			r.readAhead((end-1)/cs, window)
		}
		if f != nil {
			var retry bool
			ch, retry, err = r.c.wait(ctx, f)
			if retry && ctx.Err() == nil {
				continue
			}
		}
		if err != nil {
			return n, r.fail(err)
		}
		k := copy(p[n:end-off], ch.buf[pos-idx*cs:])
		r.c.unpin(ch)
		n += k
		pos += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fail records a stale object, which stops read-ahead and fails every
// later read, and returns err.
func (r *Reader) fail(err error) error {
	if errors.Is(err, backends.ErrStale) {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
		r.cancel()
	}
	return err
}

// Close stops the Reader's read-ahead and fails later reads. Chunks of an
// unversioned object are dropped, since no other Reader can use them.
// Close does not wait for fetches to return.
func (r *Reader) Close() error {
	r.mu.Lock()
	if r.err == nil || errors.Is(r.err, backends.ErrStale) {
		r.err = fmt.Errorf("cache: read %q: %w", r.obj.Key, fs.ErrClosed)
	}
	r.mu.Unlock()
	r.cancel()
	if r.nonce == 0 || r.obj.Size <= 0 {
		return nil
	}
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for idx := int64(0); idx*c.chunkSize < r.obj.Size; idx++ {
		key := r.chunkKey(idx)
		if ch, ok := c.lru.Peek(key); ok {
			c.lru.Remove(key)
			c.droppedLocked(ch)
		}
	}
	return nil
}
