package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/earthmount/earthmount/backends"
)

// TestPredictionsOutliveReadChunks: chunks fetched ahead and not read yet
// are not evicted to make room for demand reads while read chunks can go
// instead, so reading them later costs no second fetch (a - b under a
// tight budget fetched 1.46x its bytes before).
func TestPredictionsOutliveReadChunks(t *testing.T) {
	const cs = 1024
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(8, cs), ChunkSize: cs})
	var predicted []backends.ObjectInfo
	for i := range 3 {
		_, info := src.put(t, fmt.Sprintf("z/b/%d", i), cs, uint64(i))
		predicted = append(predicted, info)
		if got := c.prefetchChunk(src, "mem", info, 0); got != prefetchStarted {
			t.Fatalf("prefetch %d = %v", i, got)
		}
	}
	waitFor(t, "predictions to arrive", func() bool { return c.Stats().BytesInFlight == 0 })
	// Demand reads of 7 other chunks churn through a budget of 8 (and
	// consume less than the budget: the predictions are not stale).
	for i := range 7 {
		data, info := src.put(t, fmt.Sprintf("z/a/%d", i), cs, uint64(100+i))
		r := c.Open(src, "mem", info)
		got, err := readAll(t.Context(), r, cs, 300)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read a/%d: %v", i, err)
		}
	}
	before := src.readCount()
	for i, info := range predicted {
		r := c.Open(src, "mem", info)
		if _, err := readAll(t.Context(), r, cs, 300); err != nil {
			t.Fatalf("read b/%d: %v", i, err)
		}
		r.Close()
	}
	if n := src.readCount() - before; n != 0 {
		t.Errorf("reading the 3 predictions fetched %d times, want 0 (stats %+v)", n, c.Stats())
	}
	if st := c.Stats(); st.PrefetchUsed != 3 {
		t.Errorf("PrefetchUsed = %d, want 3", st.PrefetchUsed)
	}
}

