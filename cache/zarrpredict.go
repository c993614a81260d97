package cache

import "slices"

// The Zarr chunk predictor: which chunk objects will be read next, from
// the chunks read so far. It works on chunk coordinates, not byte
// offsets, per array, and knows nothing of stores, caches or time; zarr.go
// turns its predictions into fetches.
//
// What it does (zarr-access.md §3.2, checked on the traces of §2.3, which
// cache/testdata/zarrtraces holds as recorded from xarray + dask):
//   - Stride: on the C-order linear chunk index of each array, the most
//     common positive step among the last accesses, when it repeats, is
//     walked ahead: time series and time means step along axis 0 (a step
//     of one row of the other axes), a slice reads along the last axis.
//     The window starts at zStartWindow chunks, doubles when predictions
//     are read and halves when they are not. Predictions stay within the
//     box of recent accesses, one chunk beyond on the axes the stride does
//     not walk, so a sub-region is not overrun sideways.
//   - Neighbours: the +-1 chunk along each axis, which catches dask's
//     blocky orders (2x2x2 blocks of a full reduction starting mid-array);
//     once two or more reads lie on one line, only along that line (a
//     time series' first reads: the chunks beside it are never read).
//   - Siblings: the same chunk of other arrays of the same grid read
//     recently (`a - b` reads a/K and b/K back to back).
//
// Each of the three earns credit when its predictions are read and loses
// it when they are not read within zPendingAge accesses; with no credit
// left it is off for zOffFor accesses, then tried again. So a point
// series, where neighbours are never read, stops fetching them after a few
// chunks. Chunks already read are never predicted again.
const (
	zStartWindow = 4
	zMaxWindow   = 16
	zHistory     = 16
	zPendingAge  = 128 // accesses after which an unread prediction counts as a miss
	zStartCredit = 8
	zMaxCredit   = 32
	zOffFor      = 256
	zSiblingAge  = 32 // a sibling read within this many accesses is "recent"
	zMaxSeenBits = 1 << 24
	zMaxStreams  = 256 // arrays followed at once; the least recently read goes first
)

type zsource uint8

const (
	zStride zsource = iota
	zNeighbour
	zSibling
	zSources
)

// zref names one chunk: an array (its key prefix) and a linear index.
type zref struct {
	array string
	l     int64
}

// zpredictor holds the streams of every array read. Not safe for
// concurrent use.
type zpredictor struct {
	clock   int64
	streams map[string]*zstream
	pending map[zref]zpending
	pruned  int64 // clock of the last prune
}

type zpending struct {
	src zsource
	at  int64
}

// zstream is what the reads of one array looked like so far.
type zstream struct {
	grid   zgrid
	hist   []int64 // last zHistory linear indices read, oldest first
	last   int64   // clock of the last read
	window int
	credit [zSources]int
	offTil [zSources]int64
	seen   []uint64 // bitset of chunks read; nil for huge grids
}

func newZPredictor() *zpredictor {
	return &zpredictor{streams: map[string]*zstream{}, pending: map[zref]zpending{}}
}

// forget drops every stream (the store's metadata changed).
func (p *zpredictor) forget() {
	clear(p.streams)
	clear(p.pending)
}

// access records a read of chunk l of array and returns the chunks to
// fetch ahead, best first.
func (p *zpredictor) access(array string, grid zgrid, l int64) []zref {
	p.clock++
	s := p.stream(array, grid)
	if pd, ok := p.pending[zref{array, l}]; ok {
		delete(p.pending, zref{array, l})
		p.reward(s, pd.src)
	}
	if p.clock-p.pruned >= 16 {
		p.prune()
	}
	s.markSeen(l)
	s.hist = append(s.hist, l)
	if len(s.hist) > zHistory {
		s.hist = s.hist[1:]
	}
	s.last = p.clock

	var out []zref
	add := func(a string, st *zstream, l int64, src zsource) {
		r := zref{a, l}
		if st.hasSeen(l) {
			return
		}
		if _, ok := p.pending[r]; ok {
			return
		}
		p.pending[r] = zpending{src: src, at: p.clock}
		out = append(out, r)
	}
	ahead, steady := s.strideAhead()
	if p.on(s, zStride) {
		for _, n := range ahead {
			add(array, s, n, zStride)
		}
	}
	if !steady && p.on(s, zNeighbour) {
		c := grid.coords(l)
		line := s.lineAxis()
		for axis := range c {
			if line >= 0 && axis != line {
				continue
			}
			for _, d := range []int64{1, -1} {
				c[axis] += d
				if c[axis] >= 0 && c[axis] < grid[axis] {
					add(array, s, grid.linear(c), zNeighbour)
				}
				c[axis] -= d
			}
		}
	}
	for name, sib := range p.streams {
		if name == array || p.clock-sib.last > zSiblingAge || !slices.Equal(sib.grid, grid) || !p.on(sib, zSibling) {
			continue
		}
		add(name, sib, l, zSibling)
	}
	return out
}

