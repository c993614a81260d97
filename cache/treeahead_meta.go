package cache

// What tree read-ahead (treeahead.go) asks of cached listings. These
// helpers never send a request: a directory that is not listed (or whose
// listing expired) simply gets no read-ahead.

// dirPlace is where an opened file sits in its directory's cached listing.
type dirPlace struct {
	pos      int     // position of the file among the listing's entries
	first    bool    // no file is listed before it
	after    []Entry // the files listed after it (up to the asked number)
	complete bool    // the listing is complete and after holds every file after pos
	leaf     bool    // the listing is complete and has no sub-directory
}

// placeOf finds name in the cached listing of prefix and collects up to n
// files listed after it. ok is false when no fresh listing has the name.
func (m *Meta) placeOf(prefix, name string, n int) (dirPlace, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.cachedListingLocked(prefix)
	if l == nil {
		return dirPlace{}, false
	}
	i, ok := l.index[name]
	if !ok {
		return dirPlace{}, false
	}
	p := dirPlace{pos: int(i), first: true, leaf: l.complete && l.ndirs == 0}
	for _, e := range l.entries[:p.pos] {
		if !e.Dir {
			p.first = false
			break
		}
	}
	p.after, p.complete = filesFrom(l, p.pos+1, n)
	return p, true
}

// filesFrom returns up to n files listed at or after position from, and
// whether the listing is complete and had no more.
// LOCKS_REQUIRED(m.mu)
func filesFrom(l *listing, from, n int) ([]Entry, bool) {
	var out []Entry
	for j := from; j < len(l.entries) && len(out) < n; j++ {
		if !l.entries[j].Dir {
			out = append(out, l.entries[j])
		}
	}
	return out, len(out) < n && l.complete
}

// nextDirFiles returns the prefix of the directory listed after prefix in
// its parent's cached listing, and up to n files of its cached listing.
// ok is false when either listing is not cached or there is no next
// directory.
func (m *Meta) nextDirFiles(prefix string, n int) (next string, files []Entry, ok bool) {
	parent := parentOf(prefix)
	if prefix == "" {
		return "", nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	pl := m.cachedListingLocked(parent)
	if pl == nil {
		return "", nil, false
	}
	i, found := pl.index[baseOf(prefix)]
	if !found {
		return "", nil, false
	}
	for _, e := range pl.entries[i+1:] {
		if !e.Dir {
			continue
		}
		next = parent + e.Name + "/"
		l := m.cachedListingLocked(next)
		if l == nil {
			return "", nil, false
		}
		files, _ = filesFrom(l, 0, n)
		return next, files, true
	}
	return "", nil, false
}
