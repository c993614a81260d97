package cache

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/earthmount/earthmount/backends"
)

// Defaults of MetaOptions.
const (
	// DefaultTTL keeps listings and stats for 5 minutes: science data is
	// read-mostly, and rclone's --dir-cache-time default is the same.
	DefaultTTL = 5 * time.Minute
	// DefaultNegativeTTL keeps "no such name" for 30 s, long enough to
	// absorb the probes of shells, Python and zarr for missing files.
	DefaultNegativeTTL = 30 * time.Second
	// DefaultMaxEntries caps the directory entries held in memory, over
	// cached listings and flat walks (about 200-300 MB at 1M entries).
	DefaultMaxEntries = 1_000_000
)

const (
	listLimit       = 1000    // entries per list request (the S3 maximum)
	maxBatch        = 1000    // entries per DirReader.Next
	lookupCacheSize = 1 << 16 // lookup results (positive and negative) kept
)

// MetaOptions configures a Meta. Zero values pick the defaults above.
type MetaOptions struct {
	Remote      string        // used in errors and logs
	TTL         time.Duration // listings and lookups; 0 -> DefaultTTL
	NegativeTTL time.Duration // lookups that found nothing; 0 -> DefaultNegativeTTL
	Now         func() time.Time
	Logger      *slog.Logger
	MaxEntries  int // 0 -> DefaultMaxEntries
}

// Meta caches directory listings and lookups over one Store. Keys are full
// store keys; a directory is a prefix, "" or ending in "/". Listings are
// fetched page by page as DirReaders ask, then kept for TTL; a cached
// listing answers every Lookup in its directory without a request. A walk
// of a subtree is answered from a flat listing (walk.go). Safe for
// concurrent use.
type Meta struct {
	// Constant after NewMeta.
	store  backends.Store
	opts   MetaOptions
	log    *slog.Logger
	ctx    context.Context // owns background walk fetches; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	probes    flightGroup[Entry] // single-flight Lookup requests
	pageLimit int                // entries per list request; tests lower it

	mu sync.Mutex
	// GUARDED_BY(mu):
	dirs    *simplelru.LRU[string, *listing] // prefix -> newest listing
	total   int                              // entries of counted (complete) listings in dirs
	lookups *simplelru.LRU[string, lookupResult]
	walks   []*walk // active flat walks
	// listHint, when set, says which directories Lookup lists whole
	// instead of probing name by name (Zarr stores, zarr.go).
	listHint func(prefix string) bool
	recent   map[string]recentChild // parent prefix -> first child listed
	walked   map[string]time.Time   // walk roots, when walked last
}

// lookupResult is a cached Lookup answer: an entry, or an ErrNotExist.
type lookupResult struct {
	e       Entry
	err     error
	expires time.Time
}

// NewMeta returns an empty metadata cache over store. Call Close to stop
// its background fetches.
func NewMeta(store backends.Store, opts MetaOptions) *Meta {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = DefaultNegativeTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	m := &Meta{store: store, opts: opts, log: opts.Logger.With("remote", opts.Remote), pageLimit: listLimit}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	// Entry limits never bind before the byte-ish limits below.
	m.dirs, _ = simplelru.NewLRU(opts.MaxEntries+1, func(_ string, l *listing) {
		if l.counted {
			l.counted = false
			m.total -= len(l.entries)
		}
	})
	m.lookups, _ = simplelru.NewLRU[string, lookupResult](lookupCacheSize, nil)
	m.recent = map[string]recentChild{}
	m.walked = map[string]time.Time{}
	return m
}

// Close stops background fetches and waits for them. The Meta stays
// usable for requests made afterwards, without walks.
func (m *Meta) Close() error {
	m.mu.Lock()
	m.cancel() // under mu: no background fetch starts after this
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// Forget drops every cached listing, lookup and walk; readers already
// streaming a listing finish it.
func (m *Meta) Forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.walks {
		m.abortWalkLocked(w, "forget")
	}
	m.dirs.Purge()
	m.lookups.Purge()
	clear(m.recent)
	clear(m.walked)
}

// freshLocked reports whether a listing started at t is within the TTL.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) freshLocked(t time.Time) bool {
	return m.opts.Now().Sub(t) < m.opts.TTL
}

// cachedListingLocked returns the listing of prefix that may answer now: a
// complete one within its TTL, or one being filled (started within the
// TTL, not aborted).
// LOCKS_REQUIRED(m.mu)
func (m *Meta) cachedListingLocked(prefix string) *listing {
	l, ok := m.dirs.Get(prefix)
	if !ok || l.aborted || !m.freshLocked(l.start) {
		return nil
	}
	return l
}

// completedLocked counts a listing that just completed and evicts the
// oldest listings past MaxEntries.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) completedLocked(l *listing) {
	if cur, ok := m.dirs.Peek(l.prefix); !ok || cur != l || l.counted {
		return
	}
	l.counted = true
	m.total += len(l.entries)
	for m.total > m.opts.MaxEntries && m.dirs.Len() > 0 {
		m.dirs.RemoveOldest()
	}
}

// registerLocked makes l the listing of its prefix.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) registerLocked(l *listing) {
	m.dirs.Remove(l.prefix) // Add would replace without the eviction callback
	m.dirs.Add(l.prefix, l)
}

// notExist is the error of a name that does not exist.
func (m *Meta) notExist(key string) error {
	return &backends.Error{Op: "lookup", Remote: m.opts.Remote, Key: key, Err: backends.ErrNotExist}
}

