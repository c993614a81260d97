package cache

import "slices"

// Read-ahead policy (per Reader; see doc.go for the summary).
//
// A read is sequential when it starts near where the previous reads ended:
// up to chunkSize/8 before (1 MiB at 8 MiB chunks, Mountpoint's
// tolerance), or anywhere back to the start of the current run (the
// kernel's read-ahead of the mount, 8 MiB, sends up to eight 1 MiB async
// reads at once, and they arrive in any order: under load a piece several
// MiB behind the furthest one counted as a seek, and a plain cp of a file
// turned "random"), or up to one chunk after (a small forward skip still
// lands in the window; gcsfuse allows 8 MiB). Anything else is a seek. A first read at offset 0
// starts a sequential run; a first read elsewhere counts as a seek.
//
// While reads stay sequential the window starts at one chunk and doubles
// each time the reader enters a new chunk, up to maxWindow chunks; the
// chunks after the one being read, up to the window, are fetched ahead,
// with at most window of them in flight for the Reader. A seek drops the
// window to zero. After two or more seeks with fewer than one chunk read
// per seek on average the Reader is random (gcsfuse's rule) and gets no
// read-ahead until a sequential run of two chunks re-qualifies it. When the
// budget refuses a read-ahead fetch (read-ahead may hold at most half the
// budget, and none while a demand read waits for room) the window halves.

// pattern classifies the accesses of one Reader. Not safe for concurrent
// use; Reader.mu guards it.
type pattern struct {
	cs     int64 // block size
	tol    int64 // the cache's chunk size: small blocks (NetCDF/HDF5) keep its tolerance, as the kernel's reordering does not shrink with them
	reads  int
	seeks  int
	bytes  int64 // total bytes read
	run    int64 // bytes read in the current sequential run
	start  int64 // offset where the current run began
	lo, hi int64 // lowest offset and highest end read so far
	next   int64 // end of the furthest read of the current run
	window int   // read-ahead window in chunks; 0 means none
	chunk  int64 // chunk where the window last grew
	pieces int   // full FUSE pieces read in a row (small blocks)
}

// Readers of small blocks (NetCDF/HDF5) get no read-ahead window until
// their run passes one chunk of the cache: HDF5 reads one compressed chunk
// per pread, which direct I/O splits into 1 MiB FUSE reads; a window grown
// on those would fetch past every chunk read. Only the pieces after a full
// 1 MiB piece are fetched ahead (observe): the kernel sends a pread's
// pieces one after another, each when the previous one is answered, so
// one piece ahead cost a 4 MB chunk three round trips. After the first
// full piece of a pread (it may follow a seek) the next fusePiecesAhead
// pieces are fetched, covering HDF5 chunks up to 4 MiB (netCDF's default
// chunking aims at 4 MiB) in one round trip as far as the fetch slots
// allow (read-ahead gets three quarters of them: two pieces beside the
// first one's eight blocks); after later ones, one more. The first piece
// is short by the offset of the program's buffer in its first page (the
// kernel maps whole pages of it), so a piece is a read of at least
// fusePiece-pageSize bytes.
const (
	fusePiece       = 1 << 20 // fs's max FUSE read (MountOptions.MaxWrite)
	fusePiecesAhead = 3
	pageSize        = 4096
)

func newPattern(block, chunkSize int64) pattern {
	return pattern{cs: block, tol: max(block, chunkSize), chunk: -1}
}

// observe records a read of n bytes at off and returns the read-ahead
// window, in chunks after the last chunk of this read.
func (p *pattern) observe(off, n int64) int {
	sequential := off >= min(p.start, p.next-p.tol/8) && off <= p.next+p.tol
	if p.reads == 0 {
		sequential = off == 0
	}
	if p.reads == 0 || off < p.lo {
		p.lo = off
	}
	p.hi = max(p.hi, off+n)
	p.reads++
	p.bytes += n
	last := (off + n - 1) / p.cs
	if !sequential {
		p.seeks++
		p.run, p.window, p.next, p.chunk, p.pieces, p.start = n, 0, off+n, last, 0, off
		return p.piece(n)
	}
	p.run += n
	p.next = max(p.next, off+n)
	if p.random() {
		p.window = 0
		return 0
	}
	if p.run <= p.tol-p.cs {
		// Small blocks, short run: a read of a full FUSE request is a
		// piece of a larger pread (direct I/O splits them), whose next
		// piece follows at once: fetch that, no more.
		p.window = 0
		return p.piece(n)
	}
	switch {
	case p.window == 0:
		p.window, p.chunk = 1, last
	case last > p.chunk:
		p.window, p.chunk = min(2*p.window, maxWindow), last
	}
	return p.window
}

