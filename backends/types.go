package backends

import "time"

// ObjectInfo describes one stored object, as a listing or a stat reports it.
type ObjectInfo struct {
	// Key is the full key, relative to the store root.
	Key string
	// Size is the length of the object's content in bytes.
	Size int64
	// ModTime is the store's last-modified time of the object.
	ModTime time.Time
	// Version changes whenever the content changes: the ETag without quotes
	// for S3 and Swift, a content hash elsewhere. Empty means the store
	// cannot tell, and such objects are never cached by version.
	Version string
}

// Ref returns the reference that pins reads to this version of the object.
func (o ObjectInfo) Ref() ObjectRef { return ObjectRef{Key: o.Key, Version: o.Version, Size: o.Size} }

// ObjectRef names one version of an object for ReadAt.
type ObjectRef struct {
	Key string
	// Version pins the read; empty means whatever is current.
	Version string
	// Size is the size seen with Version, or -1 when unknown. Stores may
	// use it to avoid asking for bytes past the end.
	Size int64
}

// ListRequest asks for one page of a listing.
type ListRequest struct {
	// Prefix is "" or ends in "/".
	Prefix string
	// Delimiter is "/" for one directory level, or "" for a flat listing.
	Delimiter string
	// Token continues a listing; it is the Next of the previous page.
	Token string
	// Limit caps the number of entries; 0 means the store's default
	// (usually 1000).
	Limit int
}

// ListPage is one page of a listing.
type ListPage struct {
	Objects []ObjectInfo
	// Prefixes are the common prefixes of a delimiter listing, each ending
	// in the delimiter.
	Prefixes []string
	// Next is the token for the following page; empty at the end.
	Next string
	// Marker reports that the listed prefix's own directory marker (an
	// object whose key equals the prefix) exists; it is left out of
	// Objects. Only the first page can report it, the marker sorting
	// first. It tells an empty directory made by mkdir from nothing.
	Marker bool
}
