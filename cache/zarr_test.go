package cache

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// zarrFixture is a Zarr store in a test source, with a Meta, a cache and
// the Zarr awareness over them, used the way fs uses them.
type zarrFixture struct {
	src  *keyLog
	meta *Meta
	c    *Cache
	z    *Zarr
	data map[string][]byte
}

func newZarrFixture(t *testing.T, latency time.Duration, cs int64) *zarrFixture {
	t.Helper()
	src := &keyLog{testSource: newTestSource()}
	src.latency = latency
	fx := &zarrFixture{src: src, data: map[string][]byte{}}
	fx.meta = NewMeta(src.store, MetaOptions{Remote: "mem"})
	t.Cleanup(func() { _ = fx.meta.Close() })
	fx.c = newTestCache(t, Options{Budget: 64 << 20, ChunkSize: cs})
	fx.z = NewZarr(fx.c, fx.meta, src, "mem")
	return fx
}

func (fx *zarrFixture) put(t *testing.T, key string, data []byte) {
	t.Helper()
	fx.data[key] = data
	fx.src.store.Put(key, data)
}

// writeV2 writes a 20x2x2-chunk store at root: t2m and precip (chunks of
// 600 bytes, t2m/3.1.0 missing), and coordinates time, lat, lon.
func (fx *zarrFixture) writeV2(t *testing.T, root, sep string, consolidated bool) {
	t.Helper()
	arr := func(shape, chunks string, dims string) (string, string) {
		za := fmt.Sprintf(`{"zarr_format": 2, "shape": %s, "chunks": %s, "dtype": "<f4", "compressor": null, "fill_value": "NaN", "order": "C", "filters": null, "dimension_separator": %q}`, shape, chunks, sep)
		return za, fmt.Sprintf(`{"_ARRAY_DIMENSIONS": %s}`, dims)
	}
	docs := map[string][2]string{}
	for _, v := range []string{"t2m", "precip"} {
		za, at := arr("[200, 90, 180]", "[10, 45, 90]", `["time", "lat", "lon"]`)
		docs[v] = [2]string{za, at}
	}
	for _, c := range []struct{ name, n string }{{"time", "200"}, {"lat", "90"}, {"lon", "180"}} {
		za, at := arr("["+c.n+"]", "["+c.n+"]", `["`+c.name+`"]`)
		docs[c.name] = [2]string{za, at}
	}
	var meta []string
	fx.put(t, root+".zgroup", []byte(`{"zarr_format": 2}`))
	meta = append(meta, `".zgroup": {"zarr_format": 2}`)
	for name, d := range docs {
		fx.put(t, root+name+"/.zarray", []byte(d[0]))
		fx.put(t, root+name+"/.zattrs", []byte(d[1]))
		meta = append(meta, fmt.Sprintf(`"%s/.zarray": %s, "%s/.zattrs": %s`, name, d[0], name, d[1]))
	}
	if consolidated {
		fx.put(t, root+".zmetadata", []byte(`{"zarr_consolidated_format": 1, "metadata": {`+strings.Join(meta, ", ")+`}}`))
	}
	for _, c := range []string{"time", "lat", "lon"} {
		fx.put(t, root+c+"/0", bytes.Repeat([]byte(c[:1]), 300))
	}
	for _, v := range []string{"t2m", "precip"} {
		for i := range 20 {
			for j := range 2 {
				for k := range 2 {
					if v == "t2m" && i == 3 && j == 1 && k == 0 {
						continue
					}
					key := fmt.Sprintf("%s%s/%d%s%d%s%d", root, v, i, sep, j, sep, k)
					fx.put(t, key, bytes.Repeat([]byte{byte(i), byte(j), byte(k)}, 200))
				}
			}
		}
	}
}

// lookup resolves a path below root as the kernel does, one component
// at a time, telling z what it found.
func (fx *zarrFixture) lookup(t *testing.T, key string) (Entry, error) {
	t.Helper()
	prefix := ""
	parts := strings.Split(key, "/")
	var e Entry
	for i, p := range parts {
		var err error
		e, err = fx.meta.Lookup(t.Context(), prefix, p)
		if err != nil {
			return e, err
		}
		fx.z.Found(prefix, e)
		if i < len(parts)-1 {
			prefix += p + "/"
		}
	}
	return e, nil
}

// read does what fs does for stat + open + read of a whole file.
func (fx *zarrFixture) read(t *testing.T, key string) {
	t.Helper()
	e, err := fx.lookup(t, key)
	if err != nil {
		t.Fatalf("lookup %s: %v", key, err)
	}
	r := fx.c.Open(fx.src, "mem", e.Info)
	defer r.Close()
	r.StartFetches()
	dir, name := splitKey(key)
	fx.z.Opened(dir, name, e.Info)
	got, err := readAll(t.Context(), r, e.Info.Size, 4096)
	if err != nil || !bytes.Equal(got, fx.data[key]) {
		t.Fatalf("read %s: %v", key, err)
	}
}