func (p *zpredictor) stream(array string, grid zgrid) *zstream {
	s, ok := p.streams[array]
	if ok && slices.Equal(s.grid, grid) {
		return s
	}
	if !ok && len(p.streams) >= zMaxStreams {
		oldest := ""
		for name, st := range p.streams {
			if oldest == "" || st.last < p.streams[oldest].last {
				oldest = name
			}
		}
		delete(p.streams, oldest)
	}
	s = &zstream{grid: slices.Clone(grid), window: zStartWindow}
	for i := range s.credit {
		s.credit[i] = zStartCredit
	}
	if n := grid.size(); n <= zMaxSeenBits {
		s.seen = make([]uint64, (n+63)/64)
	}
	p.streams[array] = s
	return s
}

// on reports whether src may predict for s, re-enabling it after its
// time off.
func (p *zpredictor) on(s *zstream, src zsource) bool {
	if s.credit[src] > 0 {
		return true
	}
	if p.clock >= s.offTil[src] {
		s.credit[src] = zStartCredit / 2
		return true
	}
	return false
}

func (p *zpredictor) reward(s *zstream, src zsource) {
	s.credit[src] = min(s.credit[src]+2, zMaxCredit)
	if src == zStride {
		s.window = min(2*s.window, zMaxWindow)
	}
}

// prune counts predictions that were not read in time as misses.
func (p *zpredictor) prune() {
	p.pruned = p.clock
	for r, pd := range p.pending {
		if p.clock-pd.at < zPendingAge {
			continue
		}
		delete(p.pending, r)
		s := p.streams[r.array]
		if s == nil {
			continue
		}
		s.credit[pd.src]--
		if s.credit[pd.src] == 0 {
			s.offTil[pd.src] = p.clock + zOffFor
		}
		if pd.src == zStride {
			s.window = max(zStartWindow, s.window/2)
		}
	}
}

func (s *zstream) markSeen(l int64) {
	if s.seen != nil && l >= 0 && l < int64(len(s.seen))*64 {
		s.seen[l/64] |= 1 << (l % 64)
	}
}

func (s *zstream) hasSeen(l int64) bool {
	return s.seen != nil && l >= 0 && l < int64(len(s.seen))*64 && s.seen[l/64]&(1<<(l%64)) != 0
}

// strideAhead returns the chunks a stride established by the history
// predicts, nearest first; steady reports that nearly every recent step
// was that stride (then the reader walks a line, and neighbours off the
// line would be wasted).
func (s *zstream) strideAhead() (ahead []int64, steady bool) {
	h := s.hist
	if len(h) < 3 {
		return nil, false
	}
	counts := map[int64]int{}
	steps := 0
	for i := max(1, len(h)-8); i < len(h); i++ {
		steps++
		if d := h[i] - h[i-1]; d > 0 {
			counts[d]++
		}
	}
	var d int64
	best := 1
	for k, n := range counts {
		if n > best || (n == best && d != 0 && k < d) {
			d, best = k, n
		}
	}
	if d == 0 {
		return nil, false
	}
	axis := s.strideAxis(d)
	lo, hi := s.box()
	// Steady: most steps were the stride, or every recent read lies on
	// one line along the stride's axis (threads shuffle a time series).
	steady = 4*best >= 3*steps || s.onLine(axis, lo, hi)
	from := h[len(h)-1]
	for k := int64(1); k <= int64(s.window); k++ {
		n := from + k*d
		if n >= s.grid.size() {
			break
		}
		c := s.grid.coords(n)
		inside := true
		for i := range c {
			if i != axis && (c[i] < lo[i]-1 || c[i] > hi[i]+1) {
				inside = false
			}
		}
		if !inside {
			break
		}
		ahead = append(ahead, n)
	}
	return ahead, steady
}
