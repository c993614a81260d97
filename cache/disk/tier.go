package disk

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// DefaultQueueBytes bounds the memory of blocks waiting to be written.
const DefaultQueueBytes = 32 << 20

// writers is the number of goroutines writing blocks: two keep up with a
// burst of read-ahead completions on a busy machine where one fell behind
// and dropped blocks.
const writers = 2

// ErrLocked is returned by Open when another process uses the directory.
var ErrLocked = errors.New("disk: cache directory in use by another process")

// Options configure a Tier.
type Options struct {
	Dir        string // created 0700 if missing
	Cap        int64  // bytes of block files kept; must be > 0
	QueueBytes int64  // blocks waiting to be written; 0 -> DefaultQueueBytes
	// Align is the chunk cache's chunk size: a read missing its own
	// block is looked for inside the Align-aligned block that holds it.
	// 0 means exact blocks only.
	Align  int64
	Logger *slog.Logger
}

// Stats are a Tier's counters.
type Stats struct {
	Hits, Misses  int64 // reads answered from disk, and not
	Corrupt       int64 // blocks that failed their check and were deleted
	Writes        int64 // blocks written
	Dropped       int64 // blocks not written because the queue was full
	WriteErrors   int64
	Evictions     int64
	Files, Bytes  int64 // blocks on disk now and the bytes of their files
	QueuedBytes   int64 // bytes waiting to be written
	RemovedAtOpen int64 // leftover temporary files deleted by Open
}

// Tier is a directory of checksummed blocks with an LRU index. It is safe
// for concurrent use.
type Tier struct {
	opts        Options
	log         *slog.Logger
	v1, tmp     string
	lock        *os.File
	jobs        chan job
	writers     sync.WaitGroup
	removedOpen int64

	mu sync.Mutex
	// GUARDED_BY(mu):
	index   map[string]*list.Element // name -> element of lru (value *entry)
	lru     *list.List               // front: most recently used
	used    int64                    // bytes of the files in index
	pending map[string][]byte        // queued blocks by name, readable meanwhile
	queued  int64                    // bytes in pending
	drained chan struct{}            // closed when queued drops to zero
	closed  bool
	warned  bool // a write error was logged at Warn

	hits, misses, corrupt, writes, dropped, writeErrs, evictions atomic.Int64
}

// entry is one block on disk.
type entry struct {
	name string
	size int64
}

// Open locks dir, removes leftover temporary files and rebuilds the index
// from the block files there, evicting down to opts.Cap. It returns an
// error wrapping ErrLocked when another process holds the directory.
func Open(opts Options) (*Tier, error) {
	if opts.Dir == "" || opts.Cap <= 0 {
		return nil, fmt.Errorf("disk: need a directory and a size cap above zero (got %q, %d)", opts.Dir, opts.Cap)
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Tier{
		opts: opts, log: opts.Logger,
		v1: filepath.Join(opts.Dir, "v1"), tmp: filepath.Join(opts.Dir, "tmp"),
		index: map[string]*list.Element{}, lru: list.New(), pending: map[string][]byte{},
		drained: make(chan struct{}), jobs: make(chan job, 1024),
	}
	for _, d := range []string{opts.Dir, t.v1, t.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("disk: %w", err)
		}
	}
	if fi, err := os.Stat(opts.Dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.log.Warn("disk cache directory is readable by others; cached bytes are visible to them", "dir", opts.Dir, "mode", fi.Mode().Perm().String())
	}
	if err := t.takeLock(); err != nil {
		return nil, err
	}
	if err := t.rebuild(); err != nil {
		t.lock.Close()
		return nil, err
	}
	for range writers {
		t.writers.Add(1)
		go t.writer()
	}
	return t, nil
}

// takeLock takes the exclusive flock on DIR/LOCK and writes our pid there.
func (t *Tier) takeLock() error {
	path := filepath.Join(t.opts.Dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s (pid %s)", ErrLocked, t.opts.Dir, strings.TrimSpace(string(holder)))
		}
		return fmt.Errorf("disk: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	t.lock = f
	return nil
}

// Close writes what is queued, stops the writer and releases the
// directory. Reads through wrapped Sources then go straight to the store.
func (t *Tier) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.jobs) // sends happen under mu with closed false
	t.mu.Unlock()
	t.writers.Wait()
	s := t.Stats()
	t.log.Debug("disk cache closed", "dir", t.opts.Dir, "hits", s.Hits, "misses", s.Misses, "corrupt", s.Corrupt,
		"writes", s.Writes, "dropped", s.Dropped, "evictions", s.Evictions, "files", s.Files, "bytes", s.Bytes)
	return t.lock.Close() // releases the flock
}

// Stats returns the counters.
func (t *Tier) Stats() Stats {
	t.mu.Lock()
	files, used, queued := int64(t.lru.Len()), t.used, t.queued
	t.mu.Unlock()
	return Stats{
		Hits: t.hits.Load(), Misses: t.misses.Load(), Corrupt: t.corrupt.Load(),
		Writes: t.writes.Load(), Dropped: t.dropped.Load(), WriteErrors: t.writeErrs.Load(),
		Evictions: t.evictions.Load(), Files: files, Bytes: used, QueuedBytes: queued,
		RemovedAtOpen: t.removedOpen,
	}
}
