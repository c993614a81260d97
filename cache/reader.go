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
	bs     int64              // block (chunk) size of this object: Cache.blockSize
	ctx    context.Context    // owns read-ahead fetches; cancelled by Close
	cancel context.CancelFunc // cancels ctx

	mu sync.Mutex
	// GUARDED_BY(mu):
	pattern pattern
	err     error   // sticky: fs.ErrClosed after Close, the ErrStale once seen
	kept    [2]bool // head, tail block kept in Cache.kept (keep.go)

	// GUARDED_BY(c.mu):
	prefetching int     // read-ahead fetches of this Reader in flight
	sizes       []int64 // block sizes other than bs that reads used (blockFor)
}

// Open returns a Reader of obj (its Key, Version and Size are pinned: every
// fetch asks src for exactly that version). Objects with an empty Version
// are read through the cache but their chunks are never shared with other
// Readers. A Size below zero (unknown) bypasses the cache. Close the
// Reader to stop its read-ahead.
func (c *Cache) Open(src Source, remote string, obj backends.ObjectInfo) *Reader {
	r := &Reader{c: c, src: src, remote: remote, obj: obj, bs: c.blockSize(obj)}
	r.ctx, r.cancel = context.WithCancel(c.ctx)
	r.pattern = newPattern(r.bs, c.chunkSize)
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

func (r *Reader) chunkKey(idx int64) chunkKey { return r.keyOf(r.bs, idx) }

// keyOf names block idx of r's object in blocks of bs bytes.
func (r *Reader) keyOf(bs, idx int64) chunkKey {
	return chunkKey{remote: r.remote, key: r.obj.Key, version: r.obj.Version, nonce: r.nonce, block: bs, index: idx}
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
	window, random, long := r.observe(off, end-off)
	bs := r.blockFor(off, random, long)
	last := (end - 1) / bs
	// Every block of the read is begun before any is waited for, so a
	// 1 MiB FUSE read of 128 KiB blocks costs one round trip, not eight.
	// Only a begin with nothing held may wait for room: a read holding
	// pinned blocks while it waits could wait for itself.
	var held []part // begun, not copied yet, in order
	defer func() {
		for _, h := range held {
			r.c.leave(h.ch, h.f)
		}
	}()
	n, next, aheadDone := 0, off/bs, false
	for pos := off; pos < end; {
		for next <= last && len(held) < maxHeld {
			ch, f, err := r.c.begin(ctx, r, bs, next, len(held) > 0)
			if errors.Is(err, errNoRoom) {
				break
			}
			if err != nil {
				return n, r.fail(err)
			}
			held = append(held, part{idx: next, ch: ch, f: f})
			next++
			if !aheadDone {
				// The demand fetch is registered first, so it never
				// queues behind its own read-ahead.
				aheadDone = true
				r.readAhead(bs, last, window)
			}
		}
		h := held[0]
		held = held[1:]
		ch := h.ch
		if h.f != nil {
			var retry bool
			var err error
			ch, retry, err = r.c.wait(ctx, h.f)
			if retry && ctx.Err() == nil {
				// Its owner cancelled the fetch: begin it again, after
				// giving up the blocks held behind it.
				for _, o := range held {
					r.c.leave(o.ch, o.f)
				}
				held, next = held[:0], h.idx
				continue
			}
			if err != nil {
				return n, r.fail(err)
			}
		}
		k := copy(p[n:end-off], ch.buf[pos-h.idx*bs:])
		r.c.unpin(ch, k)
		if bs == r.bs && r.keeps(h.idx) {
			r.keep(h.idx)
		}
		n += k
		pos += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// part is one block a read has begun: cached and pinned (ch), or a fetch
// it joined (f).
type part struct {
	idx int64
	ch  *chunk
	f   *fetch
}

// maxHeld bounds the blocks one read begins ahead of copying.
const maxHeld = 64

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
	r.releaseKept()
	if r.nonce == 0 || r.obj.Size <= 0 {
		return nil
	}
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, bs := range append([]int64{r.bs}, r.sizes...) {
		for idx := int64(0); idx*bs < r.obj.Size; idx++ {
			c.removeLocked(r.keyOf(bs, idx))
		}
	}
	return nil
}
