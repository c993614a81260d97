package cache

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// Walks: a walked subtree is listed flat.
//
// find, du, rsync and cp -r read every directory of a subtree, one after
// another, depth first in name order. Listing each directory separately
// costs at least one round trip per directory (200 directories at 20 ms:
// 4 s). A flat listing of their common ancestor (no delimiter, 1,000 keys
// per page) delivers the same keys in the same order in keys/1000 round
// trips, and the listing of every directory below is built from it.
//
// Trigger: a directory P was listed (its listing is cached) and, within
// walkWindow, a reader opens a second child of P that needs a request
// (the first child opened is remembered). The walk root is then P, raised
// to P's parent while P is the first child listed of its parent and the
// first sub-directory in it (the walker is still at the start of the
// parent). The store's root ("") is never walked.
//
// The walk fetches pages one after another, driven by readers that need a
// directory it has not reached yet, and by a background fetch that keeps
// walkAheadPages pages beyond the furthest directory a reader asked for;
// when the walker stops, the walk stops. Each key closes the directories
// it has left: a flat listing truncated at key K has completed exactly
// the directories whose key range lies before K. Every directory met is
// registered as a listing (unless a fresh one is cached), so readers of a
// directory the walk is in stream it as it grows.
//
// Cost and bounds: a walk lists the whole subtree once, whether or not
// the walker visits every directory: up to walkAheadPages pages more than
// it needs, plus the part of the first child already listed. A reader
// that needs a directory more than walkMaxGap pages ahead of the walk, or
// a walk holding more than MaxEntries entries in unfinished directories,
// aborts it; readers then fall back to per-directory listings, and the
// root is not walked again for a TTL.
const (
	walkWindow     = 30 * time.Second
	walkAheadPages = 2
	walkMaxGap     = 4
	walkTimeout    = time.Minute // one background page fetch
)

// walk is a flat listing of the subtree under root. GUARDED_BY(Meta.mu).
type walk struct {
	root     string
	start    time.Time
	token    string
	last     string // last key seen: directories ending before it are complete
	pos      string // the furthest directory a reader asked for
	pages    []string
	done     bool
	aborted  bool
	fetching bool
	wake     chan struct{} // closed and replaced after every page fetch
	stack    []*listing    // open directories along the last key, root first
}

// recentChild remembers the first child of a directory that was listed.
type recentChild struct {
	child string
	at    time.Time
}

// maybeStartWalkLocked records that prefix is being listed and starts a
// walk covering it when this is the second child of a recently listed
// directory; it reports whether it started one.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) maybeStartWalkLocked(prefix string) bool {
	p := parentOf(prefix)
	if p == "" || m.cachedListingLocked(p) == nil || m.ctx.Err() != nil {
		return false
	}
	now := m.opts.Now()
	r, ok := m.recent[p]
	if !ok || now.Sub(r.at) > walkWindow {
		if len(m.recent) > 4096 {
			clear(m.recent)
		}
		m.recent[p] = recentChild{child: prefix, at: now}
		return false
	}
	if r.child == prefix {
		return false
	}
	root := p
	for {
		q := parentOf(root)
		rq, ok := m.recent[q]
		ql := m.cachedListingLocked(q)
		if q == "" || !ok || rq.child != root || now.Sub(rq.at) > walkWindow || ql == nil || ql.firstDir() != baseOf(root) {
			break
		}
		root = q
	}
	if t, ok := m.walked[root]; ok && now.Sub(t) < m.opts.TTL {
		return false
	}
	w := &walk{root: root, start: now, pos: prefix, wake: make(chan struct{})}
	m.walks = append(m.walks, w)
	m.openWalkDirLocked(w, root)
	m.log.Debug("walk started", "root", root, "trigger", prefix)
	return true
}

// Walk starts a flat listing of the subtree root ("" excluded, else
// ending in "/") now, in the background, as if a walker had entered it:
// Zarr (zarr_open.go) calls it when a store is looked up, so that every
// directory of the store is listed in one round trip per 1,000 keys,
// before its readers ask. It does nothing when a walk already covers root
// or root was walked within the TTL, and reports whether it started one.
// Bounds are a walk's: walkAheadPages pages beyond the furthest reader.
func (m *Meta) Walk(root string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if root == "" || m.ctx.Err() != nil || m.walkCoveringLocked(root) != nil {
		return false
	}
	now := m.opts.Now()
	if t, ok := m.walked[root]; ok && now.Sub(t) < m.opts.TTL {
		return false
	}
	if m.cachedListingLocked(root) != nil {
		return false // listed already: readers are served
	}
	w := &walk{root: root, start: now, pos: root, wake: make(chan struct{})}
	m.walks = append(m.walks, w)
	m.openWalkDirLocked(w, root)
	m.log.Debug("walk started", "root", root, "trigger", "Walk")
	m.pumpLocked(w)
	return true
}

// walkCoveringLocked returns the innermost active walk whose subtree
// holds prefix.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) walkCoveringLocked(prefix string) *walk {
	var best *walk
	for _, w := range m.walks {
		if strings.HasPrefix(prefix, w.root) && (best == nil || len(w.root) > len(best.root)) {
			best = w
		}
	}
	return best
}

