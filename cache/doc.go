// Package cache holds what earthmount keeps in memory between the
// filesystem and the stores: object bytes (Cache, Reader) and directory
// metadata (Meta, DirReader). fs reaches the stores through it.
//
// It imports only backends, the standard library and golang-lru; it must
// never import fs, cmd or any storage SDK.
//
// # Chunks
//
// An object is read in chunks of Options.ChunkSize bytes (DefaultChunkSize,
// 8 MiB; see its comment for why): chunk i covers [i*size, (i+1)*size),
// the last one is short, and an object up to one chunk is fetched whole
// in one request. Larger NetCDF/HDF5 files use 128 KiB blocks instead
// (hdfBlockSize: their readers read chunks of a file, not the file). A
// read begins every block it spans before it waits for any, so they are
// fetched in parallel. A chunk is cached under (remote, key, version,
// block size, index),
// so an overwritten object can never serve old bytes, and every fetch
// asks the store for exactly the version pinned at Open (the store turns
// that into If-Match and answers ErrStale if the object changed). A stale
// chunk is never cached, and a Reader that saw ErrStale fails every later
// read. An object without a version (Version "") is cached per Reader
// only. A fetch that returns fewer bytes than the pinned size promises is
// an ErrUnavailable, never short data. Store errors pass through wrapped,
// so errors.Is sees their kinds.
//
// # Budget
//
// Options.Budget bounds, in bytes, every cached chunk, every fetch in
// flight (demand and read-ahead) and every recycled buffer, over all open
// Readers; each chunk is also charged a small fixed overhead (budget.go).
// A fetch reserves its buffer before it starts, evicting least recently
// used chunks; a demand read that finds the room held by fetches in flight
// waits (until its ctx ends) for room, and read-ahead that finds no room
// is skipped. So a thousand open files reading at once stay within the
// budget; Stats().PeakBytes shows the highest level reached. Evicted
// full-size buffers are reused by later fetches (the free list counts
// against the budget). The heap still holds garbage between GCs, so cmd
// sets debug.SetMemoryLimit from the budget plus a margin: the Go runtime
// then collects before the process grows past it.
//
// # Read-ahead
//
// Each Reader detects sequential access (tolerating the kernel's slight
// reordering of async reads) and fetches the chunks after the one being
// read, in a window that starts at one chunk and doubles each time the
// reader enters a new chunk, up to 16 chunks in flight per Reader. A seek
// drops the window; two or more seeks with less than a chunk read per seek
// mark the Reader random, with no read-ahead until it reads two chunks in
// a row again; meanwhile it fetches 1 MiB blocks (randomBlockSize) instead
// of whole chunks, except where a chunk is cached already. Read-ahead may hold at most half the budget (in flight plus
// fetched and not yet read), none while a demand read waits for room,
// and at most three quarters of Options.MaxInflight fetch slots; when
// refused, the window halves. Readers of 128 KiB blocks (Reader.Direct:
// fs opens them with direct I/O, so reads arrive as the program makes
// them) get a window only after a sequential run of one chunk, and then
// fetch whole chunks; before that, only the 1 MiB after a full 1 MiB
// read, the next piece of the same pread. See readahead.go.
//
// Prefetched chunks not read yet are kept apart from the LRU of chunks
// read: room is made by evicting read chunks first, so a prediction is
// not evicted before its read, unless readers consumed the whole budget's
// worth of bytes since it arrived (then it is stale and goes first).
// See budget.go. Likewise the head and tail blocks of an open NetCDF/HDF5
// file, which every open of it reads, are kept (up to a sixteenth of the
// budget) until its last Reader closes (keep.go).
//
// # Read-ahead across files
//
// Three more sources of fetches, all read-ahead for the budget (the same
// half of it, the same share of fetch slots, refused rather than waited
// for), all keyed by the version a listing reported so that the later
// Open pins the same version and finds them, none ever changing a byte:
//
//   - Reader.StartFetches, at open: the first chunk (a small object
//     whole) and, for NetCDF/HDF5, the last (openahead.go).
//   - TreeAhead: a program that opens a directory's files in listing
//     order (cp -r, rsync, tar) gets the next small files fetched
//     ahead, in parallel (treeahead.go).
//   - Zarr: stores are recognised from their metadata documents or a
//     *.zarr name; a store's lookup lists it flat at once (Meta.Walk) and
//     fetches its metadata documents and lone coordinate chunks in
//     parallel (zarr_open.go); their directories are listed whole instead
//     of probed per chunk, their coordinate arrays fetched at open, and a
//     per-array predictor
//     (stride along any axis, neighbours, sibling arrays, with back-off)
//     chooses the chunk objects to fetch next (zarr.go, zarrpredict.go).
//
// # Metadata
//
// Meta lists directories (delimiter "/") page by page as DirReaders ask,
// and keeps complete listings for MetaOptions.TTL; a cached listing, even
// one still being fetched, answers Lookups of the names it has, and a
// complete one answers ENOENT for the others: listings answer stat, never
// a HEAD per entry. Other Lookups cost one round trip (Stat and a one-key
// listing in parallel); results are cached, negative ones for
// NegativeTTL. Names that cannot be path components are skipped, and an
// object shadowed by a directory of the same name shows as "name~object"
// (names.go). A subtree being walked (find, rsync, du, cp -r) is listed
// flat, a thousand keys per request, and every directory's listing is
// built from that (walk.go).
//
// # Contexts
//
// Everything that blocks takes the caller's ctx and returns ctx.Err() when
// it ends, without failing other callers. Work shared between callers does
// not run under one caller's ctx: a chunk fetch runs under the Cache's
// context with Options.FetchTimeout, read-ahead under its Reader's context
// (cancelled by Reader.Close), a walk's background page under the Meta's
// (cancelled by Meta.Close). Listing pages and lookup requests run under
// the ctx of the caller that asked first; if that caller goes away, the
// next waiter asks again.
package cache