// piece returns, for a reader of small blocks, the blocks to fetch after a
// read of n bytes that may be a piece of a larger pread.
func (p *pattern) piece(n int64) int {
	if p.tol <= p.cs || n <= fusePiece-pageSize {
		p.pieces = 0
		return 0
	}
	p.pieces++
	ahead := int64(fusePiece)
	if p.pieces == 1 {
		ahead = fusePiecesAhead * fusePiece
	}
	return int((ahead + p.cs - 1) / p.cs)
}

// random reports gcsfuse's random mode: 2+ seeks with a small average read
// per seek, unless the current sequential run is long, and reads that
// cover under half of the range they span. The last condition keeps a
// sequential reader whose async reads arrive far out of order (each one
// looking like a seek) from being taken for a random one: its reads fill
// the range they span.
func (p *pattern) random() bool {
	return p.seeks >= 2 && p.bytes < int64(p.seeks)*p.cs && p.run < 2*p.cs && 2*p.bytes < p.hi-p.lo
}

// shrink halves the window when the budget is tight.
func (p *pattern) shrink() { p.window = max(1, p.window/2) }

// observe updates r's pattern with a read and returns the window, whether
// r reads at random, and whether a reader of small blocks is in a long
// sequential run (past one chunk of the cache).
func (r *Reader) observe(off, n int64) (window int, random, long bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &r.pattern
	window = p.observe(off, n)
	return window, p.random(), p.tol > p.cs && p.run > p.tol-p.cs
}

// randomBlockSize is the block a Reader detected random fetches instead of
// a whole chunk: 1 MiB, the largest FUSE read, so a random read costs at
// most about one read's worth of bytes past it, not 8 MiB (programs that
// pick ranges out of large files: Parquet footers and row groups, Cloud
// Optimized GeoTIFF tiles, zip members).
const randomBlockSize = 1 << 20

// blockFor returns the block size for a read at off: randomBlockSize for a
// random reader of chunk-sized blocks, unless the chunk holding off is
// cached already (a sequential phase read it); the cache's chunk size for
// a reader of small blocks in a long sequential run (cp or rsync of a
// NetCDF file: 128 KiB blocks would cap it at 16 blocks per round trip;
// zarr-access.md §4: grow the block once sequential access shows). Blocks
// of every size are keyed by their size, so they never answer for each
// other.
func (r *Reader) blockFor(off int64, random, long bool) int64 {
	c := r.c
	bs := r.bs
	switch {
	case long && r.bs < c.chunkSize:
		bs = c.chunkSize
	case random && r.bs > randomBlockSize:
		bs = randomBlockSize
	default:
		return r.bs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if bs < r.bs {
		if _, ok := c.peekLocked(r.chunkKey(off / r.bs)); ok || c.fetches[r.chunkKey(off/r.bs)] != nil {
			return r.bs
		}
	}
	if !slices.Contains(r.sizes, bs) {
		r.sizes = append(r.sizes, bs)
	}
	return bs
}

// readAhead starts fetches of the window blocks of bs bytes after block
// last.
func (r *Reader) readAhead(bs, last int64, window int) {
	if window == 0 {
		return
	}
	lastChunk := (r.obj.Size - 1) / bs
	for idx := last + 1; idx <= min(last+int64(window), lastChunk); idx++ {
		switch r.c.tryPrefetch(r, bs, idx, window) {
		case prefetchBusy:
			return
		case prefetchRefused:
			r.mu.Lock()
			r.pattern.shrink()
			r.mu.Unlock()
			return
		}
	}
}
