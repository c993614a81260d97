package disk

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/earthmount/earthmount/backends"
)

// Source reads byte ranges of pinned objects (the chunk cache's Source;
// backends.Store satisfies it).
type Source interface {
	ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error)
}

// Wrap returns a Source that answers reads from the disk tier when it can
// and otherwise reads inner and queues the bytes for the disk. remote
// names the store in the block identities: give every store its own
// (cmd uses the remote's name and endpoint), since keys and versions are
// only unique within one store.
func (t *Tier) Wrap(inner Source, remote string) Source {
	return &source{t: t, inner: inner, remote: remote}
}

type source struct {
	t      *Tier
	inner  Source
	remote string
}

// ReadAt implements Source. Unversioned objects, objects of unknown size
// and empty reads go straight to inner.
func (s *source) ReadAt(ctx context.Context, ref backends.ObjectRef, p []byte, off int64) (int, error) {
	if ref.Version == "" || ref.Size < 0 || len(p) == 0 || off < 0 {
		return s.inner.ReadAt(ctx, ref, p, off)
	}
	k := blockKey{remote: s.remote, key: ref.Key, version: ref.Version, off: off, n: len(p)}
	hit := s.t.lookup(k, p, 0)
	if !hit && s.t.opts.Align > 0 {
		// A reader that fetches in smaller pieces (a random reader's
		// blocks, NetCDF blocks) finds them inside the chunk-aligned block
		// a sequential read stored.
		a := s.t.opts.Align
		boff := off / a * a
		if bn := min(a, ref.Size-boff); bn > 0 && (boff != off || bn != int64(len(p))) && off+int64(len(p)) <= boff+bn {
			outer := blockKey{remote: s.remote, key: ref.Key, version: ref.Version, off: boff, n: int(bn)}
			hit = s.t.lookup(outer, p, int(off-boff))
		}
	}
	s.t.count(hit)
	if hit {
		return len(p), nil
	}
	n, err := s.inner.ReadAt(ctx, ref, p, off)
	if n == len(p) && (err == nil || err == io.EOF) {
		s.t.put(k, p)
	}
	return n, err
}

// job is one block waiting to be written.
type job struct {
	k    blockKey
	name string
	buf  []byte
}

// put queues a copy of p to be written as block k, unless it is on disk
// or queued already, or the queue has no room (then it is dropped: the
// read path never waits for the disk).
func (t *Tier) put(k blockKey, p []byte) {
	name := k.name()
	size := fileSize(k.identity(), len(p))
	t.mu.Lock()
	_, onDisk := t.index[name]
	_, queued := t.pending[name]
	if t.closed || onDisk || queued || size > t.opts.Cap {
		t.mu.Unlock()
		return
	}
	if t.queued+int64(len(p)) > t.opts.QueueBytes {
		t.mu.Unlock()
		t.dropped.Add(1)
		return
	}
	// Reserve the room, copy without the lock, then publish.
	t.queued += int64(len(p))
	t.pending[name] = nil
	t.mu.Unlock()
	buf := make([]byte, len(p))
	copy(buf, p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		select {
		case t.jobs <- job{k: k, name: name, buf: buf}:
			t.pending[name] = buf
			return
		default:
		}
	}
	t.dropped.Add(1)
	t.unqueueLocked(name, len(buf))
}

// unqueueLocked forgets a queued block.
// LOCKS_REQUIRED(t.mu)
func (t *Tier) unqueueLocked(name string, n int) {
	delete(t.pending, name)
	t.queued -= int64(n)
	if t.queued == 0 {
		close(t.drained)
		t.drained = make(chan struct{})
	}
}

// writer writes queued blocks until Close. Several run at once; insert
// serializes what they do to the index.
func (t *Tier) writer() {
	defer t.writers.Done()
	for j := range t.jobs {
		id := j.k.identity()
		tmpPath, err := writeBlock(t.tmp, id, j.buf)
		if err == nil {
			err = t.insert(j.name, tmpPath, fileSize(id, len(j.buf)))
			if err != nil {
				t.removeTemp(tmpPath)
			}
		}
		// Count before unqueueing: Flush returns once the queue is empty.
		if err == nil {
			t.writes.Add(1)
		} else {
			t.writeErrs.Add(1)
		}
		t.mu.Lock()
		t.unqueueLocked(j.name, len(j.buf))
		first := err != nil && !t.warned
		if first {
			t.warned = true
		}
		t.mu.Unlock()
		if err == nil {
			continue
		}
		if first {
			t.log.Warn("disk cache: writing a block failed; reads go on from the store (further failures logged at debug)", "dir", t.opts.Dir, "err", err)
		} else {
			t.log.Debug("disk cache: writing a block failed", "key", j.k.key, "err", err)
		}
	}
}

// removeTemp deletes a temporary file that could not be put in place.
func (t *Tier) removeTemp(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Debug("disk cache: removing a temporary file failed", "path", path, "err", err)
	}
}

// Flush waits until every queued block is written (or failed), or ctx
// ends. Tests and benchmarks use it; reads never need it.
func (t *Tier) Flush(ctx context.Context) error {
	for {
		t.mu.Lock()
		if t.queued == 0 {
			t.mu.Unlock()
			return nil
		}
		ch := t.drained
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
