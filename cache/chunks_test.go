package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// TestSingleFlight: N readers of one chunk cause one fetch.
func TestSingleFlight(t *testing.T) {
	const readers = 32
	src := newTestSource()
	src.gate = make(chan struct{})
	c := newTestCache(t, Options{Budget: chunks(4, 1024), ChunkSize: 1024})
	data, info := src.put(t, "k", 1000, 1)

	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Open(src, "mem", info)
			defer r.Close()
			p := make([]byte, 1000)
			n, err := r.ReadAt(t.Context(), p, 0)
			if n != 1000 || !bytes.Equal(p, data) {
				err = fmt.Errorf("ReadAt = %d, %v", n, err)
			}
			errs <- err
		}()
	}
	waitFor(t, "all readers to wait", func() bool { return c.Stats().Misses+c.Stats().Hits == readers })
	close(src.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := src.readCount(); n != 1 {
		t.Errorf("store reads = %d, want 1", n)
	}
}

// TestCancelledWaiterDoesNotFailOthers: the reader that started a fetch
// gives up; the fetch goes on and the other waiter gets the bytes.
func TestCancelledWaiterDoesNotFailOthers(t *testing.T) {
	src := newTestSource()
	src.gate = make(chan struct{})
	c := newTestCache(t, Options{Budget: chunks(4, 1024), ChunkSize: 1024})
	data, info := src.put(t, "k", 1000, 1)

	ctxA, cancelA := context.WithCancel(t.Context())
	errA := make(chan error, 1)
	go func() {
		r := c.Open(src, "mem", info)
		defer r.Close()
		_, err := r.ReadAt(ctxA, make([]byte, 10), 0)
		errA <- err
	}()
	waitFor(t, "A to start the fetch", func() bool { return src.readCount() == 1 })
	type result struct {
		n   int
		err error
		p   []byte
	}
	resB := make(chan result, 1)
	go func() {
		r := c.Open(src, "mem", info)
		defer r.Close()
		p := make([]byte, 1000)
		n, err := r.ReadAt(t.Context(), p, 0)
		resB <- result{n, err, p}
	}()
	waitFor(t, "B to join", func() bool { return c.Stats().Misses == 2 })
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Fatalf("A: err = %v, want context.Canceled", err)
	}
	close(src.gate)
	b := <-resB
	if b.err != nil || b.n != 1000 || !bytes.Equal(b.p, data) {
		t.Fatalf("B: %d, %v", b.n, b.err)
	}
	if n := src.readCount(); n != 1 {
		t.Errorf("store reads = %d, want 1", n)
	}
}

// TestBudgetManyReaders: 1,000 open files read at once over a slow store;
// memory counted against the budget never exceeds it and every byte is
// right.
func TestBudgetManyReaders(t *testing.T) {
	const (
		cs      = 4096
		files   = 1000
		perFile = 3*cs + 100
	)
	src := newTestSource()
	src.latency = time.Millisecond
	budget := chunks(16, cs)
	c := newTestCache(t, Options{Budget: budget, ChunkSize: cs, MaxInflight: 8})
	type file struct {
		data []byte
		r    *Reader
	}
	fs := make([]file, files)
	for i := range fs {
		data, info := src.put(t, fmt.Sprintf("f%04d", i), perFile, uint64(i))
		fs[i] = file{data, c.Open(src, "mem", info)}
	}
	var wg sync.WaitGroup
	errs := make(chan error, files)
	for i := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer fs[i].r.Close()
			got, err := readAll(t.Context(), fs[i].r, perFile, 1000)
			if err == nil && !bytes.Equal(got, fs[i].data) {
				err = fmt.Errorf("file %d: wrong bytes", i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := c.Stats()
	if s.PeakBytes > budget {
		t.Errorf("PeakBytes %d > budget %d", s.PeakBytes, budget)
	}
	if s.PeakBytes < budget/2 {
		t.Errorf("PeakBytes %d: the test did not fill the budget %d", s.PeakBytes, budget)
	}
	if m := src.maxConcurrent(); m > 8 {
		t.Errorf("max concurrent fetches = %d, want <= MaxInflight 8", m)
	}
	t.Logf("stats: %+v, store reads %d", s, src.readCount())
}

// TestDemandWaitsForRoom: with every byte of the budget in flight a new
// read waits, and gives up when its ctx ends; it proceeds once room frees.
func TestDemandWaitsForRoom(t *testing.T) {
	const cs = 1024
	src := newTestSource()
	src.gate = make(chan struct{})
	c := newTestCache(t, Options{Budget: chunks(2, cs), ChunkSize: cs})
	var wg sync.WaitGroup
	read := func(ctx context.Context, key string, seed uint64) error {
		data, info := src.put(t, key, cs, seed)
		r := c.Open(src, "mem", info)
		defer r.Close()
		p := make([]byte, cs)
		if _, err := r.ReadAt(ctx, p, 0); err != nil {
			return err
		}
		if !bytes.Equal(p, data) {
			return errors.New("wrong bytes")
		}
		return nil
	}
	errs := make(chan error, 3)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- read(t.Context(), fmt.Sprint("a", i), uint64(i)) }()
	}
	waitFor(t, "two fetches in flight", func() bool { return c.Stats().BytesInFlight == chunks(2, cs) })

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := read(ctx, "b", 9); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third read with no room: err = %v, want DeadlineExceeded", err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); errs <- read(t.Context(), "c", 10) }()
	close(src.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.PeakBytes > chunks(2, cs) {
		t.Errorf("PeakBytes %d over budget", s.PeakBytes)
	}
}

// TestBuffersRecycled: a long sequential read through a small budget
// reuses chunk buffers instead of allocating one per chunk.
func TestBuffersRecycled(t *testing.T) {
	const cs = 4096
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(4, cs), ChunkSize: cs})
	data, info := src.put(t, "big", 64*cs, 1)
	r := c.Open(src, "mem", info)
	defer r.Close()
	got, err := readAll(t.Context(), r, info.Size, cs/2)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readAll: %v", err)
	}
	c.mu.Lock()
	allocs := c.acct.allocs
	c.mu.Unlock()
	if allocs > 4 {
		t.Errorf("allocated %d chunk buffers for 64 chunks with room for 4; want <= 4", allocs)
	}
	if s := c.Stats(); s.Evictions < 60 {
		t.Errorf("Evictions = %d, want >= 60", s.Evictions)
	}
}

