package cache

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// loadTrace reads a recorded chunk-read sequence: one "array/i.j.k" key
// per line (testdata/zarrtraces/record.py wrote them from xarray + dask).
func loadTrace(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "zarrtraces", name+".txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" {
			keys = append(keys, k)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// replayResult is the outcome of a trace replayed through the predictor
// with instant fetches and no eviction (zarr-access.md §3.3's method).
type replayResult struct {
	reads, hits, issued, wasted int
}

func (r replayResult) hitRate() float64   { return float64(r.hits) / float64(r.reads) }
func (r replayResult) wasteRate() float64 { return float64(r.wasted) / float64(r.reads) }

func replay(t *testing.T, keys []string, grid zgrid) replayResult {
	t.Helper()
	p := newZPredictor()
	fetched := map[zref]bool{} // predicted, fetched, not read yet
	read := map[zref]bool{}
	var res replayResult
	for _, k := range keys {
		array, idx, _ := strings.Cut(k, "/")
		var c []int64
		for _, s := range strings.Split(idx, ".") {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("bad key %q", k)
			}
			c = append(c, v)
		}
		r := zref{array, grid.linear(c)}
		if !read[r] {
			res.reads++
			read[r] = true
			if fetched[r] {
				res.hits++
				delete(fetched, r)
			}
		}
		for _, n := range p.access(array, grid, r.l) {
			if !read[n] && !fetched[n] {
				fetched[n] = true
				res.issued++
			}
		}
	}
	res.wasted = len(fetched)
	return res
}

// TestPredictorOnRecordedTraces replays the chunk reads xarray + dask made
// on a 100x6x6 chunk grid (the reference's §2.3 workloads, synchronous and
// 16 threads) and asserts how many were predicted before they were read,
// and how many predictions were never read.
func TestPredictorOnRecordedTraces(t *testing.T) {
	grid := zgrid{100, 6, 6}
	tests := []struct {
		trace     string
		minHit    float64
		maxWasted float64
		grid      zgrid // nil: the 100x6x6 grid
	}{
		{"full-mean-sync", 0.97, 0.05, nil},
		{"full-mean-16thr", 0.97, 0.05, nil},
		{"time-mean-sync", 0.95, 0.05, nil},
		{"time-mean-16thr", 0.95, 0.05, nil},
		{"slice-mean-sync", 0.97, 0.10, nil},
		{"slice-mean-16thr", 0.97, 0.10, nil},
		{"spatial-mean-sync", 0.94, 0.05, nil},
		{"spatial-mean-16thr", 0.94, 0.05, nil},
		{"point-series-sync", 0.95, 0.06, nil},
		{"point-series-16thr", 0.95, 0.06, nil},
		{"subbox-time-mean-sync", 0.94, 0.10, nil},
		{"subbox-time-mean-16thr", 0.94, 0.10, nil},
		{"one-step-sync", 0.90, 0.25, nil},
		{"one-step-16thr", 0.90, 0.25, nil},
		{"climatology-sync", 0.78, 0.05, nil},
		{"climatology-16thr", 0.78, 0.05, nil},
		{"a-minus-b-sync", 0.97, 0.05, nil},
		{"a-minus-b-16thr", 0.97, 0.05, nil},
		// integration/zarrbench's grid (record_bench.py), 2 threads as
		// on a 2-core machine. The time slice reads 12 chunks in C order
		// (3 rows of 2x2); the stride runs one row (4 chunks) past its
		// end and the first read's neighbour before it is never read:
		// 5 of 12. Nothing tells a slice's end from a longer scan's next
		// row: keeping predictions inside the rows seen cut this to 2 but
		// the full mean's hit rate from 99% to 76% (a miss per row).
		{"bench-slice-2thr", 0.90, 0.42, zgrid{23, 2, 2}},
		{"bench-slice-sync", 0.90, 0.42, zgrid{23, 2, 2}},
		{"bench-mean-2thr", 0.97, 0.02, zgrid{23, 2, 2}},
		{"bench-point-2thr", 0.90, 0.10, zgrid{23, 2, 2}},
		{"bench-amb-2thr", 0.97, 0.02, zgrid{23, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.trace, func(t *testing.T) {
			g := grid
			if tt.grid != nil {
				g = tt.grid
			}
			res := replay(t, loadTrace(t, tt.trace), g)
			t.Logf("%s: %d reads, hit %.1f%%, %d fetched ahead, %d never read (%.1f%%)",
				tt.trace, res.reads, 100*res.hitRate(), res.issued, res.wasted, 100*res.wasteRate())
			if res.hitRate() < tt.minHit {
				t.Errorf("hit rate %.1f%%, want at least %.0f%%", 100*res.hitRate(), 100*tt.minHit)
			}
			if res.wasteRate() > tt.maxWasted {
				t.Errorf("%.1f%% of the reads fetched ahead and never read, want at most %.0f%%", 100*res.wasteRate(), 100*tt.maxWasted)
			}
		})
	}
}
