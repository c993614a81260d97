package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/earthmount/earthmount/backends"
)

// Lookup returns the entry called name in the directory prefix ("" or
// ending in "/"), or an error that errors.Is backends.ErrNotExist.
//
// Answers come, in order, from: the directory's cached listing (complete:
// a missing name is ENOENT without a request; in progress: names already
// seen); the lookup cache (positive for TTL, negative for NegativeTTL);
// at the root (a few buckets) and in the directories of Zarr stores
// (zarr.go), the directory's whole listing; otherwise one round trip
// of two requests in parallel, Stat(prefix+name) and a one-entry listing
// of prefix+name+"/". A directory wins over an object of the same name
// (names.go). Concurrent identical lookups share the requests.
func (m *Meta) Lookup(ctx context.Context, prefix, name string) (Entry, error) {
	key := prefix + name
	if !validName(name) {
		return Entry{}, m.notExist(key)
	}
	if r, ok := m.answer(prefix, name); ok {
		return r.e, r.err
	}
	if m.wholeListing(prefix) && m.exhaustive(prefix) {
		e, err := m.lookupInListing(ctx, prefix, name)
		if prefix == "" || !errors.Is(err, backends.ErrPermission) {
			return e, err
		}
		// A store that refuses listings may still serve the objects.
	}
	return m.probes.do(ctx, key, func(ctx context.Context) (Entry, error) {
		if r, ok := m.answer(prefix, name); ok {
			return r.e, r.err // answered while this call queued
		}
		e, err := m.probe(ctx, prefix, name)
		if base, ok := aliasBase(name); ok && errors.Is(err, backends.ErrNotExist) {
			return m.lookupAlias(ctx, prefix, name, base)
		}
		return e, err
	})
}

// answer looks name up in what is cached.
func (m *Meta) answer(prefix, name string) (lookupResult, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.cachedListingLocked(prefix); l != nil {
		if e, ok := l.find(name); ok {
			return lookupResult{e: e}, true
		}
		if (l.complete || walkPassed(l.walk, prefix+name)) && m.exhaustive(prefix) {
			return lookupResult{err: m.notExist(prefix + name)}, true
		}
	}
	if r, ok := m.lookups.Get(prefix + name); ok {
		if m.opts.Now().Before(r.expires) {
			return r, true
		}
		m.lookups.Remove(prefix + name)
	}
	return lookupResult{}, false
}

// walkPassed reports whether the walk filling a listing has passed every
// key that could make key an entry (key itself and key+"/..."): then a
// name the listing does not hold does not exist, before the listing is
// complete. The root of a walked Zarr store completes only when the walk
// ends, but zarr's probes for missing documents (.zarray at the root)
// sort before the first array's keys.
// LOCKS_REQUIRED(m.mu)
func walkPassed(w *walk, key string) bool {
	if w == nil || w.aborted {
		return false
	}
	if _, alias := aliasBase(key[strings.LastIndexByte(key, '/')+1:]); alias {
		return false
	}
	return w.last > key+"/" && !strings.HasPrefix(w.last, key+"/")
}

// lookupInListing reads the whole listing of prefix (cached afterwards)
// and answers from it.
func (m *Meta) lookupInListing(ctx context.Context, prefix, name string) (Entry, error) {
	d := m.OpenDir(prefix)
	for {
		_, err := d.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return Entry{}, err
		}
		if r, ok := m.answer(prefix, name); ok {
			return r.e, r.err // seen, or passed by a walk (walkPassed)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := d.l.find(name); ok {
		return e, nil
	}
	return Entry{}, m.notExist(prefix + name)
}

// lookupAlias resolves "base~object": the object base, shadowed by the
// directory base. Looking base up caches the alias when there is one.
func (m *Meta) lookupAlias(ctx context.Context, prefix, name, base string) (Entry, error) {
	if _, err := m.Lookup(ctx, prefix, base); err != nil && !errors.Is(err, backends.ErrNotExist) {
		return Entry{}, err
	}
	if r, ok := m.answer(prefix, name); ok {
		return r.e, r.err
	}
	return Entry{}, m.notExist(prefix + name)
}

// probe asks the store about prefix+name: an object, a directory, both or
// neither, in one round trip. Results are cached; errors other than
// "nothing there" are not.
func (m *Meta) probe(ctx context.Context, prefix, name string) (Entry, error) {
	key := prefix + name
	var (
		wg      sync.WaitGroup
		info    backends.ObjectInfo
		page    backends.ListPage
		statErr error
		listErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		info, statErr = m.store.Stat(ctx, key)
	}()
	go func() {
		defer wg.Done()
		page, listErr = m.store.List(ctx, backends.ListRequest{Prefix: key + "/", Delimiter: "/", Limit: 1})
	}()
	wg.Wait()

	// A page that continues holds more keys below: the first key may be
	// the directory's own marker, which stores leave out of the page and
	// report as Marker (alone, it is an empty directory made by mkdir).
	isDir := listErr == nil && (len(page.Objects)+len(page.Prefixes) > 0 || page.Next != "" || page.Marker)
	listGone := listErr == nil || errors.Is(listErr, backends.ErrNotExist)
	switch {
	case isDir:
		if statErr == nil && info.Size > 0 && validName(name+AliasSuffix) {
			m.remember(key+AliasSuffix, Entry{Name: name + AliasSuffix, Info: info, Stat: true}, nil)
		}
		return m.remember(key, Entry{Name: name, Dir: true}, nil)
	case statErr == nil && (listGone || errors.Is(listErr, backends.ErrPermission)):
		// A store that refuses listings still serves the object.
		return m.remember(key, Entry{Name: name, Info: info, Stat: true}, nil)
	case errors.Is(statErr, backends.ErrNotExist) && listGone:
		return m.remember(key, Entry{}, m.notExist(key))
	case statErr != nil && !errors.Is(statErr, backends.ErrNotExist):
		return Entry{}, fmt.Errorf("cache: lookup %q: %w", key, statErr)
	default:
		return Entry{}, fmt.Errorf("cache: lookup %q: %w", key, listErr)
	}
}

// remember caches a lookup result and returns it.
func (m *Meta) remember(key string, e Entry, err error) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ttl := m.opts.TTL
	if err != nil {
		ttl = m.opts.NegativeTTL
	}
	m.lookups.Add(key, lookupResult{e: e, err: err, expires: m.opts.Now().Add(ttl)})
	return e, err
}

// lookupOnlyStore is implemented by stores with directories whose listing
// does not name everything in them: ICOS's objects/ lists nothing, yet any
// object id can be looked up there.
type lookupOnlyStore interface {
	LookupOnly(prefix string) bool
}

// exhaustive reports whether a complete listing of prefix names every
// entry, so that a name missing from it does not exist.
func (m *Meta) exhaustive(prefix string) bool {
	lo, ok := m.store.(lookupOnlyStore)
	return !ok || !lo.LookupOnly(prefix)
}