// TestStressAccounting mixes sequential and random readers, cancelled
// reads and early closes over a small budget, then checks the books.
func TestStressAccounting(t *testing.T) {
	const cs = 2048
	src := newTestSource()
	src.latency = 200 * time.Microsecond
	budget := chunks(12, cs)
	c := newTestCache(t, Options{Budget: budget, ChunkSize: cs, MaxInflight: 6})
	type obj struct {
		data []byte
		info backends.ObjectInfo
	}
	var objs []obj
	for i, size := range []int{0, 1, cs, cs + 1, 5*cs + 3, 20 * cs, 40*cs - 1} {
		data, info := src.put(t, fmt.Sprint("o", i), size, uint64(i))
		objs = append(objs, obj{data, info})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 30 {
				o := objs[rng.IntN(len(objs))]
				r := c.Open(src, "mem", o.info)
				ctx, cancel := context.WithTimeout(t.Context(), time.Duration(rng.IntN(3000))*time.Microsecond)
				sequential := rng.IntN(2) == 0
				off := int64(0)
				for range 1 + rng.IntN(20) {
					n := 1 + rng.IntN(3*cs)
					if !sequential && o.info.Size > 0 {
						off = rng.Int64N(o.info.Size)
					}
					p := make([]byte, n)
					got, err := r.ReadAt(ctx, p, off)
					if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, context.DeadlineExceeded) {
						errs <- err
						break
					}
					if want := o.data[min(off, o.info.Size):min(off+int64(got), o.info.Size)]; !bytes.Equal(p[:got], want) {
						errs <- fmt.Errorf("wrong bytes at %d", off)
					}
					off += int64(got)
				}
				cancel()
				r.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitFor(t, "fetches to finish", func() bool { return c.Stats().BytesInFlight == 0 })
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.acct
	var cached, prefetched int64
	for _, ch := range append(append(c.lru.Values(), c.ahead.Values()...), c.kept.Values()...) {
		cached += ch.cost
		if ch.prefetched {
			prefetched += ch.cost
		}
		if ch.refs != 0 {
			t.Errorf("chunk still pinned: refs %d", ch.refs)
		}
	}
	if a.used != a.cached+a.inflight+a.free+a.pinned || a.used > a.budget || a.pinned != 0 ||
		a.cached != cached || a.prefetch != prefetched || a.free != int64(len(a.freeBufs))*cost(cs) || a.demandWaiting != 0 {
		t.Errorf("books wrong: %+v (LRU holds %d, prefetched %d)", a, cached, prefetched)
	}
	if s := c.Stats(); s.PeakBytes > budget {
		t.Errorf("PeakBytes %d > budget %d", s.PeakBytes, budget)
	}
	if len(c.fetches) != 0 {
		t.Errorf("%d fetches left", len(c.fetches))
	}
}
