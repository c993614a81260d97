package fs

import (
	"context"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cache"
)

// mtimeCacheSize bounds the mtimes remembered per writable remote.
const mtimeCacheSize = 1 << 17

// mtimes remembers, per key and version, the modification time stored in
// an object's metadata. Listings (S3 ListObjectsV2, Swift's JSON listing)
// carry only the store's upload time; rsync compares mtimes, so on a
// writable remote each file's mtime is read with one Stat per version
// and kept here (uploads through the mount record theirs without one).
// Read-only remotes show the listing's time, as rclone's
// --use-server-modtime does: no Stat, and times that are upload times.
// The trade-off on writable remotes: the first ls -l of a directory costs
// a Stat per file, sent 16 at a time (prefetchModTimes); later ones and
// rsync's comparisons are free while the version is unchanged.
type mtimes struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, backends.ObjectInfo] // guarded by mu
}

func newMtimes() *mtimes {
	l, _ := simplelru.NewLRU[string, backends.ObjectInfo](mtimeCacheSize, nil)
	return &mtimes{lru: l}
}

// remember records info (from an upload or a Stat) as the truth about its
// version.
func (m *mtimes) remember(info backends.ObjectInfo) {
	m.mu.Lock()
	m.lru.Add(info.Key, info)
	m.mu.Unlock()
}

// forget drops what is known about key.
func (m *mtimes) forget(key string) {
	m.mu.Lock()
	m.lru.Remove(key)
	m.mu.Unlock()
}

// fix returns info with ModTime from the object's metadata: from memory
// when the version matches, else from a Stat. On a read-only remote (or
// when the Stat fails) info is returned unchanged.
func (r *Remote) fixModTime(ctx context.Context, info backends.ObjectInfo) backends.ObjectInfo {
	if r.Writer == nil || r.times == nil || info.Key == "" {
		return info
	}
	r.times.mu.Lock()
	known, ok := r.times.lru.Get(info.Key)
	r.times.mu.Unlock()
	if ok && known.Version == info.Version && info.Version != "" {
		info.ModTime = known.ModTime
		return info
	}
	st, err := r.Writer.Stat(ctx, info.Key)
	if err != nil || st.Version != info.Version {
		return info // changed meanwhile: the next lookup sees it
	}
	r.times.remember(st)
	info.ModTime = st.ModTime
	return info
}

// entryModTime is fixModTime for the entry e of the directory prefix: an
// entry a Stat found carries the mtime metadata already (a lookup of a
// name not listed), so it costs no second Stat. One found in a listing
// that is not known yet, right after a file whose mtime is known, brings
// the next files of the listing along (prefetchModTimes): rsync looks up
// a directory's files in listing order, and on a fresh mount would
// otherwise wait for one Stat per file. Lookups out of order (a program
// picking chunks) read only their own.
func (r *Remote) entryModTime(ctx context.Context, prefix string, e cache.Entry) backends.ObjectInfo {
	if r.Writer == nil || r.times == nil {
		return e.Info
	}
	if e.Stat && e.Info.Version != "" {
		r.times.remember(e.Info)
		return e.Info
	}
	if !r.knownModTime(e.Info) {
		if prev, ok := r.Meta.Previous(prefix, e.Name); ok && r.knownModTime(prev.Info) {
			batch := append([]cache.Entry{e}, r.Meta.Following(prefix, e.Name, modTimeAhead)...)
			r.prefetchModTimes(ctx, batch)
		}
	}
	return r.fixModTime(ctx, e.Info)
}

// modTimeAhead is how many following files a lookup's mtime miss reads.
const modTimeAhead = 63

// knownModTime reports whether the mtime of info's version is known.
func (r *Remote) knownModTime(info backends.ObjectInfo) bool {
	r.times.mu.Lock()
	defer r.times.mu.Unlock()
	known, ok := r.times.lru.Get(info.Key)
	return ok && known.Version == info.Version && info.Version != ""
}

// modTimeParallel bounds the Stats of one listing batch in flight.
const modTimeParallel = 16

// prefetchModTimes reads the mtime metadata of the files of one listing
// batch whose version it does not know, modTimeParallel at a time, before
// the kernel asks for their attributes (ls -l, and READDIRPLUS after any
// readdir): one round trip per 16 files instead of one per file in
// series. Failures are left to the lookups that follow.
func (r *Remote) prefetchModTimes(ctx context.Context, batch []cache.Entry) {
	if r.Writer == nil || r.times == nil {
		return
	}
	var todo []backends.ObjectInfo
	r.times.mu.Lock()
	for _, e := range batch {
		if e.Dir || e.Info.Version == "" {
			continue
		}
		if known, ok := r.times.lru.Get(e.Info.Key); !ok || known.Version != e.Info.Version {
			todo = append(todo, e.Info)
		}
	}
	r.times.mu.Unlock()
	if len(todo) < 2 {
		return // a single one is no faster here than at its lookup
	}
	var g errgroup.Group
	g.SetLimit(modTimeParallel)
	for _, info := range todo {
		g.Go(func() error {
			if st, err := r.Writer.Stat(ctx, info.Key); err == nil && st.Version == info.Version {
				r.times.remember(st)
			}
			return nil
		})
	}
	_ = g.Wait()
}
