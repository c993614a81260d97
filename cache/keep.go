package cache

// Head and tail blocks of open NetCDF/HDF5 files are kept.
//
// Every open of an HDF5 file reads its superblock and object headers in
// the first block and, for files xarray wrote, its coordinates in the last
// (zarr-access.md §4), and netCDF-c opens each file twice (a sniff, then
// HDF5). Those two blocks are small (hdfBlockSize), but in the LRU a scan
// of other data evicts them, and every later open of the file then pays
// two round trips before its first byte. So while a Reader of such a file
// is open, the head and tail blocks it read sit in Cache.kept, which is
// evicted only when nothing else is left; when the last Reader holding a
// block closes, the block goes back to the LRU as its most recent entry
// ("recently used"). kept is bounded to keptShare of the budget: past it,
// blocks are simply not kept.

// keptShare is the part of the budget kept blocks may hold: at 512 MiB,
// 32 MiB, the head and tail of 128 open files.
const keptShare = 16

// keeps reports whether r keeps block idx while open: the first and last
// block of a NetCDF/HDF5 file read in small blocks.
func (r *Reader) keeps(idx int64) bool {
	if r.bs >= r.c.chunkSize || !hasTail(r.obj.Key) {
		return false
	}
	return idx == 0 || idx == (r.obj.Size-1)/r.bs
}

// keep records that r read block idx, which it keeps while open.
func (r *Reader) keep(idx int64) {
	slot := 0
	if idx > 0 {
		slot = 1
	}
	r.mu.Lock()
	done := r.kept[slot] || r.err != nil // closed: Close released already
	r.kept[slot] = true
	r.mu.Unlock()
	if done {
		return
	}
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	key := r.chunkKey(idx)
	if ch, ok := c.kept.Get(key); ok {
		ch.keepers++
		return
	}
	ch, ok := c.lru.Peek(key)
	if !ok || c.acct.kept+ch.cost > c.acct.budget/keptShare {
		r.mu.Lock()
		r.kept[slot] = false
		r.mu.Unlock()
		return
	}
	c.lru.Remove(key)
	ch.keepers = 1
	c.acct.kept += ch.cost
	c.kept.Add(key, ch)
}

// releaseKept gives back the blocks r kept; called by Close.
func (r *Reader) releaseKept() {
	r.mu.Lock()
	kept := r.kept
	r.kept = [2]bool{}
	r.mu.Unlock()
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for slot, held := range kept {
		if !held {
			continue
		}
		idx := int64(0)
		if slot == 1 {
			idx = (r.obj.Size - 1) / r.bs
		}
		key := r.chunkKey(idx)
		ch, ok := c.kept.Peek(key)
		if !ok {
			continue // evicted when nothing else was left
		}
		if ch.keepers--; ch.keepers > 0 {
			continue
		}
		c.kept.Remove(key)
		c.acct.kept -= ch.cost
		c.lru.Add(key, ch)
	}
}
