package cache

import (
	"math/bits"
	"testing"
)

// FuzzZarrMeta feeds one document to the three Zarr metadata parsers
// (.zarray with .zattrs, consolidated .zmetadata, v3 zarr.json) and checks
// every array they accept: a grid of at least one chunk along each axis
// whose chunk count fits an int64, a non-negative shard index size, and
// chunk keys that parse back to the chunk they name.
func FuzzZarrMeta(f *testing.F) {
	for _, seed := range []string{
		`{"zarr_format":2,"shape":[100,200],"chunks":[10,50],"dtype":"<f4","dimension_separator":"/"}`,
		`{"zarr_format":2,"shape":[0],"chunks":[1]}`,
		`{"zarr_consolidated_format":1,"metadata":{".zgroup":{"zarr_format":2},"t/.zarray":{"zarr_format":2,"shape":[8],"chunks":[2]},"t/.zattrs":{"_ARRAY_DIMENSIONS":["t"]}}}`,
		`{"zarr_format":3,"node_type":"array","shape":[64,64],"chunk_grid":{"name":"regular","configuration":{"chunk_shape":[32,32]}},"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[8,8],"index_codecs":[{"name":"bytes"},{"name":"crc32c"}],"index_location":"end"}}],"dimension_names":["y","x"]}`,
		`{"zarr_format":3,"node_type":"group","consolidated_metadata":{"metadata":{"a":{"zarr_format":3,"node_type":"array","shape":[5],"chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2]}},"chunk_key_encoding":{"name":"v2","configuration":{"separator":"."}}}}}}`,
		`{"zarr_format":2,"shape":[9223372036854775807,9223372036854775807],"chunks":[1,1]}`,
	} {
		f.Add([]byte(seed), []byte(`{"_ARRAY_DIMENSIONS":["y","x"]}`))
	}
	f.Fuzz(func(t *testing.T, data, attrs []byte) {
		var arrays []*zarrArray
		if a, err := parseZarray("v2/", data, attrs); err == nil {
			arrays = append(arrays, a)
		}
		if as, err := parseZmetadata("v2c/", data); err == nil {
			arrays = append(arrays, as...)
		}
		if as, err := parseZarrJSON("v3/", data); err == nil {
			arrays = append(arrays, as...)
		}
		for _, a := range arrays {
			checkZarrArray(t, a)
		}
	})
}

func checkZarrArray(t *testing.T, a *zarrArray) {
	total := uint64(1)
	for _, n := range a.grid {
		if n < 1 {
			t.Fatalf("%s: grid %v has an axis without chunks", a.path, a.grid)
		}
		hi, lo := bits.Mul64(total, uint64(n))
		if hi != 0 || lo > 1<<63-1 {
			t.Fatalf("%s: grid %v has more chunks than an int64 counts", a.path, a.grid)
		}
		total = lo
	}
	if a.shardIndex < 0 {
		t.Fatalf("%s: shard index size %d", a.path, a.shardIndex)
	}
	if len(a.grid) == 0 {
		return
	}
	for _, l := range []int64{0, int64(total) / 2, int64(total) - 1} {
		key := a.chunkKey(l)
		if got, ok := a.chunkOf(key); !ok || got != l {
			t.Fatalf("%s: chunk %d has key %q, which parses as %d, %v", a.path, l, key, got, ok)
		}
	}
	a.coordinate()
}
