package backends

import "context"

// Store is a read view of one remote. Every method may block, takes the
// caller's context first, and is safe for concurrent use.
type Store interface {
	// List returns one page of the entries below req.Prefix.
	//
	// With Delimiter "/", Objects holds the keys directly below the prefix
	// and Prefixes the "sub-directories" (each ending in "/"). With an
	// empty Delimiter the listing is flat: every key below the prefix, at
	// any depth. Objects and Prefixes are each in strictly increasing byte
	// order, and pages continue where the previous one ended. An object
	// whose key equals req.Prefix (a directory marker) is left out and
	// reported by ListPage.Marker instead. Pages
	// may be short or even empty; only an empty Next ends the listing.
	// Listing a prefix that names no bucket or container of the store
	// returns ErrNotExist; a prefix with no keys in an existing bucket
	// returns an empty page.
	List(ctx context.Context, req ListRequest) (ListPage, error)

	// Stat returns the object stored under exactly key. It returns
	// ErrNotExist when there is none, even when key is a prefix of other
	// keys: whether a name is a directory is for fs to decide.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// ReadAt reads len(p) bytes of obj starting at off, with io.ReaderAt
	// semantics: n < len(p) only together with a non-nil error, and io.EOF
	// when the object ends before p is full. When obj.Version is set and the
	// stored object no longer has that version, ReadAt returns ErrStale and
	// no bytes: a reader never gets bytes of two versions.
	ReadAt(ctx context.Context, obj ObjectRef, p []byte, off int64) (int, error)
}
