package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/earthmount/earthmount/backends"
)

// Zarr-aware read-ahead (zarr-access.md §3).
//
// A directory holding .zmetadata, .zgroup, .zarray (v2) or zarr.json (v3)
// is a Zarr node. When a lookup or open finds one of these, its document
// is read through the cache (so the reader's own open of it hits) and
// parsed once per version; the arrays it describes are remembered. Then:
//   - Lookups in a store's (or group's) own directory and in its arrays'
//     directories are answered from one listing of each directory (Meta
//     lists it whole instead of probing name by name): zarr stats every
//     chunk before reading it and probes for missing ones, and a listing
//     answers all of them, the missing ones with ENOENT, with one request
//     per 1,000 keys. Array directories expected to hold more than
//     zListMax keys are probed as before.
//   - Consolidated metadata (.zmetadata, or a v3 group's inline
//     consolidated_metadata) names the dimension coordinates, which xarray
//     reads whole at open: they are fetched right away.
//   - Every open of a chunk key feeds the predictor (zarrpredict.go);
//     the chunks it predicts are fetched ahead as read-ahead (the budget's
//     half, three quarters of the fetch slots), whole when they fit a
//     chunk of the cache, else their first block. Only keys the listing
//     has are fetched: missing chunks never cost a request.
//   - A v3 shard's index (its last block, where zarr-python puts it) is
//     fetched at open along with the first block, and stays cached for the
//     index re-reads zarr makes before every inner chunk. Inner-chunk
//     ranges of a shard are served from the cache's blocks, so neighbouring
//     ranges share one request per block.
//
// Nothing here changes bytes: everything goes through the cache, keyed by
// the version the listing reported.
const (
	zListMax      = 10_000   // keys a directory may be expected to hold to be listed whole
	zMetaMaxBytes = 64 << 20 // metadata documents larger than this are not parsed
	zCoordChunks  = 16       // chunks of one coordinate array fetched at open
	zMaxArrays    = 10_000
	zListers      = 8  // background lookups of predicted chunks not listed yet
	zPrelist      = 16 // data arrays whose directory is listed when metadata is parsed
)

// zarrMetaNames are the documents that make a directory a Zarr node.
var zarrMetaNames = []string{".zmetadata", ".zgroup", ".zarray", "zarr.json"}

// Zarr is the Zarr awareness of one remote. Safe for concurrent use.
type Zarr struct {
	c       *Cache
	m       *Meta
	src     Source
	remote  string
	log     *slog.Logger
	listers chan struct{} // semaphore for background listings

	mu sync.Mutex
	// GUARDED_BY(mu):
	arrays  map[string]*zarrArray // by path
	roots   map[string]bool       // directories holding a Zarr document
	parsed  map[string]string     // document key -> version parsed or being parsed
	listing map[string]bool       // predicted keys being looked up in the background
	pred    *zpredictor
}

// NewZarr returns the Zarr awareness of the remote whose listings m caches
// and whose bytes src reads through c, and makes m list Zarr directories
// whole.
func NewZarr(c *Cache, m *Meta, src Source, remote string) *Zarr {
	z := &Zarr{
		c: c, m: m, src: src, remote: remote, log: c.log,
		listers: make(chan struct{}, zListers),
		arrays:  map[string]*zarrArray{}, roots: map[string]bool{},
		parsed: map[string]string{}, listing: map[string]bool{},
		pred: newZPredictor(),
	}
	m.setListHint(z.listWhole)
	return z
}

func isZarrMeta(name string) bool {
	for _, n := range zarrMetaNames {
		if name == n {
			return true
		}
	}
	return false
}

// Found tells z that a lookup in prefix found e; Zarr documents are read
// and parsed in the background.
func (z *Zarr) Found(prefix string, e Entry) {
	if e.Dir && isStoreName(e.Name) {
		z.openStore(prefix + e.Name + "/") // if Looking did not
		return
	}
	if e.Dir || !isZarrMeta(e.Name) {
		return
	}
	if e.Name == ".zmetadata" || e.Name == ".zgroup" {
		z.openStore(prefix) // a store not named *.zarr
	}
	key := prefix + e.Name
	z.mu.Lock()
	if len(z.roots) >= zMaxArrays || len(z.parsed) >= zMaxArrays {
		// A mount that met this many stores: start over rather than grow.
		clear(z.roots)
		clear(z.parsed)
	}
	z.roots[prefix] = true
	if v, ok := z.parsed[key]; ok && v == e.Info.Version {
		z.mu.Unlock()
		return
	}
	z.parsed[key] = e.Info.Version
	z.mu.Unlock()
	if e.Name == ".zgroup" || e.Info.Size > zMetaMaxBytes {
		return
	}
	z.c.background(func(ctx context.Context) { z.parse(ctx, prefix, e) })
}

