package icos

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// blobs holds whole downloaded objects in unlinked temporary files, one
// per object id, within the disk budget (least recently used first out).
// Every ReadAt of an object is served from its one download: the portal
// counts each GET, and ids are content hashes, so a kept file is valid
// for ever.
type blobs struct {
	s    *Store
	mu   sync.Mutex
	m    map[string]*blob // GUARDED_BY(mu)
	used int64            // GUARDED_BY(mu): bytes of complete blobs
	tick uint64           // GUARDED_BY(mu)
}

// blob is one object's download. f and err are set before done closes.
type blob struct {
	id, key string
	size    int64
	done    chan struct{}
	f       *os.File
	err     error
	at      time.Time // when it finished
	last    uint64    // GUARDED_BY(blobs.mu): LRU tick
	refs    int       // GUARDED_BY(blobs.mu): readers using f
	gone    bool      // GUARDED_BY(blobs.mu): evicted, close f at refs 0
}

func newBlobs(s *Store) *blobs { return &blobs{s: s, m: map[string]*blob{}} }

// acquire returns the complete, verified download of f, starting it if
// needed; the caller must release it.
func (b *blobs) acquire(ctx context.Context, key string, f *file) (*blob, error) {
	b.mu.Lock()
	bl := b.m[f.id]
	if bl != nil && finished(bl) && bl.err != nil && !b.remembered(bl) {
		delete(b.m, f.id)
		bl = nil
	}
	if bl == nil {
		if b.s.ctx.Err() != nil {
			b.mu.Unlock()
			return nil, backends.Kind(backends.ErrUnavailable, errClosed)
		}
		bl = &blob{id: f.id, key: key, size: f.size, done: make(chan struct{})}
		b.m[f.id] = bl
		go b.run(bl)
	}
	b.tick++
	bl.last = b.tick
	bl.refs++
	b.mu.Unlock()
	select {
	case <-bl.done:
	case <-ctx.Done():
		b.release(bl)
		return nil, ctx.Err()
	}
	if bl.err != nil {
		b.release(bl)
		return nil, bl.err
	}
	return bl, nil
}

// remembered reports whether a failed download's error still stands: a
// refusal (licence, not distributed) for RefusalTTL, anything else never.
// LOCKS_REQUIRED(b.mu)
func (b *blobs) remembered(bl *blob) bool {
	return errors.Is(bl.err, backends.ErrPermission) && b.s.cfg.Now().Sub(bl.at) < b.s.cfg.RefusalTTL
}

func finished(bl *blob) bool {
	select {
	case <-bl.done:
		return true
	default:
		return false
	}
}

func (b *blobs) release(bl *blob) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bl.refs--
	if bl.gone && bl.refs == 0 && bl.f != nil {
		bl.f.Close()
	}
}

// run downloads bl under the store's context and publishes the result.
func (b *blobs) run(bl *blob) {
	f, err := b.s.download(b.s.ctx, bl.key, bl.id, bl.size)
	b.mu.Lock()
	defer b.mu.Unlock()
	bl.f, bl.err, bl.at = f, err, b.s.cfg.Now()
	if err == nil {
		b.used += bl.size
		b.evictLocked(bl)
	}
	close(bl.done)
}

// evictLocked drops complete blobs, least recently used first, until the
// budget holds; keep is never dropped.
// LOCKS_REQUIRED(b.mu)
func (b *blobs) evictLocked(keep *blob) {
	for b.used > b.s.cfg.DiskBudget {
		var victim *blob
		for _, bl := range b.m {
			if bl != keep && bl.f != nil && !bl.gone && (victim == nil || bl.last < victim.last) {
				victim = bl
			}
		}
		if victim == nil {
			return
		}
		b.dropLocked(victim)
	}
}

// LOCKS_REQUIRED(b.mu)
func (b *blobs) dropLocked(bl *blob) {
	delete(b.m, bl.id)
	bl.gone = true
	b.used -= bl.size
	if bl.refs == 0 {
		bl.f.Close()
	}
}

// close frees every complete blob (downloads in flight stop with the
// store's context).
func (b *blobs) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, bl := range b.m {
		if bl.f != nil && !bl.gone {
			b.dropLocked(bl)
		}
	}
}
