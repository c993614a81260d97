package cache

import "slices"

// Chunk-grid arithmetic for the predictor.

// zgrid is an array's chunk grid: the number of chunks along each axis.
type zgrid []int64

func (g zgrid) size() int64 {
	n := int64(1)
	for _, v := range g {
		n *= v
	}
	return n
}

// linear returns the C-order index of chunk coordinates c.
func (g zgrid) linear(c []int64) int64 {
	var l int64
	for i, v := range c {
		l = l*g[i] + v
	}
	return l
}

// coords returns the chunk coordinates of C-order index l.
func (g zgrid) coords(l int64) []int64 {
	c := make([]int64, len(g))
	for i := len(g) - 1; i >= 0; i-- {
		c[i] = l % g[i]
		l /= g[i]
	}
	return c
}

// strideAxis is the outermost axis whose unit step divides d.
func (s *zstream) strideAxis(d int64) int {
	unit := int64(1)
	axis := len(s.grid) - 1
	for i := len(s.grid) - 1; i >= 0; i-- {
		if unit <= d && d%unit == 0 {
			axis = i
		}
		unit *= s.grid[i]
	}
	return axis
}

// box returns the bounds of the recent accesses' coordinates.
func (s *zstream) box() (lo, hi []int64) {
	for _, l := range s.hist {
		c := s.grid.coords(l)
		if lo == nil {
			lo, hi = slices.Clone(c), slices.Clone(c)
			continue
		}
		for i, v := range c {
			lo[i], hi[i] = min(lo[i], v), max(hi[i], v)
		}
	}
	return lo, hi
}

// onLine reports whether the recent accesses (box lo..hi) differ only
// along axis.
func (s *zstream) onLine(axis int, lo, hi []int64) bool {
	for i := range lo {
		if i != axis && lo[i] != hi[i] {
			return false
		}
	}
	return true
}

// lineAxis returns the axis along which every recent access lies when
// there are at least two and they differ along exactly one axis (a time
// series before its stride is established), else -1: then neighbours off
// that line would be wasted.
func (s *zstream) lineAxis() int {
	if len(s.hist) < 2 {
		return -1
	}
	lo, hi := s.box()
	axis := -1
	for i := range lo {
		if lo[i] != hi[i] {
			if axis >= 0 {
				return -1
			}
			axis = i
		}
	}
	return axis
}
