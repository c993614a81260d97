package cache

import (
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// Entry is one name in a directory. Info is set for files only (Key, Size,
// ModTime, Version from the listing or a stat).
type Entry struct {
	Name string
	Dir  bool
	Info backends.ObjectInfo
	// Stat says Info came from a Stat of the object rather than a
	// listing: its ModTime is the mtime metadata where the object has one.
	Stat bool
}

// listing is the directory listing of one prefix, complete or being
// built. Entries only ever grow, and an appended Entry is never changed
// once a reader has been handed it (shared), so readers may keep
// sub-slices of entries without the lock; local changes (Meta.Put) edit a
// complete listing in place until then, a copy afterwards.
//
// Items (objects and sub-directories) must be added in key order (a
// sub-directory "x" at the key "x/"), as delimiter and flat listings both
// deliver them. An object is held back (pending) until the listing has
// passed the key "name/": only then is it known whether a directory of the
// same name shadows it (see names.go).
//
// All fields are GUARDED_BY(Meta.mu).
type listing struct {
	prefix   string
	start    time.Time // when fetching began; the TTL counts from here
	entries  []Entry
	index    map[string]int32 // name -> position in entries
	pending  []pendingEntry
	complete bool
	counted  bool // its entries are counted in Meta.total
	shared   bool // a DirReader holds some of its entries: edit a copy
	ndirs    int  // sub-directories among entries

	// Filling by delimiter listing:
	token    string
	fetching bool
	wake     chan struct{} // closed and replaced when the listing changes

	// Filling by a flat walk: walk is set, and aborted tells readers to
	// start over with a delimiter listing.
	walk    *walk
	aborted bool
}

// pendingEntry is an entry whose name may still collide with a later item.
type pendingEntry struct {
	e     Entry
	alias bool // e is the "x~object" alias of an object shadowed by directory x
}

func newListing(prefix string, now time.Time) *listing {
	return &listing{prefix: prefix, start: now, index: map[string]int32{}, wake: make(chan struct{})}
}

// find returns the entry called name, if the listing has resolved it.
func (l *listing) find(name string) (Entry, bool) {
	i, ok := l.index[name]
	if !ok {
		return Entry{}, false
	}
	return l.entries[i], true
}

// firstDir returns the name of the first sub-directory listed, or "".
func (l *listing) firstDir() string {
	for _, e := range l.entries {
		if e.Dir {
			return e.Name
		}
	}
	return ""
}

// changed wakes readers waiting for more entries.
func (l *listing) changed() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// addDir adds the sub-directory name, listed at key name+"/".
func (l *listing) addDir(name string, log *slog.Logger) {
	l.advance(name+"/", name, log)
	l.emit(Entry{Name: name, Dir: true}, log)
}

// addObject adds the object info, listed at key name.
func (l *listing) addObject(name string, info backends.ObjectInfo, log *slog.Logger) {
	l.advance(name, name, log)
	l.pending = append(l.pending, pendingEntry{e: Entry{Name: name, Info: info}})
}

// advance resolves pending entries now that the listing reached key, whose
// item is called name.
func (l *listing) advance(key, name string, log *slog.Logger) {
	keep := l.pending[:0] // each visited entry keeps at most one: no overwrite
	for _, p := range l.pending {
		switch {
		case p.e.Name == name && !p.alias:
			// Object shadowed by the directory of the same name.
			if p.e.Info.Size == 0 {
				continue // a directory marker
			}
			alias := p.e
			alias.Name += AliasSuffix
			keep = append(keep, pendingEntry{e: alias, alias: true})
		case p.e.Name == name:
			log.Debug("alias hidden by a real key", "prefix", l.prefix, "name", name)
		case passed(key, p.e.Name):
			l.emit(p.e, log) // no later item can have this name
		default:
			keep = append(keep, p)
		}
	}
	clear(l.pending[len(keep):])
	l.pending = keep
}

// finish resolves everything pending and marks the listing complete.
func (l *listing) finish(log *slog.Logger) {
	for _, p := range l.pending {
		l.emit(p.e, log)
	}
	l.pending = nil
	l.complete = true
	l.token = ""
}

// emit appends a resolved entry, skipping names that cannot be path
// components.
func (l *listing) emit(e Entry, log *slog.Logger) {
	if !validName(e.Name) {
		log.Debug("skipping key that is not a valid file name", "prefix", l.prefix, "name", e.Name, "key", l.prefix+e.Name)
		return
	}
	if _, dup := l.index[e.Name]; dup {
		log.Debug("skipping duplicate name", "prefix", l.prefix, "name", e.Name)
		return
	}
	l.index[e.Name] = int32(len(l.entries))
	l.entries = append(l.entries, e)
	if e.Dir {
		l.ndirs++
	}
}

// applyPage adds one delimiter-listing page, merging its objects and
// prefixes into key order.
func (l *listing) applyPage(page backends.ListPage, log *slog.Logger) {
	objs, dirs := page.Objects, page.Prefixes
	for len(objs) > 0 || len(dirs) > 0 {
		if len(dirs) == 0 || (len(objs) > 0 && objs[0].Key < dirs[0]) {
			l.addKey(objs[0], log)
			objs = objs[1:]
			continue
		}
		rel := dirs[0][min(len(l.prefix), len(dirs[0])):]
		if len(rel) > 0 && rel[len(rel)-1] == '/' {
			rel = rel[:len(rel)-1]
		}
		l.addDir(rel, log)
		dirs = dirs[1:]
	}
	l.token = page.Next
	if page.Next == "" {
		l.finish(log)
	}
}

// addKey adds an object of a delimiter listing. A key ending in "/" with
// size 0 is a directory marker and shows as the directory.
func (l *listing) addKey(info backends.ObjectInfo, log *slog.Logger) {
	if len(info.Key) <= len(l.prefix) {
		return // the prefix's own marker; stores leave it out anyway
	}
	rel := info.Key[len(l.prefix):]
	if n := len(rel); rel[n-1] == '/' {
		if info.Size == 0 {
			l.addDir(rel[:n-1], log)
		} else {
			log.Debug("skipping object whose key ends in /", "key", info.Key)
		}
		return
	}
	l.addObject(rel, info, log)
}

// passed reports whether key > name+"/", without building the string: a
// listing at key has passed every item that could be called name.
func passed(key, name string) bool {
	if rest, ok := strings.CutPrefix(key, name); ok {
		return rest > "/"
	}
	return key > name
}

// clone copies a complete listing, to be edited and cached in its place
// of a shared one.
func (l *listing) clone() *listing {
	c := newListing(l.prefix, l.start)
	c.entries = slices.Clone(l.entries)
	for i, e := range c.entries {
		c.index[e.Name] = int32(i)
	}
	c.ndirs, c.complete = l.ndirs, true
	return c
}

// sortKey is where e sits in a listing's key order: a directory at its
// prefix "name/".
func sortKey(e Entry) string {
	if e.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// put adds e to a complete listing in key order, or replaces the entry of
// the same kind and name. It reports false when e would shadow or be
// shadowed (a file and a directory of one name, aliases): the listing must
// then be fetched again.
func (l *listing) put(e Entry) bool {
	if _, alias := aliasBase(e.Name); alias || !validName(e.Name) {
		return false
	}
	if i, ok := l.index[e.Name]; ok {
		if l.entries[i].Dir != e.Dir {
			return false
		}
		l.entries[i] = e
		return true
	}
	if _, ok := l.index[e.Name+AliasSuffix]; ok {
		return false
	}
	key := sortKey(e)
	i, _ := slices.BinarySearchFunc(l.entries, key, func(x Entry, k string) int { return strings.Compare(sortKey(x), k) })
	l.entries = slices.Insert(l.entries, i, e)
	l.reindex(i)
	if e.Dir {
		l.ndirs++
	}
	return true
}

// remove takes the entry called name out of a complete listing; false when
// it is a shadowed object's alias (the listing must be fetched again).
func (l *listing) remove(name string) bool {
	i, ok := l.index[name]
	if !ok {
		return true
	}
	if _, alias := aliasBase(name); alias {
		return false
	}
	if l.entries[i].Dir {
		l.ndirs--
	}
	delete(l.index, name)
	l.entries = slices.Delete(l.entries, int(i), int(i)+1)
	l.reindex(int(i))
	return true
}

// reindex renumbers the index from position i on.
func (l *listing) reindex(i int) {
	for ; i < len(l.entries); i++ {
		l.index[l.entries[i].Name] = int32(i)
	}
}