// parse reads and parses the Zarr document e of the directory prefix.
func (z *Zarr) parse(ctx context.Context, prefix string, e Entry) {
	data, err := z.readWhole(ctx, e.Info)
	if err != nil {
		z.log.Debug("zarr: metadata not read", "key", e.Info.Key, "err", err)
		return
	}
	var arrays []*zarrArray
	switch e.Name {
	case ".zmetadata":
		arrays, err = parseZmetadata(prefix, data)
	case ".zarray":
		var a *zarrArray
		if a, err = parseZarray(prefix, data, nil); err == nil {
			arrays = []*zarrArray{a}
		}
	case "zarr.json":
		arrays, err = parseZarrJSON(prefix, data)
	}
	if err != nil {
		z.log.Debug("zarr: metadata not understood", "key", e.Info.Key, "err", err)
		return
	}
	z.mu.Lock()
	for _, a := range arrays {
		if len(z.arrays) < zMaxArrays {
			z.arrays[a.path] = a
		}
	}
	z.mu.Unlock()
	z.log.Debug("zarr: metadata parsed", "remote", z.remote, "key", e.Info.Key, "arrays", len(arrays))
	// In parallel, each its own round trip or two (a listing, a fetch):
	// one after the other, three coordinates cost xarray's open 60 ms at
	// 20 ms RTT. The directories of the first data arrays are listed too,
	// so that the first chunk reads find their stat answered.
	listed := 0
	for _, a := range arrays {
		switch {
		case a.coordinate() && a.grid.size() <= zCoordChunks:
			z.c.background(func(ctx context.Context) { z.fetchCoordinate(ctx, a) })
		case !a.coordinate() && listed < zPrelist:
			listed++
			z.c.background(func(ctx context.Context) {
				dir, name := splitKey(a.path + a.chunkKey(0))
				_, _ = z.m.Lookup(ctx, dir, name) // only to list dir
			})
		}
	}
}

// fetchCoordinate fetches every chunk of a dimension coordinate.
func (z *Zarr) fetchCoordinate(ctx context.Context, a *zarrArray) {
	for l := range a.grid.size() {
		dir, name := splitKey(a.path + a.chunkKey(l))
		e, err := z.m.Lookup(ctx, dir, name)
		if err != nil || e.Dir {
			continue // a missing chunk: fill value
		}
		z.prefetch(a, e.Info)
	}
}

// readWhole reads a small object through the cache.
func (z *Zarr) readWhole(ctx context.Context, info backends.ObjectInfo) ([]byte, error) {
	r := z.c.Open(z.src, z.remote, info)
	defer r.Close()
	buf := make([]byte, info.Size)
	n, err := r.ReadAt(ctx, buf, 0)
	if errors.Is(err, io.EOF) && int64(n) == info.Size {
		err = nil
	}
	return buf[:n], err
}

// Opened tells z that the file name of the directory prefix, pinned to
// info, was opened. A Zarr document is parsed; a chunk of a known array
// feeds the predictor, whose predictions are fetched. It never blocks on
// the network. It reports whether the file is a chunk of a known array.
func (z *Zarr) Opened(prefix, name string, info backends.ObjectInfo) bool {
	if isZarrMeta(name) {
		z.Found(prefix, Entry{Name: name, Info: info})
		return false
	}
	z.mu.Lock()
	a, l, ok := z.chunkLocked(prefix, name)
	var preds []zref
	if ok {
		preds = z.pred.access(a.path, a.grid, l)
	}
	z.mu.Unlock()
	if !ok {
		return false
	}
	if bs := z.c.blockSize(info); a.shardIndex > 0 && info.Size > bs {
		// The shard index is read first, and again before each inner
		// chunk; the first block comes with StartFetches.
		end := (info.Size - 1) / bs
		if !a.indexAtEnd {
			end = 0
		}
		z.c.prefetchChunk(z.src, z.remote, info, end)
	}
	for _, p := range preds {
		z.mu.Lock()
		pa := z.arrays[p.array]
		z.mu.Unlock()
		if pa == nil {
			continue
		}
		dir, nm := splitKey(pa.path + pa.chunkKey(p.l))
		r, cached := z.m.answer(dir, nm)
		switch {
		case cached && r.err == nil && !r.e.Dir:
			z.prefetch(pa, r.e.Info)
		case !cached:
			z.listThenFetch(dir, nm, pa)
		}
	}
	return true
}

// chunkLocked finds the array holding prefix+name as a chunk key.
// LOCKS_REQUIRED(z.mu)
func (z *Zarr) chunkLocked(prefix, name string) (*zarrArray, int64, bool) {
	for p := prefix; ; p = parentOf(p) {
		if a := z.arrays[p]; a != nil {
			l, ok := a.chunkOf(prefix[len(p):] + name)
			return a, l, ok
		}
		if p == "" {
			return nil, 0, false
		}
	}
}

// prefetch starts the read-ahead of one predicted chunk object: whole
// when it fits a block, else its first block (and a shard's index).
func (z *Zarr) prefetch(a *zarrArray, info backends.ObjectInfo) {
	if info.Version == "" || info.Size <= 0 {
		return
	}
	z.c.prefetchChunk(z.src, z.remote, info, 0)
	if bs := z.c.blockSize(info); a.shardIndex > 0 && a.indexAtEnd && info.Size > bs {
		z.c.prefetchChunk(z.src, z.remote, info, (info.Size-1)/bs)
	}
}

// splitKey splits a key into its directory prefix and last segment.
func splitKey(key string) (dir, name string) {
	i := strings.LastIndexByte(key, '/')
	return key[:i+1], key[i+1:]
}
