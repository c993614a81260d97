// Package fs is earthmount's FUSE layer, built on go-fuse v2's fs API.
//
// The tree is: an optional root holding one directory per remote, then the
// directories and files each remote's keys imply. Directory contents and
// file attributes come from cache.Meta (listings answer stat; there is never
// a request per directory entry); file contents come from cache.Reader,
// pinned at open to the version (ETag) the listing reported.
//
// Inode numbers are a hash of (remote, key), so the kernel and go-fuse see
// one node per path across lookups. Kernel caches: entries and attributes
// live for Options.AttrTTL, negative lookups for Options.NegativeTTL, and
// file pages are kept across opens (FOPEN_KEEP_CACHE) while the version is
// unchanged.
//
// Opens also drive read-ahead across files (cache.TreeAhead for programs
// that read a directory in listing order, cache.Zarr for Zarr stores),
// and lookups that find a Zarr document tell cache.Zarr about the store.
//
// Remotes with a Writer are writable (write.go, writefile.go): files are
// staged in the Spool and uploaded on close and fsync, and every change
// updates cache.Meta. The others refuse changes with EROFS.
//
// Errors become errno in exactly one place, errno.go, which also logs them.
// This package must not import any SDK or auth package: it sees stores only
// through backends' types and cache.
package fs
