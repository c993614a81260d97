package cache

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPatternWindows(t *testing.T) {
	const cs = 1024
	type read struct{ off, n int64 }
	seq := func(start, step int64, count int) []read {
		var rs []read
		for i := range count {
			rs = append(rs, read{start + int64(i)*step, step})
		}
		return rs
	}
	tests := []struct {
		name  string
		reads []read
		want  []int // window after each read
	}{
		{"first read at 0 starts at 1", []read{{0, 128}}, []int{1}},
		{"first read elsewhere is a seek", []read{{5000, 128}, {5128, 128}}, []int{0, 1}},
		{"doubles per new chunk", seq(0, 512, 12), []int{1, 1, 2, 2, 4, 4, 8, 8, 16, 16, 16, 16}},
		{"tolerates small reordering", []read{{0, 64}, {64, 64}, {192, 64}, {128, 64}, {256, 64}, {1024, 64}}, []int{1, 1, 1, 1, 1, 2}},
		{"small forward skip stays sequential", []read{{0, 512}, {512, 512}, {2000, 100}}, []int{1, 1, 2}},
		{"seek drops the window", []read{{0, 1024}, {1024, 1024}, {50000, 100}}, []int{1, 2, 0}},
		{"two seeks with small reads: random", []read{{0, 100}, {40000, 100}, {9000, 100}, {9100, 100}, {9200, 100}}, []int{1, 0, 0, 0, 0}},
		{"long run after random re-qualifies", append([]read{{0, 100}, {40000, 100}, {9000, 100}}, seq(9100, 512, 5)...), []int{1, 0, 0, 0, 0, 0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPattern(cs, cs)
			var got []int
			for _, r := range tt.reads {
				got = append(got, p.observe(r.off, r.n))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("windows = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPatternKernelReordering: the kernel's read-ahead sends several
// async reads at once and they arrive in any order, pieces several
// chunk-eighths behind the furthest one, or a chunk ahead of it, included;
// a plain sequential copy must never be taken for a random reader (which
// would fetch small blocks), and within a chunk's reordering it stays one
// sequential run whose window grows.
func TestPatternKernelReordering(t *testing.T) {
	const cs, piece = 1024, 128 // eight pieces per chunk, like 1 MiB FUSE reads of 8 MiB chunks
	for _, tc := range []struct {
		name      string
		batch     int64 // pieces delivered shuffled together
		wantSeeks bool  // some arrivals may look like seeks
	}{
		{"shuffled within each chunk", 8, false},
		{"shuffled across two chunks", 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPattern(cs, cs)
			rng := rand.New(rand.NewPCG(1, 2))
			maxWin := p.observe(0, piece) // the program's own first read comes first
			for b := int64(0); b < 128/tc.batch; b++ {
				offs := make([]int64, tc.batch)
				for i := range offs {
					offs[i] = (b*tc.batch + int64(i)) * piece
				}
				rng.Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
				for _, off := range offs {
					maxWin = max(maxWin, p.observe(off, piece))
					if p.random() {
						t.Fatalf("read at %d made the reader random (%d seeks, %d bytes)", off, p.seeks, p.bytes)
					}
				}
			}
			if !tc.wantSeeks && (p.seeks > 0 || maxWin < 8) {
				t.Errorf("%d seeks, largest window %d: want none and a window that grew to 8+", p.seeks, maxWin)
			}
		})
	}
}

func TestPatternShrink(t *testing.T) {
	p := newPattern(1024, 1024)
	p.window = 16
	for _, want := range []int{8, 4, 2, 1, 1} {
		p.shrink()
		if p.window != want {
			t.Fatalf("window = %d, want %d", p.window, want)
		}
	}
}

// TestReadAheadSequential: a sequential reader over a store with latency
// finds most chunks fetched ahead, and finishes far faster than one round
// trip per chunk.
func TestReadAheadSequential(t *testing.T) {
	const (
		cs      = 16 << 10
		nChunks = 32
		latency = 20 * time.Millisecond
	)
	src := newTestSource()
	src.latency = latency
	c := newTestCache(t, Options{Budget: chunks(64, cs), ChunkSize: cs})
	data, info := src.put(t, "big", nChunks*cs, 1)
	r := c.Open(src, "mem", info)
	defer r.Close()
	start := time.Now()
	got, err := readAll(t.Context(), r, info.Size, cs/8)
	elapsed := time.Since(start)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readAll: %v", err)
	}
	s := c.Stats()
	t.Logf("elapsed %v, stats %+v, store reads %d", elapsed, s, src.readCount())
	if n := src.readCount(); n != nChunks {
		t.Errorf("store reads = %d, want %d (each chunk once)", n, nChunks)
	}
	if s.PrefetchIssued < nChunks-2 || s.PrefetchUsed < nChunks-2 {
		t.Errorf("PrefetchIssued %d, PrefetchUsed %d; want >= %d", s.PrefetchIssued, s.PrefetchUsed, nChunks-2)
	}
	// Without read-ahead: 32 round trips, 640 ms. With it the reader
	// waits for about log2(16)+2 of them.
	if elapsed > nChunks*latency/2 {
		t.Errorf("sequential read took %v, want < %v", elapsed, nChunks*latency/2)
	}
}

// TestReadAheadStopsForRandom: small reads at random places get no
// read-ahead once classified random.
func TestReadAheadStopsForRandom(t *testing.T) {
	const cs = 1024
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(16, cs), ChunkSize: cs})
	data, info := src.put(t, "big", 200*cs, 1)
	r := c.Open(src, "mem", info)
	defer r.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 100)
	// Seek, then read a few adjacent small pieces (like HDF5 B-tree
	// nodes): each run looks sequential for a moment.
	for range 100 {
		start := rng.Int64N(info.Size - 300)
		for off := start; off < start+300; off += 100 {
			if _, err := r.ReadAt(t.Context(), p, off); err != nil || !bytes.Equal(p, data[off:off+100]) {
				t.Fatalf("ReadAt(%d): %v", off, err)
			}
		}
	}
	if s := c.Stats(); s.PrefetchIssued > 1 {
		t.Errorf("PrefetchIssued = %d for a random reader, want <= 1", s.PrefetchIssued)
	}
}

// TestReadAheadBoundedPerReader: one reader never has more than maxWindow
// read-ahead fetches in flight, and read-ahead stays within half the
// budget.
func TestReadAheadBoundedPerReader(t *testing.T) {
	const cs = 1024
	src := newTestSource()
	src.gate = make(chan struct{})
	budget := chunks(100, cs)
	c := newTestCache(t, Options{Budget: budget, ChunkSize: cs, MaxInflight: 64})
	_, info := src.put(t, "big", 200*cs, 1)
	r := c.Open(src, "mem", info)
	defer r.Close()
	done := make(chan error, 1)
	go func() {
		_, err := readAll(t.Context(), r, info.Size, cs)
		done <- err
	}()
	waitFor(t, "first read-ahead", func() bool { return c.Stats().PrefetchIssued >= 1 })
	close(src.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := src.maxConcurrent(); m > maxWindow+1 {
		t.Errorf("max concurrent fetches of one reader = %d, want <= %d", m, maxWindow+1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.acct.prefetch < 0 || c.acct.inflight != 0 {
		t.Errorf("accounting after the read: prefetch %d, inflight %d", c.acct.prefetch, c.acct.inflight)
	}
}

// TestCloseCancelsReadAhead: Close stops the Reader's read-ahead fetches
// and their reservations are given back.
func TestCloseCancelsReadAhead(t *testing.T) {
	const cs = 1024
	src := newTestSource()
	gate := make(chan struct{})
	c := newTestCache(t, Options{Budget: chunks(32, cs), ChunkSize: cs})
	data, info := src.put(t, "big", 32*cs, 1)
	r := c.Open(src, "mem", info)
	// The first read and its read-ahead of chunk 1 are served at once;
	// the next read-ahead then hangs on the gate.
	p := make([]byte, cs)
	if _, err := r.ReadAt(t.Context(), p, 0); err != nil || !bytes.Equal(p, data[:cs]) {
		t.Fatal(err)
	}
	waitFor(t, "read-ahead of chunk 1", func() bool { return c.Stats().BytesCached == chunks(2, cs) })
	src.mu.Lock()
	src.gate = gate
	src.mu.Unlock()
	if _, err := r.ReadAt(t.Context(), p, cs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "read-ahead in flight", func() bool { return c.Stats().BytesInFlight > 0 })
	r.Close()
	waitFor(t, "read-ahead cancelled", func() bool { return c.Stats().BytesInFlight == 0 })
	if _, err := r.ReadAt(context.Background(), p, 0); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("read after Close: err = %v, want fs.ErrClosed", err)
	}
	close(gate)
}