// TestStalePredictionsMakeRoom: predictions never read stop holding
// read-ahead's half of the budget once readers have consumed the budget's
// worth of bytes: new predictions are then admitted, and demand reads
// evict stale ones before anything else.
func TestStalePredictionsMakeRoom(t *testing.T) {
	const cs = 1024
	src := newTestSource()
	budget := chunks(8, cs)
	c := newTestCache(t, Options{Budget: budget, ChunkSize: cs})
	prefetch := func(name string) prefetchResult {
		_, info := src.put(t, name, cs, 1)
		return c.prefetchChunk(src, "mem", info, 0)
	}
	for i := range 4 { // read-ahead's half of the budget
		if got := prefetch(fmt.Sprintf("old/%d", i)); got != prefetchStarted {
			t.Fatalf("prefetch old/%d = %v", i, got)
		}
	}
	waitFor(t, "predictions to arrive", func() bool { return c.Stats().BytesInFlight == 0 })
	if got := prefetch("new/0"); got != prefetchRefused {
		t.Fatalf("a fifth prediction = %v, want refused while the first four are fresh", got)
	}
	// One small object read over and over: budget+1 bytes consumed.
	_, info := src.put(t, "hot", 100, 2)
	r := c.Open(src, "mem", info)
	defer r.Close()
	buf := make([]byte, 100)
	for consumed := int64(0); consumed <= budget; consumed += 100 {
		if _, err := r.ReadAt(t.Context(), buf, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := prefetch("new/0"); got != prefetchStarted {
		t.Errorf("prediction after the old ones went stale = %v, want started", got)
	}
}

// TestHDFBlocks: a large NetCDF/HDF5 file is fetched in hdfBlockSize
// blocks, a read spanning several blocks fetches them all at once, and
// other files keep the cache's chunk size.
func TestHDFBlocks(t *testing.T) {
	const cs = 1 << 20
	src := newTestSource()
	var mu sync.Mutex
	var lens []int
	src.fault = func(ref backends.ObjectRef, off int64, n int, err error) (int, error) {
		mu.Lock()
		lens = append(lens, n)
		mu.Unlock()
		return n, err
	}
	c := newTestCache(t, Options{Budget: chunks(16, cs), ChunkSize: cs})
	tests := []struct {
		key       string
		size      int
		off, n    int
		wantReads int
		wantLen   int
	}{
		{"d/era5.nc", 4 * cs, 2*cs + 10, 100, 1, hdfBlockSize},
		{"d/era5.h5", 4 * cs, cs - 10, 3 * hdfBlockSize, 4, hdfBlockSize},
		{"d/small.nc", cs, 1000, 100, 1, cs}, // up to one chunk: whole
		{"d/big.bin", 4 * cs, 2*cs + 10, 100, 1, cs},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			data, info := src.put(t, tt.key, tt.size, 5)
			mu.Lock()
			lens = nil
			mu.Unlock()
			gate := make(chan struct{})
			src.gate = gate
			r := c.Open(src, "mem", info)
			defer r.Close()
			done := make(chan error, 1)
			p := make([]byte, tt.n)
			go func() {
				_, err := r.ReadAt(t.Context(), p, int64(tt.off))
				done <- err
			}()
			// All the blocks of the read are in flight before any returns.
			waitFor(t, "fetches to start", func() bool { return src.maxConcurrent() >= tt.wantReads })
			close(gate)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			src.gate = nil
			if !bytes.Equal(p, data[tt.off:tt.off+tt.n]) {
				t.Error("bytes differ from the object")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(lens) != tt.wantReads {
				t.Errorf("store reads = %d, want %d", len(lens), tt.wantReads)
			}
			for _, n := range lens {
				if n != tt.wantLen {
					t.Errorf("store read of %d bytes, want %d", n, tt.wantLen)
				}
			}
		})
	}
}

// TestKeptHeadTail: while a NetCDF file is open, its head and tail blocks
// survive a scan of other data through a small budget; after Close they
// are ordinary LRU entries again.
func TestKeptHeadTail(t *testing.T) {
	const cs = 1 << 20
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(8, cs) + 16*cost(hdfBlockSize), ChunkSize: cs})
	data, nc := src.put(t, "d/era5.nc", 4*cs, 5)
	r := c.Open(src, "mem", nc)
	buf := make([]byte, 100)
	for _, off := range []int64{0, 4*cs - 100} { // what an open of the file reads
		if _, err := r.ReadAt(t.Context(), buf, off); err != nil || !bytes.Equal(buf, data[off:off+100]) {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	scan := func() {
		for i := range 12 { // 12 chunks through a budget of 8
			_, info := src.put(t, fmt.Sprintf("d/other%d.bin", i), cs, uint64(i))
			o := c.Open(src, "mem", info)
			if _, err := readAll(t.Context(), o, cs, cs/4); err != nil {
				t.Fatal(err)
			}
			o.Close()
		}
	}
	reopen := func() int {
		before := src.readCount()
		r2 := c.Open(src, "mem", nc)
		defer r2.Close()
		for _, off := range []int64{0, 4*cs - 100} {
			if _, err := r2.ReadAt(t.Context(), buf, off); err != nil || !bytes.Equal(buf, data[off:off+100]) {
				t.Fatalf("read at %d: %v", off, err)
			}
		}
		return src.readCount() - before
	}
	scan()
	if n := reopen(); n != 0 {
		t.Errorf("head and tail of the open file fetched %d times after a scan, want 0", n)
	}
	r.Close()
	scan()
	if n := reopen(); n != 2 {
		t.Errorf("head and tail of the closed file fetched %d times after a scan, want 2 (back in the LRU)", n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept.Len() != 0 || c.acct.kept != 0 {
		t.Errorf("kept after every reader closed: %d blocks, %d bytes", c.kept.Len(), c.acct.kept)
	}
}

// TestSmallBlockReadAhead: a reader of 128 KiB blocks (a NetCDF file,
// opened with direct I/O) fetches ahead only the pieces that follow a
// full 1 MiB FUSE read (three after the first of a pread, even after a
// seek; then one), never past a shorter one, until it has read a whole
// chunk of the cache in one run.
func TestSmallBlockReadAhead(t *testing.T) {
	const cs = 8 << 20
	tests := []struct {
		name  string
		reads [][2]int64 // offset, length
		want  []int
	}{
		{"one 4.15 MB pread in 1 MiB pieces", [][2]int64{{0, 1 << 20}, {1 << 20, 1 << 20}, {2 << 20, 1 << 20}, {3 << 20, 1 << 20}, {4 << 20, 150 << 10}},
			[]int{24, 8, 8, 8, 0}},
		{"the same after metadata reads elsewhere, buffer not page-aligned", [][2]int64{{0, 4096}, {269484032, 3000}, {100000, 1<<20 - 1200}, {100000 + 1<<20 - 1200, 1 << 20}, {100000 + 2<<20 - 1200, 1 << 20}, {100000 + 3<<20 - 1200, 900 << 10}},
			[]int{0, 0, 24, 8, 8, 0}},
		{"a short pread, then pieces again", [][2]int64{{50 << 20, 512 << 10}, {60 << 20, 1 << 20}, {61 << 20, 1 << 20}},
			[]int{0, 24, 8}},
		{"small metadata reads", [][2]int64{{0, 8}, {8, 16}, {48, 512}, {4096, 4096}}, []int{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPattern(hdfBlockSize, cs)
			var got []int
			for _, r := range tt.reads {
				got = append(got, p.observe(r[0], r[1]))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("windows = %v, want %v", got, tt.want)
			}
		})
	}
	c := newTestCache(t, Options{Budget: 64 << 20, ChunkSize: cs})
	for _, tt := range []struct {
		key    string
		size   int64
		direct bool
	}{{"d/x.nc", 4 * cs, true}, {"d/x.nc", cs, false}, {"d/x.bin", 4 * cs, false}} {
		r := c.Open(nil, "mem", backends.ObjectInfo{Key: tt.key, Size: tt.size, Version: "v"})
		if r.Direct() != tt.direct {
			t.Errorf("%s of %d bytes: Direct() = %v, want %v", tt.key, tt.size, r.Direct(), tt.direct)
		}
		r.Close()
	}
}

// TestRandomReaderSmallBlocks: a reader of a large file that seeks around
// with small reads (a Parquet or COG reader) fetches 1 MiB blocks once it
// is detected random, not 8 MiB chunks; a chunk a sequential phase cached
// still serves it; an unversioned object's blocks of both sizes go at
// Close.
func TestRandomReaderSmallBlocks(t *testing.T) {
	const cs = 8 << 20
	src := newTestSource()
	var mu sync.Mutex
	var lens []int
	src.fault = func(ref backends.ObjectRef, off int64, n int, err error) (int, error) {
		mu.Lock()
		lens = append(lens, n)
		mu.Unlock()
		return n, err
	}
	c := newTestCache(t, Options{Budget: chunks(16, cs), ChunkSize: cs})
	data, info := src.put(t, "d/table.parquet", 6*cs, 9)
	r := c.Open(src, "mem", info)
	defer r.Close()
	buf := make([]byte, 64<<10)
	// Another reader reads the first chunk whole (sequential); this one
	// jumps around.
	seq := c.Open(src, "mem", info)
	if _, err := readAll(t.Context(), seq, cs, 1<<20); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	seq.Close()
	offs := []int64{5*cs + 100, 3*cs + 7, 4*cs + 1000, 2*cs + 5, 100, 5*cs + 2<<20}
	for _, off := range offs {
		if _, err := r.ReadAt(t.Context(), buf, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
	mu.Lock()
	got := slices.Clone(lens)
	mu.Unlock()
	// The sequential reader: chunk 0 and chunk 1 (read ahead). Then the
	// first seek fetches chunk 5; from the second seek on the reader is
	// random: 1 MiB blocks; chunks 0 and 5, cached, serve offsets 100 and
	// 5 chunks + 2 MiB without a fetch.
	want := []int{cs, cs, cs, 1 << 20, 1 << 20, 1 << 20}
	if !slices.Equal(got, want) {
		t.Errorf("store reads of %v bytes, want %v", got, want)
	}

	// Unversioned: every block goes at Close.
	_, un := src.put(t, "d/un.parquet", 4*cs, 3)
	un.Version = ""
	u := c.Open(src, "mem", un)
	for _, off := range []int64{3 * cs, cs, 2*cs + 5, 10} {
		if _, err := u.ReadAt(t.Context(), buf, off); err != nil {
			t.Fatal(err)
		}
	}
	u.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range []*simplelru.LRU[chunkKey, *chunk]{c.lru, c.ahead, c.kept} {
		for _, k := range l.Keys() {
			if k.key == "d/un.parquet" {
				t.Errorf("block %+v of a closed unversioned reader still cached", k)
			}
		}
	}
}

// TestSmallBlocksGrowWhenSequential: cp of a large NetCDF file (128 KiB
// reads from the start to the end) fetches small blocks only for its
// first chunk's worth, then whole chunks with read-ahead, and never more
// than a chunk beyond the file's bytes.
func TestSmallBlocksGrowWhenSequential(t *testing.T) {
	const cs = 1 << 20
	src := newTestSource()
	var mu sync.Mutex
	var lens []int
	src.fault = func(ref backends.ObjectRef, off int64, n int, err error) (int, error) {
		mu.Lock()
		lens = append(lens, n)
		mu.Unlock()
		return n, err
	}
	c := newTestCache(t, Options{Budget: chunks(32, cs), ChunkSize: cs})
	data, info := src.put(t, "d/era5.nc", 16*cs, 4)
	r := c.Open(src, "mem", info)
	got, err := readAll(t.Context(), r, info.Size, 128<<10)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
	waitFor(t, "read-ahead to finish", func() bool { return c.Stats().BytesInFlight == 0 })
	mu.Lock()
	defer mu.Unlock()
	small, whole, total := 0, 0, 0
	for _, n := range lens {
		total += n
		switch n {
		case hdfBlockSize:
			small++
		case cs:
			whole++
		}
	}
	if small > cs/hdfBlockSize || whole < 14 || total > 17*cs {
		t.Errorf("%d small blocks, %d chunks, %d bytes fetched for %d: want at most %d small blocks, then chunks, at most a chunk over",
			small, whole, total, info.Size, cs/hdfBlockSize)
	}
}
