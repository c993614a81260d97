package cache

import (
	"context"
	"io"
	"strings"
	"time"
)

// Opening a store without a round trip per step.
//
// xarray's open_zarr is a chain: stat the store, read .zmetadata (or, not
// consolidated, .zgroup, then each array's .zarray and .zattrs), then read
// the coordinates whole. Answered one lookup at a time, each link is a
// round trip of its own: five at 20 ms before xarray's own 0.07 s. So when
// a directory named like a store (*.zarr) is looked up, or a group's
// document is found in one, the store is listed flat at once (Meta.Walk:
// one round trip per 1,000 keys, answering every lookup in it, missing
// chunks included), and as soon as the first page is in, in parallel:
//   - its small metadata documents are fetched whole (.zmetadata, .zgroup,
//     .zattrs; each array's .zarray and .zattrs when not consolidated),
//     and parsed as they arrive;
//   - every array directory holding exactly one small data object (a
//     dimension coordinate, which xarray reads whole at open) gets it
//     fetched, before the metadata says which arrays are coordinates.
//
// Then the reader's stat, its reads of the documents and of the
// coordinates all find their answers in flight: about two round trips.
const (
	zOpenDirs      = 256     // array directories looked at when a store opens
	zOpenDocMax    = 1 << 20 // metadata documents fetched at open up to this size
	zOpenCoordMax  = 1 << 20 // a lone data object up to this size is fetched at open
	zOpenCoordsMax = 32      // lone data objects fetched at open
	zOpenScan      = 1000    // entries of an array directory read to see its size
	zOpenTimeout   = time.Minute
)

// isStoreName reports whether a directory's name says it is a Zarr store.
func isStoreName(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".zarr")
}

// Looking tells z that a lookup of name in the directory prefix starts.
// For a name like a store's, the store's flat listing and the fetches of
// its metadata start now, in parallel with the lookup. It never blocks.
func (z *Zarr) Looking(prefix, name string) {
	if isStoreName(name) && validName(name) {
		z.openStore(prefix + name + "/")
	}
}

// openStore starts the flat listing of the store (or group) at root and,
// once its first page is in, the fetches at open; once per walk of root.
func (z *Zarr) openStore(root string) {
	if !z.m.Walk(root) {
		return
	}
	z.mu.Lock()
	z.roots[root] = true // lookups in it wait for the walk, not probes
	z.mu.Unlock()
	z.c.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, zOpenTimeout)
		defer cancel()
		z.fetchAtOpen(ctx, root)
	})
}

// fetchAtOpen reads the walked listings of root and its array
// directories as the walk delivers them and starts the fetches at open.
// The root's entries arrive only as the walk passes each array's keys,
// so it stops at the first array directory of zOpenScan entries or more:
// a large store is not listed to its end for this (the coordinates
// parsed from .zmetadata are still fetched, zarr.go).
func (z *Zarr) fetchAtOpen(ctx context.Context, root string) {
	zarr, consolidated := false, false
	dirs, coords, coordBytes := 0, 0, int64(0)
	err := z.listUntil(ctx, root, func(e Entry) bool {
		if !e.Dir {
			if isZarrMeta(e.Name) || e.Name == ".zattrs" {
				zarr = true
				consolidated = consolidated || e.Name == ".zmetadata"
				z.fetchDoc(root, e)
			}
			return true
		}
		if dirs++; dirs > zOpenDirs {
			return false
		}
		dir := root + e.Name + "/"
		var lone []Entry // data objects and sub-directories, up to two
		n := 0
		err := z.listUntil(ctx, dir, func(e Entry) bool {
			n++
			switch {
			case !e.Dir && (isZarrMeta(e.Name) || e.Name == ".zattrs"):
				zarr = true
				if !consolidated {
					z.fetchDoc(dir, e)
				}
			case len(lone) < 2:
				lone = append(lone, e)
			}
			return n < zOpenScan
		})
		if err != nil || n >= zOpenScan {
			return false // a large array: the rest of the store is far
		}
		if len(lone) == 1 && !lone[0].Dir && lone[0].Info.Size <= zOpenCoordMax &&
			coords < zOpenCoordsMax && coordBytes+lone[0].Info.Size <= zOpenCoordsMax*zOpenCoordMax/8 {
			coords++
			coordBytes += lone[0].Info.Size
			z.c.prefetchChunk(z.src, z.remote, lone[0].Info, 0)
		}
		return true
	})
	if err != nil {
		z.log.Debug("zarr: store not listed", "root", root, "err", err)
	}
	if !zarr && err == nil {
		z.mu.Lock()
		delete(z.roots, root) // not a store: per-name lookups again
		z.mu.Unlock()
	}
}

// fetchDoc fetches a small metadata document whole and, for the kinds
// that describe arrays, parses it.
func (z *Zarr) fetchDoc(prefix string, e Entry) {
	if e.Info.Size > zOpenDocMax {
		return
	}
	z.c.prefetchChunk(z.src, z.remote, e.Info, 0)
	z.Found(prefix, e)
}

// listUntil passes the entries of the directory prefix to each, in name
// order, until each returns false or the directory ends.
func (z *Zarr) listUntil(ctx context.Context, prefix string, each func(Entry) bool) error {
	d := z.m.OpenDir(prefix)
	for {
		batch, err := d.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range batch {
			if !each(e) {
				return nil
			}
		}
	}
}
