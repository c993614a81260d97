package fs

import (
	"context"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/earthmount/earthmount/backends"
)

// mtimeCacheSize bounds the mtimes remembered per writable remote.
const mtimeCacheSize = 1 << 17

// mtimes remembers, per key and version, the modification time stored in
// an object's metadata. Listings (S3 ListObjectsV2, Swift's JSON listing)
// carry only the store's upload time; rsync compares mtimes, so on a
// writable remote each file's mtime is read with one Stat per version
// and kept here. Read-only remotes show the listing's time.
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