// waitLocked releases m.mu until ch is closed or ctx is done.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) waitLocked(ctx context.Context, ch <-chan struct{}) error {
	m.mu.Unlock()
	defer m.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Invalidate drops what is cached about the name in the directory prefix:
// its lookup and the directory's listing. fs calls it when a read finds the
// object changed (ErrStale), so that the next open sees the new version
// instead of pinning the old one again.
func (m *Meta) Invalidate(prefix, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups.Remove(prefix + name)
	if base, ok := aliasBase(name); ok {
		m.lookups.Remove(prefix + base)
	}
	m.dirs.Remove(prefix)
}

// Put records a change made through this mount: e now exists in the
// directory prefix. A complete cached listing of prefix gets e in place
// (cp -r and rsync add files one by one to directories they just listed
// or made: dropping the listing would cost a listing and a stat per
// file); a listing being filled is dropped. Lookup answers e until the
// TTL, so that a file just uploaded is found even without a listing.
func (m *Meta) Put(prefix string, e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups.Add(prefix+e.Name, lookupResult{e: e, expires: m.opts.Now().Add(m.opts.TTL)})
	if base, ok := aliasBase(e.Name); ok {
		m.lookups.Remove(prefix + base)
	}
	m.editListingLocked(prefix, func(l *listing) bool { return l.put(e) })
}

// Deleted records that name no longer exists in the directory prefix: it
// leaves a complete cached listing (in place) and Lookup answers
// ErrNotExist for the negative TTL.
func (m *Meta) Deleted(prefix, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := prefix + name
	m.lookups.Add(key, lookupResult{err: m.notExist(key), expires: m.opts.Now().Add(m.opts.NegativeTTL)})
	if base, ok := aliasBase(name); ok {
		m.lookups.Remove(prefix + base)
	}
	m.editListingLocked(prefix, func(l *listing) bool { return l.remove(name) })
}

// MadeDir records a directory made through this mount (mkdir after a
// lookup found nothing there): it appears in its parent, and its own
// listing is known to be empty, so the files copied into it next are
// looked up without a request.
func (m *Meta) MadeDir(prefix, name string) {
	m.Put(prefix, Entry{Name: name, Dir: true})
	m.mu.Lock()
	defer m.mu.Unlock()
	l := newListing(prefix+name+"/", m.opts.Now())
	l.complete = true
	m.registerLocked(l)
	m.completedLocked(l)
}

// editListingLocked applies edit to prefix's complete cached listing: in
// place while no DirReader has been handed its entries, else to a copy
// cached in its place (readers keep the old one: its entries never change
// under them). A listing being filled, or an edit that cannot be made in
// place (edit returns false), drops the listing.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) editListingLocked(prefix string, edit func(*listing) bool) {
	l := m.cachedListingLocked(prefix)
	if l == nil || !l.complete {
		m.dirs.Remove(prefix)
		return
	}
	if l.shared {
		l = l.clone()
		if !edit(l) {
			m.dirs.Remove(prefix)
			return
		}
		m.registerLocked(l)
		m.completedLocked(l)
		return
	}
	n := len(l.entries)
	if !edit(l) {
		m.dirs.Remove(prefix)
		return
	}
	if l.counted {
		m.total += len(l.entries) - n
	}
}

// setListHint makes Lookup answer names in the directories hint picks
// from their whole listing. hint is called without m.mu held.
func (m *Meta) setListHint(hint func(prefix string) bool) {
	m.mu.Lock()
	m.listHint = hint
	m.mu.Unlock()
}

// wholeListing reports whether Lookup in prefix lists the directory.
func (m *Meta) wholeListing(prefix string) bool {
	m.mu.Lock()
	hint := m.listHint
	m.mu.Unlock()
	return prefix == "" || (hint != nil && hint(prefix))
}

// InvalidateTree drops everything cached at or below prefix (a directory
// renamed through the mount): listings, lookups and walks.
func (m *Meta) InvalidateTree(prefix string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range slices.Clone(m.walks) {
		if strings.HasPrefix(w.root, prefix) || strings.HasPrefix(prefix, w.root) {
			m.abortWalkLocked(w, "tree renamed")
		}
	}
	for _, k := range m.dirs.Keys() {
		if strings.HasPrefix(k, prefix) {
			m.dirs.Remove(k)
		}
	}
	for _, k := range m.lookups.Keys() {
		if strings.HasPrefix(k, prefix) || k+"/" == prefix {
			m.lookups.Remove(k)
		}
	}
}

// Following returns up to n file entries that come after name in the
// cached listing of prefix (none when it is not cached): what a program
// walking the directory in listing order (rsync, cp -r) asks for next.
func (m *Meta) Following(prefix, name string, n int) []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.cachedListingLocked(prefix)
	if l == nil {
		return nil
	}
	i, ok := l.index[name]
	if !ok {
		return nil
	}
	var out []Entry
	for _, e := range l.entries[i+1:] {
		if len(out) == n {
			break
		}
		if !e.Dir {
			out = append(out, e)
		}
	}
	return out
}

// Previous returns the file entry before name in the cached listing of
// prefix, if there is one.
func (m *Meta) Previous(prefix, name string) (Entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.cachedListingLocked(prefix)
	if l == nil {
		return Entry{}, false
	}
	i, ok := l.index[name]
	for ok && i > 0 {
		i--
		if e := l.entries[i]; !e.Dir {
			return e, true
		}
	}
	return Entry{}, false
}