func (fx *zarrFixture) arrays() int {
	fx.z.mu.Lock()
	defer fx.z.mu.Unlock()
	return len(fx.z.arrays)
}

// fetchedOnce checks that every key was fetched from the store at most once.
func (fx *zarrFixture) fetchedOnce(t *testing.T) []string {
	t.Helper()
	keys := fx.src.read()
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("%s fetched twice", k)
		}
		seen[k] = true
	}
	return keys
}

// TestZarrConsolidatedStore: opening a consolidated store fetches its
// coordinates; chunk lookups are answered from one listing per array,
// missing chunks included; a point time series is fetched ahead.
func TestZarrConsolidatedStore(t *testing.T) {
	const latency = 20 * time.Millisecond
	fx := newZarrFixture(t, latency, 64<<10)
	root := "b/s.zarr/"
	fx.writeV2(t, root, ".", true)
	fx.read(t, root+".zmetadata")
	waitFor(t, "arrays parsed", func() bool { return fx.arrays() == 5 })
	waitFor(t, "coordinates fetched", func() bool {
		n := 0
		for _, k := range fx.src.read() {
			if k == root+"time/0" || k == root+"lat/0" || k == root+"lon/0" {
				n++
			}
		}
		return n == 3
	})
	// xarray reads the coordinates: time three times. All hit.
	before := len(fx.src.read())
	for _, k := range []string{"time/0", "time/0", "lat/0", "lon/0", "time/0"} {
		fx.read(t, root+k)
	}
	if got := len(fx.src.read()); got != before {
		t.Errorf("%d fetches for coordinates fetched at open; want none", got-before)
	}

	fx.src.store.ResetCounts()
	if _, err := fx.lookup(t, root+"t2m/0.0.0"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"t2m/5.1.1", "t2m/19.0.1", "t2m/.zarray"} {
		if _, err := fx.lookup(t, root+k); err != nil {
			t.Errorf("lookup %s: %v", k, err)
		}
	}
	if _, err := fx.lookup(t, root+"t2m/3.1.0"); !errors.Is(err, backends.ErrNotExist) {
		t.Errorf("lookup of the missing chunk: %v, want ErrNotExist", err)
	}
	if c := fx.src.store.Counts(); c["stat"] != 0 || c["list"] > 2 {
		t.Errorf("requests for chunk lookups: %v; want one listing of the store and one of t2m, no stat", c)
	}

	// A point series along time: 20 chunks, one missing.
	start := time.Now()
	fx.src.reset()
	for i := range 20 {
		key := fmt.Sprintf("%st2m/%d.0.1", root, i)
		fx.read(t, key)
	}
	elapsed := time.Since(start)
	keys := fx.fetchedOnce(t)
	off := 0
	for _, k := range keys {
		if !strings.HasSuffix(k, ".0.1") && !strings.HasSuffix(k, "/.zarray") {
			off++ // the neighbours tried before the stride shows
		}
	}
	if off > 4 {
		t.Errorf("%d chunks fetched off the series (%v); want at most 4", off, keys)
	}
	if serial := 20 * latency; elapsed > serial/2 {
		t.Errorf("series took %v; one round trip per chunk is %v", elapsed, serial)
	}
	if st := fx.c.Stats(); st.PrefetchUsed < 20 {
		t.Errorf("only %d chunks were read ahead (stats %+v)", st.PrefetchUsed, st)
	}
}

// TestZarrNestedUnconsolidated: a "/"-separated store without consolidated
// metadata is recognised from its .zarray; predicted chunks in directories
// not listed yet are listed in the background and fetched.
func TestZarrNestedUnconsolidated(t *testing.T) {
	fx := newZarrFixture(t, 5*time.Millisecond, 64<<10)
	root := "b/n.zarr/"
	fx.writeV2(t, root, "/", false)
	if _, err := fx.lookup(t, root+"t2m/.zarray"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "array parsed", func() bool {
		fx.z.mu.Lock()
		defer fx.z.mu.Unlock()
		return fx.z.arrays[root+"t2m/"] != nil // the others too, from the store's lookup
	})
	for i := range 20 {
		fx.read(t, fmt.Sprintf("%st2m/%d/1/1", root, i))
		// The reader computes; the background listings get a turn.
		waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
	}
	keys := fx.fetchedOnce(t)
	if st := fx.c.Stats(); st.PrefetchUsed < 14 {
		t.Errorf("%d of 20 chunks read ahead; want at least 14 (fetched %v)", st.PrefetchUsed, keys)
	}
	var off int
	for _, k := range keys {
		if strings.HasPrefix(k, root+"t2m/") && !strings.HasSuffix(k, "/1/1") {
			off++
		}
	}
	if off > 5 {
		t.Errorf("%d chunks fetched off the series; want at most 5", off)
	}
}

