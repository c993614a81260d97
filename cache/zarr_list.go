package cache

import (
	"context"
	"strings"
)

// Zarr directories: which are listed whole, and listings started for
// predicted chunks in directories not listed yet.

// listWhole reports whether lookups in the directory prefix should be
// answered from its whole listing: it is a directory holding a Zarr
// document (a store's or group's root), or lies in a known array and is
// not expected to hold more than zListMax keys. Other directories below a
// store keep per-name lookups: nothing bounds what a user put there.
func (z *Zarr) listWhole(prefix string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.roots[prefix] {
		return true
	}
	for p := prefix; ; p = parentOf(p) {
		if a := z.arrays[p]; a != nil {
			return a.dirEntries(prefix[len(p):]) <= zListMax
		}
		if p == "" {
			return false
		}
	}
}

// dirEntries is about how many keys the directory rel (relative to the
// array's, "" or ending in "/") holds: every chunk key when they are
// flat, one axis's chunks per level when nested.
func (a *zarrArray) dirEntries(rel string) int64 {
	if rel == "" {
		if a.sep == "/" && a.prefix == "" {
			return a.grid[0] + 2 // the first axis, and the metadata
		}
		if a.sep == "." {
			return a.grid.size() + 2
		}
		return 2 // zarr.json and c/
	}
	rel, ok := strings.CutPrefix(rel, a.prefix)
	if depth := strings.Count(rel, "/"); ok && a.sep == "/" && depth < len(a.grid) {
		return a.grid[depth]
	}
	return zListMax + 1 // not the array's: unknown, so probe
}

// listThenFetch looks a predicted chunk up in the background, which lists
// its directory (nested chunk keys put each row in its own directory) or,
// in an array too large to list, probes the key; then it fetches the
// chunk if it exists. At most zListers run at once; predictions beyond
// that are dropped.
func (z *Zarr) listThenFetch(dir, name string, a *zarrArray) {
	key := dir + name
	select {
	case z.listers <- struct{}{}:
	default:
		return
	}
	z.mu.Lock()
	if z.listing[key] {
		z.mu.Unlock()
		<-z.listers
		return
	}
	z.listing[key] = true
	z.mu.Unlock()
	z.c.background(func(ctx context.Context) {
		defer func() {
			z.mu.Lock()
			delete(z.listing, key)
			z.mu.Unlock()
			<-z.listers
		}()
		if e, err := z.m.Lookup(ctx, dir, name); err == nil && !e.Dir {
			z.prefetch(a, e.Info)
		}
	})
}
