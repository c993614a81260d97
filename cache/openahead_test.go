package cache

import (
	"bytes"
	"slices"
	"testing"
)

func TestStartFetches(t *testing.T) {
	const cs = 1024
	tests := []struct {
		name string
		key  string
		size int
		want []int64 // chunks fetched at open, in parallel
	}{
		{"small object whole", "z/t2m/0.0.0", 700, []int64{0}},
		{"netcdf head and tail", "d/era5.nc", 5*cs + 100, []int64{0, 5}},
		{"hdf5 upper-case extension", "d/x.H5", 3 * cs, []int64{0, 2}},
		{"other large file: head only", "d/big.bin", 5 * cs, []int64{0}},
		{"one-chunk netcdf", "d/small.nc", cs, []int64{0}},
		{"empty file", "d/empty.nc", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newTestSource()
			gate := make(chan struct{})
			src.gate = gate
			c := newTestCache(t, Options{Budget: chunks(16, cs), ChunkSize: cs})
			data, info := src.put(t, tt.key, tt.size, 3)
			r := c.Open(src, "mem", info)
			defer r.Close()
			r.StartFetches()
			// Every fetch is in flight at once, before any read.
			waitFor(t, "fetches to start", func() bool {
				return src.maxConcurrent() == len(tt.want) && int(c.Stats().PrefetchIssued) == len(tt.want)
			})
			close(gate)
			if tt.size == 0 {
				return
			}
			waitFor(t, "fetches to finish", func() bool { return c.Stats().BytesInFlight == 0 })
			var got bytes.Buffer
			buf := make([]byte, 50)
			// The reads a NetCDF open makes: the head, then the tail.
			wantHits := int64(0)
			for _, off := range []int64{0, int64(tt.size) - 50} {
				n, _ := r.ReadAt(t.Context(), buf, off)
				got.Write(buf[:n])
				if slices.Contains(tt.want, off/cs) {
					wantHits++
				}
			}
			want := append(append([]byte{}, data[:50]...), data[tt.size-50:]...)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("bytes differ from the object")
			}
			// The reads of blocks started at open found them cached.
			if st := c.Stats(); st.Hits != wantHits {
				t.Errorf("cache hits = %d, want %d (stats %+v)", st.Hits, wantHits, st)
			}
		})
	}
}
