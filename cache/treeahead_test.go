package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// keyLog wraps a testSource and records the key of every read, in the
// order the reads started.
type keyLog struct {
	*testSource
	mu   sync.Mutex
	keys []string
	offs []int64
}

func (k *keyLog) ReadAt(ctx context.Context, ref backends.ObjectRef, p []byte, off int64) (int, error) {
	k.mu.Lock()
	k.keys = append(k.keys, ref.Key)
	k.offs = append(k.offs, off)
	k.mu.Unlock()
	return k.testSource.ReadAt(ctx, ref, p, off)
}

func (k *keyLog) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys, k.offs = nil, nil
}

func (k *keyLog) read() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.keys)
}

// treeFixture is a store with small files in directories, a Meta over it
// with every directory listed (as a walker's readdir leaves them), a
// cache and a TreeAhead.
type treeFixture struct {
	src  *keyLog
	meta *Meta
	c    *Cache
	ta   *TreeAhead
	data map[string][]byte
}

func newTreeFixture(t *testing.T, latency time.Duration, budget int64, dirs map[string]int) *treeFixture {
	t.Helper()
	const cs = 64 << 10
	src := &keyLog{testSource: newTestSource()}
	src.latency = latency
	fx := &treeFixture{src: src, data: map[string][]byte{}}
	seed := uint64(1)
	for dir, n := range dirs {
		for i := range n {
			key := fmt.Sprintf("%sf%03d", dir, i)
			fx.data[key], _ = src.put(t, key, 1000+int(seed%7)*900, seed)
			seed++
		}
	}
	fx.meta = NewMeta(src.store, MetaOptions{Remote: "mem"})
	t.Cleanup(func() { _ = fx.meta.Close() })
	fx.c = newTestCache(t, Options{Budget: budget, ChunkSize: cs})
	fx.ta = NewTreeAhead(fx.c, fx.meta, src, "mem")
	return fx
}

// list reads the whole listing of prefix.
func (fx *treeFixture) list(t *testing.T, prefix string) []Entry {
	t.Helper()
	d := fx.meta.OpenDir(prefix)
	var out []Entry
	for {
		b, err := d.Next(t.Context())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
}

// open does what fs does on open and read of a whole file.
func (fx *treeFixture) open(t *testing.T, prefix string, e Entry) int {
	t.Helper()
	started := fx.ta.Opened(prefix, e.Name, false)
	r := fx.c.Open(fx.src, "mem", e.Info)
	defer r.Close()
	got, err := readAll(t.Context(), r, e.Info.Size, 4096)
	if err != nil || !bytes.Equal(got, fx.data[e.Info.Key]) {
		t.Fatalf("read %s: %v (bytes equal: %v)", e.Info.Key, err, bytes.Equal(got, fx.data[e.Info.Key]))
	}
	return started
}

func files(es []Entry) []Entry {
	return slices.DeleteFunc(slices.Clone(es), func(e Entry) bool { return e.Dir })
}

// TestTreeAheadListingOrder: a walker reading 60 files in listing order at
// 20 ms per request gets each file fetched once, most of them ahead, and
// takes a fraction of one round trip per file.
func TestTreeAheadListingOrder(t *testing.T) {
	const n, latency = 60, 20 * time.Millisecond
	fx := newTreeFixture(t, latency, 64<<20, map[string]int{"b/d/": n})
	es := files(fx.list(t, "b/d/"))
	start := time.Now()
	for _, e := range es {
		fx.open(t, "b/d/", e)
	}
	elapsed := time.Since(start)
	if got := len(fx.src.read()); got != n {
		t.Errorf("%d store reads for %d files; want exactly one each", got, n)
	}
	st := fx.c.Stats()
	if st.PrefetchUsed < n-4 {
		t.Errorf("%d of %d files were fetched ahead; want at least %d (stats %+v)", st.PrefetchUsed, n, n-4, st)
	}
	if serial := n * latency; elapsed > serial/4 {
		t.Errorf("walk took %v; one round trip per file would be %v, want under a quarter", elapsed, serial)
	}
}

// TestTreeAheadRequestOrder: the fetches follow the listing, start with a
// small window and double it with every open in order.
func TestTreeAheadRequestOrder(t *testing.T) {
	fx := newTreeFixture(t, 0, 64<<20, map[string]int{"b/d/": 40})
	es := files(fx.list(t, "b/d/"))
	var started []int
	for _, e := range es[:4] {
		started = append(started, fx.open(t, "b/d/", e))
		waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
	}
	// Window 4 at f000 (f001-f004), 8 at f001 (f002-f009: f005-f009 are
	// new), 16 at f002 (f010-f018 new), 32 at f003 (f019-f035 new).
	if want := []int{4, 5, 9, 17}; !slices.Equal(started, want) {
		t.Errorf("fetches started per open = %v, want %v", started, want)
	}
	var want []string
	for i := 1; i <= 35; i++ {
		want = append(want, fmt.Sprintf("b/d/f%03d", i))
	}
	got := fx.src.read()
	got = slices.DeleteFunc(got, func(k string) bool { return k == "b/d/f000" })
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("keys fetched = %v\nwant f001..f035 once each", got)
	}
}