// TestZarrShardIndex: opening a v3 shard fetches its index (the last
// block) with its first; the index re-reads before each inner chunk, and
// inner-chunk ranges of one block, cost no further request.
func TestZarrShardIndex(t *testing.T) {
	const cs = 1024
	fx := newZarrFixture(t, 0, cs)
	root := "b/v3.zarr/"
	fx.put(t, root+"x/zarr.json", []byte(`{"zarr_format": 3, "node_type": "array", "shape": [8, 8], "data_type": "uint8",
		"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 8]}},
		"chunk_key_encoding": {"name": "default"}, "fill_value": 0,
		"codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 4],
			"codecs": [{"name": "bytes"}], "index_codecs": [{"name": "bytes"}], "index_location": "end"}}]}`))
	shard := make([]byte, 5*cs)
	for i := range shard {
		shard[i] = byte(i * 7)
	}
	fx.put(t, root+"x/c/0/0", shard)
	fx.put(t, root+"x/c/1/0", shard)
	if _, err := fx.lookup(t, root+"x/zarr.json"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "array parsed", func() bool { return fx.arrays() == 1 })
	e, err := fx.lookup(t, root+"x/c/0/0")
	if err != nil {
		t.Fatal(err)
	}
	fx.src.reset()
	readRange := func(off, n int64) {
		r := fx.c.Open(fx.src, "mem", e.Info)
		defer r.Close()
		r.StartFetches()
		fx.z.Opened(root+"x/c/0/", "0", e.Info)
		buf := make([]byte, n)
		if _, err := r.ReadAt(t.Context(), buf, off); err != nil || !bytes.Equal(buf, shard[off:off+n]) {
			t.Fatalf("read %d+%d: %v", off, n, err)
		}
	}
	index := int64(16 * 4)
	for _, inner := range [][2]int64{{0, 100}, {100, 200}, {300, 400}} {
		readRange(int64(len(shard))-index, index) // zarr reads the index before every inner chunk
		readRange(inner[0], inner[1]-inner[0])
	}
	waitFor(t, "fetches", func() bool { return fx.c.Stats().BytesInFlight == 0 })
	var offs []int64
	fx.src.mu.Lock()
	for i, k := range fx.src.keys {
		if k == root+"x/c/0/0" {
			offs = append(offs, fx.src.offs[i])
		}
	}
	fx.src.mu.Unlock()
	slices.Sort(offs)
	// Block 0, the index's block, and block 1 read ahead after block 0.
	if want := []int64{0, cs, 4 * cs}; !slices.Equal(offs, want) {
		t.Errorf("shard fetched at offsets %v; want %v, each once", offs, want)
	}
}

// TestZarrListWhole: which directories Lookup lists whole.
func TestZarrListWhole(t *testing.T) {
	fx := newZarrFixture(t, 0, 64<<10)
	fx.z.mu.Lock()
	fx.z.roots["b/s.zarr/"] = true
	fx.z.arrays["b/s.zarr/t2m/"] = &zarrArray{path: "b/s.zarr/t2m/", grid: zgrid{100, 6, 6}, sep: "."}
	fx.z.arrays["b/s.zarr/era5/"] = &zarrArray{path: "b/s.zarr/era5/", grid: zgrid{100000, 1, 1}, sep: "."}
	fx.z.arrays["b/s.zarr/nest/"] = &zarrArray{path: "b/s.zarr/nest/", grid: zgrid{100000, 4, 4}, sep: "/"}
	fx.z.arrays["b/s.zarr/v3/"] = &zarrArray{path: "b/s.zarr/v3/", grid: zgrid{50000, 3}, sep: "/", prefix: "c/"}
	fx.z.mu.Unlock()
	tests := []struct {
		prefix string
		want   bool
	}{
		{"b/s.zarr/", true},          // the store's root
		{"b/s.zarr/t2m/", true},      // 3,600 chunk keys
		{"b/s.zarr/era5/", false},    // 100,000 keys: probe instead
		{"b/s.zarr/nest/", false},    // 100,000 row directories
		{"b/s.zarr/nest/7/", true},   // 4 directories
		{"b/s.zarr/nest/7/2/", true}, // 4 chunks
		{"b/s.zarr/notes/", false},   // something else in the store
		{"b/", false},                // outside
		{"", true},                   // the root is always listed
	}
	for _, tt := range tests {
		if got := fx.meta.wholeListing(tt.prefix); got != tt.want {
			t.Errorf("wholeListing(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}
