package cache

import (
	"context"
	"fmt"
	"io"

	"github.com/earthmount/earthmount/backends"
)

// DirReader streams the entries of one directory. It is not safe for
// concurrent use; several DirReaders of one directory share the requests.
type DirReader struct {
	m      *Meta
	prefix string
	// GUARDED_BY(m.mu):
	l   *listing // nil until the first Next
	pos int      // entries returned so far
}

// OpenDir returns a reader of the directory prefix ("" or ending in "/").
// Nothing is fetched until Next.
func (m *Meta) OpenDir(prefix string) *DirReader {
	return &DirReader{m: m, prefix: prefix}
}

// Next returns the next batch of entries, and io.EOF after the last. The
// entries come in the store's key order (a directory at the position of
// its prefix "name/", a shadowed object's "name~object" alias when the
// directory's prefix has been passed), every name once, the same order for
// every reader of one listing; a cached listing is served without
// requests. Listing pages are fetched as the caller asks for them, under
// the caller's ctx. The returned slice must not be modified.
func (d *DirReader) Next(ctx context.Context) ([]Entry, error) {
	m := d.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if d.l == nil || d.l.aborted {
			// After an aborted walk, a fresh listing starts over; the
			// first pos entries were already returned (same key order).
			l, err := m.listingForLocked(ctx, d.prefix)
			if err != nil {
				return nil, err
			}
			d.l = l
		}
		l := d.l
		if d.pos < len(l.entries) {
			end := min(len(l.entries), d.pos+maxBatch)
			batch := l.entries[d.pos:end:end]
			l.shared = true
			d.pos = end
			return batch, nil
		}
		if l.complete {
			return nil, io.EOF
		}
		var err error
		switch {
		case l.walk != nil:
			l.walk.pos = max(l.walk.pos, d.prefix)
			err = m.stepWalkLocked(ctx, l.walk)
		case l.fetching:
			err = m.waitLocked(ctx, l.wake)
		default:
			err = m.fetchPageLocked(ctx, l)
		}
		if err != nil {
			return nil, err
		}
	}
}

// listingForLocked returns the listing a new reader of prefix should
// follow: a cached one, one that a flat walk builds, or a new delimiter
// listing.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) listingForLocked(ctx context.Context, prefix string) (*listing, error) {
	if l := m.cachedListingLocked(prefix); l != nil {
		return l, nil
	}
	w := m.walkCoveringLocked(prefix)
	if w == nil && m.maybeStartWalkLocked(prefix) {
		w = m.walkCoveringLocked(prefix)
	}
	if w != nil {
		l, err := m.reachLocked(ctx, w, prefix)
		if l != nil || err != nil {
			return l, err
		}
	}
	if l := m.cachedListingLocked(prefix); l != nil {
		return l, nil // filled while we waited
	}
	l := newListing(prefix, m.opts.Now())
	m.registerLocked(l)
	return l, nil
}

// fetchPageLocked fetches the next delimiter-listing page of l.
// LOCKS_REQUIRED(m.mu)
func (m *Meta) fetchPageLocked(ctx context.Context, l *listing) error {
	l.fetching = true
	req := backends.ListRequest{Prefix: l.prefix, Delimiter: "/", Token: l.token, Limit: m.pageLimit}
	m.mu.Unlock()
	page, err := m.store.List(ctx, req)
	m.mu.Lock()
	l.fetching = false
	defer l.changed()
	if err != nil {
		return fmt.Errorf("cache: list %q: %w", l.prefix, err)
	}
	l.applyPage(page, m.log)
	if l.complete {
		m.completedLocked(l)
	}
	return nil
}