// TestTreeAheadNotForPickers: programs that open files out of listing
// order (a random pick, backwards) trigger no fetch beyond their own.
func TestTreeAheadNotForPickers(t *testing.T) {
	tests := []struct {
		name  string
		order []int
	}{
		{"random", []int{17, 3, 29, 11, 5, 23}},
		{"backwards", []int{30, 29, 28, 27, 26}},
		{"middle first", []int{12}},
		{"jumps", []int{0, 20, 5, 35}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newTreeFixture(t, 0, 64<<20, map[string]int{"b/d/": 40})
			es := files(fx.list(t, "b/d/"))
			for _, i := range tt.order {
				fx.open(t, "b/d/", es[i])
			}
			waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
			extra := len(fx.src.read()) - len(tt.order)
			// Only "jumps" starts at the first file: its window of 4 is
			// the whole waste allowed.
			if limit := map[bool]int{true: treeStartWindow, false: 0}[tt.order[0] == 0]; extra > limit {
				t.Errorf("%d files fetched that nobody opened; want at most %d", extra, limit)
			}
		})
	}
}

// TestTreeAheadNextDirectory: at the end of a leaf directory the window
// continues into the next directory of the parent, as rsync and cp walk.
func TestTreeAheadNextDirectory(t *testing.T) {
	fx := newTreeFixture(t, 0, 64<<20, map[string]int{"b/d0/": 6, "b/d1/": 6, "b/d2/": 6})
	fx.list(t, "b/")
	for _, d := range []string{"b/d0/", "b/d1/", "b/d2/"} {
		fx.list(t, d)
	}
	for _, e := range files(fx.list(t, "b/d0/")) {
		fx.open(t, "b/d0/", e)
	}
	waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
	before := len(fx.src.read())
	for _, e := range files(fx.list(t, "b/d1/")) {
		fx.open(t, "b/d1/", e)
	}
	waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
	var d1 int
	for _, k := range fx.src.read()[:before] {
		if len(k) > 5 && k[:5] == "b/d1/" {
			d1++
		}
	}
	if d1 != 6 {
		t.Errorf("%d of b/d1's 6 files fetched while b/d0 was read; want all", d1)
	}
	if got := len(fx.src.read()); got != 18 {
		t.Errorf("%d reads for 18 files; want one each", got)
	}
}

// TestTreeAheadSkipsWhatItMustNot: files over one chunk and files without
// a version are never fetched ahead, and the budget holds.
func TestTreeAheadSkipsWhatItMustNot(t *testing.T) {
	fx := newTreeFixture(t, 0, chunks(8, 64<<10), map[string]int{})
	big := bytes.Repeat([]byte("x"), 100<<10)
	for i := range 20 {
		if i%2 == 0 {
			fx.src.store.Put(fmt.Sprintf("b/d/f%03d", i), big)
		} else {
			fx.src.store.Put(fmt.Sprintf("b/d/f%03d", i), []byte("small"))
		}
	}
	es := files(fx.list(t, "b/d/"))
	for _, e := range es[:3] {
		fx.ta.Opened("b/d/", e.Name, false)
	}
	waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
	for _, k := range fx.src.read() {
		var i int
		fmt.Sscanf(k, "b/d/f%03d", &i)
		if i%2 == 0 {
			t.Errorf("fetched %s, a file over one chunk", k)
		}
	}
	if st := fx.c.Stats(); st.PeakBytes > chunks(8, 64<<10) {
		t.Errorf("peak %d bytes over the budget", st.PeakBytes)
	}

	fx2 := newTreeFixture(t, 0, 64<<20, map[string]int{"b/u/": 10})
	var unversioned []Entry
	for _, e := range files(fx2.list(t, "b/u/")) {
		e.Info.Version = ""
		unversioned = append(unversioned, e)
	}
	if n, _ := fx2.ta.fetch(unversioned, treeMaxBytes); n != 0 || len(fx2.src.read()) != 0 {
		t.Errorf("%d unversioned files fetched ahead; want none", n)
	}
}

// TestTreeAheadStrict: in a Zarr array the window opens only after a step
// to the very next file, so a time series (every fourth file in listing
// order) fetches nothing, while cp -r of the array still gets read-ahead.
func TestTreeAheadStrict(t *testing.T) {
	tests := []struct {
		name    string
		order   []int
		started []int
	}{
		{"listing order", []int{0, 1, 2, 3}, []int{0, 4, 5, 9}},
		{"every fourth", []int{0, 4, 8, 12, 16}, []int{0, 0, 0, 0, 0}},
		{"order broken", []int{0, 1, 5, 6}, []int{0, 4, 0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newTreeFixture(t, 0, 64<<20, map[string]int{"b/z/": 40})
			es := files(fx.list(t, "b/z/"))
			var got []int
			for _, i := range tt.order {
				got = append(got, fx.ta.Opened("b/z/", es[i].Name, true))
				waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
			}
			if !slices.Equal(got, tt.started) {
				t.Errorf("fetches started per open = %v, want %v", got, tt.started)
			}
		})
	}
}
