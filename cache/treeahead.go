package cache

import (
	"log/slog"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Tree read-ahead: cp -r, rsync and tar open the files of a directory one
// after another in listing order, and read each whole. Per-file read-ahead
// cannot help (each file is one chunk), so at 20 ms a tree of small files
// costs one round trip per file, one after another. TreeAhead watches the
// opens of each directory against its cached listing; while they follow
// the listing, it fetches the next small files whole, in parallel, into
// the chunk cache, keyed by the version the listing reported, which is
// the version the later open pins: the open then finds its one chunk
// cached or in flight.
//
// Rules (per directory, a few hundred directories remembered):
//   - The first file of a listing opened starts a window of
//     treeStartWindow files; every later open that lands a little after
//     the previous one (skipped files are fine: rsync skips files that are
//     up to date) doubles it, up to treeMaxWindow files and treeMaxBytes.
//   - Any other open (backwards, far ahead, a random file) drops the
//     window to zero: nothing is fetched for programs that pick files.
//   - Only files of at most one chunk with a version are fetched; larger
//     files get the Reader's own read-ahead when they are read.
//   - When the window runs past the end of a complete listing without
//     sub-directories, it continues into the next directory of the parent
//     listing (rsync and cp walk siblings in order), if that is cached.
//   - Fetches are read-ahead for the budget: they take at most half of
//     it and three quarters of the fetch slots, nothing while a demand
//     read waits for room, and stop at the first refusal. Nothing is ever
//     listed or fetched that the walker would not have asked for next.
const (
	treeStartWindow = 4
	treeMaxWindow   = 64
	treeMaxBytes    = 64 << 20
	treeSlack       = 8 // listing positions a walker may skip and stay in order
	treeStreams     = 512
)

// TreeAhead is the tree read-ahead of one remote. Safe for concurrent use.
type TreeAhead struct {
	c      *Cache
	m      *Meta
	src    Source
	remote string
	log    *slog.Logger

	mu      sync.Mutex
	streams *simplelru.LRU[string, *treeStream] // GUARDED_BY(mu): prefix -> stream
}

// treeStream is what one directory's opens looked like so far.
type treeStream struct {
	last   int // listing position of the file opened last; -1 before the first
	window int // files to keep fetched ahead; 0 means none
}

// NewTreeAhead returns the tree read-ahead for the remote whose listings m
// caches and whose bytes src reads through c.
func NewTreeAhead(c *Cache, m *Meta, src Source, remote string) *TreeAhead {
	streams, _ := simplelru.NewLRU[string, *treeStream](treeStreams, nil)
	return &TreeAhead{c: c, m: m, src: src, remote: remote, log: c.log, streams: streams}
}

// Opened tells t that the file name of the directory prefix was opened,
// and starts the fetches that follow from it. strict asks for proof
// first: the window opens only after a step to the very next file, and
// any other step closes it. fs asks for it in Zarr arrays, where the
// predictor knows better and listing order (0.0.0, 0.0.1, 0.0.10, ...)
// is rarely the read order; cp -r of a store still gets it. Opened never
// blocks on the network. It returns the number of fetches started (for
// tests).
func (t *TreeAhead) Opened(prefix, name string, strict bool) int {
	place, ok := t.m.placeOf(prefix, name, treeMaxWindow)
	if !ok {
		return 0
	}
	window := t.observe(prefix, place, strict)
	if window == 0 {
		return 0
	}
	files := place.after[:min(window, len(place.after))]
	started, budget := t.fetch(files, treeMaxBytes)
	if budget > 0 && len(files) < window && place.complete && place.leaf {
		next, more, ok := t.m.nextDirFiles(prefix, window-len(files))
		if ok {
			t.mu.Lock()
			if _, seen := t.streams.Peek(next); !seen {
				t.streams.Add(next, &treeStream{last: -1, window: window})
			}
			t.mu.Unlock()
			n, _ := t.fetch(more, budget)
			started += n
		}
	}
	if started > 0 {
		t.log.Debug("tree read-ahead", "remote", t.remote, "dir", prefix, "after", name, "window", window, "started", started)
	}
	return started
}

// observe updates the stream of prefix with an open at place and returns
// its window.
func (t *TreeAhead) observe(prefix string, place dirPlace, strict bool) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.streams.Get(prefix)
	if !ok {
		s = &treeStream{last: place.pos}
		if place.first && !strict {
			s.window = treeStartWindow
		}
		t.streams.Add(prefix, s)
		return s.window
	}
	switch {
	case strict && place.pos == s.last+1:
		s.window = min(max(2*s.window, treeStartWindow), treeMaxWindow)
	case strict && place.pos != s.last:
		s.window = 0
	case place.pos == s.last:
		// Opened again (xarray reads time/0 three times): no news.
	case place.pos > s.last && place.pos <= s.last+1+max(s.window, treeSlack):
		s.window = min(max(2*s.window, treeStartWindow), treeMaxWindow)
	case place.first:
		s.window = treeStartWindow // a new walk of the directory
	default:
		s.window = 0
	}
	s.last = place.pos
	return s.window
}

// fetch starts whole-object fetches of the small files among files, while
// their bytes stay within budget; it returns how many it started and the
// bytes left.
func (t *TreeAhead) fetch(files []Entry, budget int64) (int, int64) {
	started := 0
	for _, e := range files {
		info := e.Info
		if info.Version == "" || info.Size <= 0 || info.Size > t.c.chunkSize {
			continue
		}
		if budget -= info.Size; budget < 0 {
			break
		}
		switch t.c.prefetchChunk(t.src, t.remote, info, 0) {
		case prefetchStarted:
			started++
		case prefetchRefused, prefetchBusy:
			return started, 0
		}
	}
	return started, max(budget, 0)
}
