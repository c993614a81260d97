package cache

import (
	"slices"
	"testing"
	"time"
)

// TestZarrOpenStore: the lookup of a directory named *.zarr lists the
// store flat and fetches its metadata documents and lone coordinate
// chunks at once, before anything reads them; xarray's open (stat the
// store, read .zmetadata, read the coordinates) then sends no request.
// Without consolidated metadata, each array's .zarray and .zattrs are
// fetched too.
func TestZarrOpenStore(t *testing.T) {
	for _, tc := range []struct {
		name         string
		consolidated bool
		docs         []string // fetched at open
	}{
		{"consolidated", true, []string{".zmetadata", ".zgroup"}},
		{"not consolidated", false, []string{".zgroup", "t2m/.zarray", "t2m/.zattrs", "time/.zarray", "lat/.zattrs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newZarrFixture(t, 10*time.Millisecond, 64<<10)
			root := "b/s.zarr/"
			fx.writeV2(t, root, ".", tc.consolidated)
			fx.src.store.ResetCounts()
			fx.z.Looking("b/", "s.zarr")
			want := []string{"time/0", "lat/0", "lon/0"}
			want = append(want, tc.docs...)
			waitFor(t, "fetches at open", func() bool {
				got := fx.src.read()
				for _, k := range want {
					if !slices.Contains(got, root+k) {
						return false
					}
				}
				return fx.c.Stats().BytesInFlight == 0
			})
			keys := fx.fetchedOnce(t)
			for _, k := range keys {
				if slices.Contains([]string{"t2m", "precip"}, k[len(root):min(len(k), len(root)+3)]) && !slices.Contains(tc.docs, k[len(root):]) {
					t.Errorf("%s fetched at open: data chunks are left to the predictor", k)
				}
			}
			if c := fx.src.store.Counts(); c["list"] != 1 || c["stat"] != 0 {
				t.Errorf("requests to list the store: %v; want one flat listing, no stat", c)
			}
			// What xarray does next costs nothing more than the store's own
			// lookup in its parent (made in parallel with the walk).
			if _, err := fx.lookup(t, "b/s.zarr"); err != nil {
				t.Fatal(err)
			}
			fx.src.store.ResetCounts()
			n := len(keys)
			for _, k := range append([]string{"time/0", "time/0", "lat/0", "lon/0"}, tc.docs...) {
				fx.read(t, root+k)
			}
			if c := fx.src.store.Counts(); c["list"]+c["stat"] != 0 || len(fx.src.read()) != n {
				t.Errorf("xarray's open sent %v and %d reads; want none", c, len(fx.src.read())-n)
			}
		})
	}
}

// TestZarrOpenNotAStore: a directory named *.zarr without Zarr documents
// is listed once and then looked up name by name as any other.
func TestZarrOpenNotAStore(t *testing.T) {
	fx := newZarrFixture(t, 0, 64<<10)
	fx.put(t, "b/x.zarr/readme.txt", []byte("not a store"))
	fx.z.Looking("b/", "x.zarr")
	waitFor(t, "walk", func() bool { return fx.src.store.Counts()["list"] >= 1 })
	waitFor(t, "not a root", func() bool { return !fx.z.listWhole("b/x.zarr/") })
	if got := fx.src.read(); len(got) != 0 {
		t.Errorf("fetched %v from a directory that is not a store", got)
	}
}
