package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
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

// TestZarrOpenLargeStore: in a store larger than a listing page, zarr's
// probes for documents that are not there (.zarray at a group's root) are
// answered from the first page of the store's flat listing: they sort
// before the arrays' keys, which the walk has passed. Nothing waits for
// the walk to reach the end of the store (here it never gets past the
// first page).
func TestZarrOpenLargeStore(t *testing.T) {
	fx := newZarrFixture(t, 0, 64<<10)
	fx.meta.pageLimit = 50
	root := "b/big.zarr/"
	fx.put(t, root+".zgroup", []byte(`{"zarr_format": 2}`))
	fx.put(t, root+"a/.zarray", []byte(`{"zarr_format": 2, "shape": [600], "chunks": [1], "dtype": "<f4", "compressor": null, "fill_value": 0, "order": "C", "filters": null}`))
	for i := range 600 {
		fx.put(t, fmt.Sprintf("%sa/%d", root, i), []byte("x"))
	}
	var lists atomic.Int64
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	fx.src.store.Hook = func(ctx context.Context, op, key string) error {
		if op != "list" || lists.Add(1) == 1 {
			return nil
		}
		select { // later pages hang until the test ends
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fx.z.Looking("b/", "big.zarr")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if e, err := fx.meta.Lookup(ctx, root, ".zgroup"); err != nil || e.Dir {
		t.Fatalf("lookup of .zgroup: %+v, %v", e, err)
	}
	for _, name := range []string{".zarray", ".zmetadata", ".zattrs", "0"} {
		if _, err := fx.meta.Lookup(ctx, root, name); !errors.Is(err, backends.ErrNotExist) {
			t.Errorf("lookup of %s: %v, want ErrNotExist from the first page", name, err)
		}
	}
	if e, err := fx.meta.Lookup(ctx, root, "a"); err != nil || !e.Dir {
		t.Errorf("lookup of a: %+v, %v", e, err)
	}
	if c := fx.src.store.Counts(); c["stat"] != 0 {
		t.Errorf("requests: %v; want no stat", c)
	}
}
