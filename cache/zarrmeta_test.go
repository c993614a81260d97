package cache

import (
	"slices"
	"strings"
	"testing"
)

func TestZarrChunkKeys(t *testing.T) {
	tests := []struct {
		name string
		a    zarrArray
		rel  string
		l    int64
		ok   bool
	}{
		{"v2 dot", zarrArray{grid: zgrid{20, 2, 3}, sep: "."}, "3.1.2", 3*6 + 1*3 + 2, true},
		{"v2 slash", zarrArray{grid: zgrid{20, 2, 3}, sep: "/"}, "3/1/2", 3*6 + 1*3 + 2, true},
		{"v3 default", zarrArray{grid: zgrid{4, 5}, sep: "/", prefix: "c/"}, "c/2/4", 14, true},
		{"v3 default dot", zarrArray{grid: zgrid{4, 5}, sep: ".", prefix: "c."}, "c.2.4", 14, true},
		{"1-d", zarrArray{grid: zgrid{1}, sep: "."}, "0", 0, true},
		{"outside the grid", zarrArray{grid: zgrid{20, 2, 3}, sep: "."}, "3.2.0", 0, false},
		{"wrong separator", zarrArray{grid: zgrid{20, 2, 3}, sep: "."}, "3/1/2", 0, false},
		{"too few axes", zarrArray{grid: zgrid{20, 2, 3}, sep: "."}, "3.1", 0, false},
		{"metadata", zarrArray{grid: zgrid{20, 2, 3}, sep: "."}, ".zarray", 0, false},
		{"leading zero", zarrArray{grid: zgrid{20, 2, 3}, sep: "."}, "03.1.2", 0, false},
		{"v3 without prefix", zarrArray{grid: zgrid{4, 5}, sep: "/", prefix: "c/"}, "2/4", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok := tt.a.chunkOf(tt.rel)
			if ok != tt.ok || (ok && l != tt.l) {
				t.Fatalf("chunkOf(%q) = %d, %v; want %d, %v", tt.rel, l, ok, tt.l, tt.ok)
			}
			if ok && tt.a.chunkKey(l) != tt.rel {
				t.Errorf("chunkKey(%d) = %q, want %q", l, tt.a.chunkKey(l), tt.rel)
			}
		})
	}
}

func TestParseZarrDocuments(t *testing.T) {
	zmeta := `{"zarr_consolidated_format": 1, "metadata": {
		".zgroup": {"zarr_format": 2},
		"t2m/.zarray": {"zarr_format": 2, "shape": [200, 90, 180], "chunks": [10, 45, 90], "dtype": "<f4",
			"compressor": null, "fill_value": "NaN", "order": "C", "filters": null},
		"t2m/.zattrs": {"_ARRAY_DIMENSIONS": ["time", "lat", "lon"]},
		"time/.zarray": {"zarr_format": 2, "shape": [200], "chunks": [200], "dtype": "<i8",
			"compressor": null, "fill_value": null, "order": "C", "filters": null, "dimension_separator": "/"},
		"time/.zattrs": {"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2000-01-01"}}}`
	arrays, err := parseZmetadata("b/s.zarr/", []byte(zmeta))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(arrays, func(a, b *zarrArray) int { return strings.Compare(a.path, b.path) })
	if len(arrays) != 2 {
		t.Fatalf("%d arrays, want 2", len(arrays))
	}
	t2m, tm := arrays[0], arrays[1]
	if t2m.path != "b/s.zarr/t2m/" || !slices.Equal(t2m.grid, zgrid{20, 2, 2}) || t2m.sep != "." || t2m.coordinate() {
		t.Errorf("t2m = %+v", t2m)
	}
	if tm.path != "b/s.zarr/time/" || !slices.Equal(tm.grid, zgrid{1}) || tm.sep != "/" || !tm.coordinate() {
		t.Errorf("time = %+v", tm)
	}

	v3 := `{"zarr_format": 3, "node_type": "group", "attributes": {},
	  "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": {
	    "x": {"zarr_format": 3, "node_type": "array", "shape": [100, 64], "data_type": "float32",
	      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [50, 64]}},
	      "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
	      "fill_value": 0, "dimension_names": ["time", "lon"],
	      "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [25, 32],
	        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
	        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
	        "index_location": "end"}}]},
	    "time": {"zarr_format": 3, "node_type": "array", "shape": [100], "data_type": "int64",
	      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [100]}},
	      "chunk_key_encoding": {"name": "v2", "configuration": {"separator": "."}},
	      "fill_value": 0, "dimension_names": ["time"], "codecs": [{"name": "bytes"}]},
	    "g": {"zarr_format": 3, "node_type": "group", "attributes": {}}}}}`
	arrays, err = parseZarrJSON("b/v3.zarr/", []byte(v3))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(arrays, func(a, b *zarrArray) int { return strings.Compare(a.path, b.path) })
	if len(arrays) != 2 {
		t.Fatalf("%d arrays, want 2", len(arrays))
	}
	x, tm := arrays[1], arrays[0]
	if x.path != "b/v3.zarr/x/" || !slices.Equal(x.grid, zgrid{2, 1}) || x.prefix != "c/" || x.shardIndex != 16*4+4 || !x.indexAtEnd {
		t.Errorf("x = %+v", x)
	}
	if tm.prefix != "" || tm.sep != "." || !tm.coordinate() {
		t.Errorf("time = %+v", tm)
	}

	bad := []struct{ name, doc string }{
		{"not json", `{`},
		{"v2 in zarr.json", `{"zarr_format": 2}`},
		{"irregular grid", `{"zarr_format": 3, "node_type": "array", "shape": [4], "chunk_grid": {"name": "rectilinear"}}`},
		{"inner chunk does not divide", `{"zarr_format": 3, "node_type": "array", "shape": [10],
			"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [10]}},
			"chunk_key_encoding": {"name": "default"},
			"codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [3]}}]}`},
	}
	for _, b := range bad {
		if _, err := parseZarrJSON("p/", []byte(b.doc)); err == nil {
			t.Errorf("%s: parsed without error", b.name)
		}
	}
	if _, err := parseZarray("p/", []byte(`{"zarr_format": 2, "shape": [4], "chunks": [0]}`), nil); err == nil {
		t.Errorf("zero chunk size parsed without error")
	}
}
