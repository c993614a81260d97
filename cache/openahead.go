package cache

import (
	"path"
	"strings"

	"github.com/earthmount/earthmount/backends"
)

// Fetches started at open.
//
// A program that opens a file reads it, and the blocks it reads first are
// known: the first chunk always (a small object is one chunk, so it is
// fetched whole), and for HDF5-based formats the last one too. Opening a
// NetCDF4/HDF5 file is about 23 tiny reads (superblock, object headers,
// heap) in the first ~16 KiB and, for files xarray wrote, the coordinate
// arrays in the last few KiB (zarr-access.md §4): two blocks, which the
// reader would otherwise fetch one round trip after the other. Both are
// started at open, in parallel, as read-ahead (refused, not waited for,
// when the budget is tight; then the reads fetch them).

// tailFormats are the extensions of formats whose readers read the end of
// the file at open: HDF5 and NetCDF4 (which is HDF5), and NetCDF classic,
// whose variables are laid out after the header up to the end.
var tailFormats = []string{".nc", ".nc4", ".netcdf", ".h5", ".hdf5", ".he5", ".hdf", ".cdf"}

// StartFetches starts fetching the blocks a reader of r's object reads first: chunk 0
// and, for NetCDF/HDF5 files, the last chunk. It never blocks. fs calls it
// at open.
func (r *Reader) StartFetches() {
	size := r.obj.Size
	if size <= 0 {
		return
	}
	c := r.c
	// Under the cache's context: a reader that opens, reads the tail (a
	// shard's index) and closes must not cancel the head, which the next
	// open wants. Unversioned chunks belong to this Reader only.
	start := func(idx int64) {
		if r.obj.Version == "" {
			c.tryPrefetch(r, r.bs, idx, 2)
		} else {
			c.prefetchChunk(r.src, r.remote, r.obj, idx)
		}
	}
	start(0)
	if last := (size - 1) / r.bs; last > 0 && hasTail(r.obj.Key) {
		start(last)
	}
}

// hasTail reports whether key names a file whose readers read its end at
// open.
func hasTail(key string) bool {
	ext := strings.ToLower(path.Ext(key))
	for _, e := range tailFormats {
		if ext == e {
			return true
		}
	}
	return false
}

// hdfBlockSize is the block size of NetCDF/HDF5 files larger than one
// chunk of the cache. HDF5 readers do not read whole files: the open is
// ~23 reads of 8 B-4 KiB in the first ~16 KiB and the last few KiB, then
// B-tree nodes of ~3 KiB, then one pread per compressed chunk of exactly
// its size, often far apart (zarr-access.md §4). Measured on those traces,
// a point series read 1.4 MB as 20 blocks of 128 KiB (2.5 MB, 1.8x) but 6
// of 1 MiB (6.3 MB, 4.5x) or 2 of 8 MiB (16.8 MB, 12x), and the
// benchmark's one-chunk subset read 4.2 MB as 29 MB in 8 MiB blocks.
// 128 KiB also matches the kernel's default FUSE read; contiguous scans
// lose nothing to it: a read begins all its blocks at once and read-ahead
// keeps up to maxWindow blocks in flight, so a scan costs more requests,
// not more round trips.
const hdfBlockSize = 128 << 10

// blockSize returns the fetch and cache unit for obj: an object up to one
// chunk whole, a large NetCDF/HDF5 file in hdfBlockSize blocks, anything
// else in chunks of Options.ChunkSize.
func (c *Cache) blockSize(obj backends.ObjectInfo) int64 {
	if obj.Size > c.chunkSize && hasTail(obj.Key) {
		return min(c.chunkSize, hdfBlockSize)
	}
	return c.chunkSize
}

// Direct reports whether reads of r's object are best passed to it
// exactly as programs make them, bypassing the kernel's page cache and
// read-ahead: a NetCDF/HDF5 file read in small blocks. Its readers read
// each compressed chunk with one pread of exactly its size and cache
// chunks themselves; the kernel's read-ahead (2 MiB on the mount) read
// past every chunk and nearly doubled the bytes of a one-chunk subset.
// fs opens such files with FOPEN_DIRECT_IO.
func (r *Reader) Direct() bool { return r.bs < r.c.chunkSize }