// reachLocked drives w until it has met prefix and returns the listing it
// builds for it; nil when the walk cannot serve prefix (passed without
// it, too far ahead, aborted).
// LOCKS_REQUIRED(m.mu)
func (m *Meta) reachLocked(ctx context.Context, w *walk, prefix string) (*listing, error) {
	for gap := 0; ; gap++ {
		if l := m.cachedListingLocked(prefix); l != nil {
			return l, nil
		}
		if w.done || w.aborted || w.last >= prefix {
			return nil, nil
		}
		w.pos = max(w.pos, prefix)
		if gap >= walkMaxGap {
			m.abortWalkLocked(w, "walker too far ahead")
			return nil, nil
		}
		if err := m.stepWalkLocked(ctx, w); err != nil {
			return nil, err
		}
	}
}

// stepWalkLocked waits for the page in flight, or fetches the next one.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) stepWalkLocked(ctx context.Context, w *walk) error {
	switch {
	case w.done || w.aborted:
		return nil
	case w.fetching:
		return m.waitLocked(ctx, w.wake)
	default:
		return m.fetchWalkPageLocked(ctx, w)
	}
}

// fetchWalkPageLocked fetches and applies the next page of w.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) fetchWalkPageLocked(ctx context.Context, w *walk) error {
	w.fetching = true
	req := backends.ListRequest{Prefix: w.root, Token: w.token, Limit: m.pageLimit}
	m.mu.Unlock()
	page, err := m.store.List(ctx, req)
	m.mu.Lock()
	w.fetching = false
	defer func() {
		close(w.wake)
		w.wake = make(chan struct{})
	}()
	if err != nil {
		return fmt.Errorf("cache: walk %q: %w", w.root, err)
	}
	if w.aborted {
		return nil
	}
	m.applyWalkPageLocked(w, page)
	m.pumpLocked(w)
	return nil
}

// pumpLocked starts a background fetch when the walk is fewer than
// walkAheadPages pages ahead of its furthest reader.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) pumpLocked(w *walk) {
	if w.done || w.aborted || w.fetching || m.ctx.Err() != nil {
		return
	}
	ahead := 0
	for i := len(w.pages) - 1; i >= 0 && w.pages[i] > w.pos; i-- {
		ahead++
	}
	if ahead >= walkAheadPages {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithTimeout(m.ctx, walkTimeout)
		defer cancel()
		m.mu.Lock()
		defer m.mu.Unlock()
		if w.fetching || w.done || w.aborted {
			return
		}
		if err := m.fetchWalkPageLocked(ctx, w); err != nil {
			m.log.Debug("background walk page failed", "root", w.root, "err", err)
		}
	}()
}

// applyWalkPageLocked feeds one flat page into the directory listings.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) applyWalkPageLocked(w *walk, page backends.ListPage) {
	if len(page.Objects) > 0 {
		w.pages = append(w.pages, page.Objects[0].Key)
	}
	for _, o := range page.Objects {
		m.walkKeyLocked(w, o)
	}
	w.token = page.Next
	if page.Next == "" {
		for len(w.stack) > 0 {
			m.closeWalkDirLocked(w)
		}
		w.done = true
		m.endWalkLocked(w)
		m.log.Debug("walk done", "root", w.root, "pages", len(w.pages))
		return
	}
	held := 0
	for _, l := range w.stack {
		held += len(l.entries) + len(l.pending)
	}
	if held > m.opts.MaxEntries {
		m.abortWalkLocked(w, "too many entries")
	}
}

// walkKeyLocked adds one key of the flat listing.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) walkKeyLocked(w *walk, o backends.ObjectInfo) {
	key := o.Key
	if !strings.HasPrefix(key, w.root) || key <= w.last || len(key) == len(w.root) {
		return // out of order or the root's own marker
	}
	w.last = key
	for len(w.stack) > 1 && !strings.HasPrefix(key, w.stack[len(w.stack)-1].prefix) {
		m.closeWalkDirLocked(w)
	}
	top := w.stack[len(w.stack)-1]
	rest := key[len(top.prefix):]
	for {
		name, after, found := strings.Cut(rest, "/")
		if !found {
			break
		}
		top.addDir(name, m.log)
		top = m.openWalkDirLocked(w, top.prefix+name+"/")
		rest = after
	}
	if rest == "" {
		if o.Size > 0 {
			m.log.Debug("skipping object whose key ends in /", "key", key)
		}
		return // a directory marker: its directory is open now
	}
	top.addObject(rest, o, m.log)
}

// openWalkDirLocked starts the listing of a directory the walk entered,
// registered unless a fresh listing is cached.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) openWalkDirLocked(w *walk, prefix string) *listing {
	l := newListing(prefix, w.start)
	l.walk = w
	if m.cachedListingLocked(prefix) == nil {
		m.registerLocked(l)
	}
	w.stack = append(w.stack, l)
	return l
}

// closeWalkDirLocked completes the innermost open directory.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) closeWalkDirLocked(w *walk) {
	l := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	l.finish(m.log)
	l.walk = nil
	l.changed()
	m.completedLocked(l)
}

// abortWalkLocked stops w; readers of its unfinished listings start over
// with delimiter listings.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) abortWalkLocked(w *walk, why string) {
	w.aborted = true
	for _, l := range w.stack {
		l.aborted = true
		if cur, ok := m.dirs.Peek(l.prefix); ok && cur == l {
			m.dirs.Remove(l.prefix)
		}
	}
	w.stack = nil
	m.endWalkLocked(w)
	close(w.wake)
	w.wake = make(chan struct{})
	m.log.Debug("walk aborted", "root", w.root, "why", why, "pages", len(w.pages))
}

// endWalkLocked removes w from the active walks.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) endWalkLocked(w *walk) {
	m.walks = slices.DeleteFunc(m.walks, func(x *walk) bool { return x == w })
	m.walked[w.root] = m.opts.Now()
}
