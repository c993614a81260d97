package backends

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Writer is the optional write capability of a Store, found by type
// assertion. Stores that cannot write (ICOS) do not implement it; remotes
// configured read-only never use it.
//
// Upload and Rename replace an existing object at their destination
// atomically: readers see the old or the new version, never a mix.
type Writer interface {
	// Upload stores size bytes of body under key, with mtime recorded in
	// the object's metadata (see FormatMtime), and returns what a Stat of
	// the new object reports. body is read with ReadAt, possibly in
	// parallel parts, and may be read again when a part is retried.
	Upload(ctx context.Context, key string, body io.ReaderAt, size int64, mtime time.Time) (ObjectInfo, error)
	// Remove deletes key. Removing a key that does not exist succeeds.
	Remove(ctx context.Context, key string) error
	// Rename moves src to dst inside the store (no data passes through
	// the client), keeping src's metadata: a server-side copy then a
	// delete of src, or cheaper where the store allows (a Swift large
	// object's manifest moves, its segments stay). Not atomic: a failure
	// may leave both keys.
	Rename(ctx context.Context, src, dst string) (ObjectInfo, error)
	// SetModTime records mtime in key's metadata without re-uploading its
	// content where the store allows it.
	SetModTime(ctx context.Context, key string, mtime time.Time) (ObjectInfo, error)
}

// MtimeMeta is the metadata name (X-Amz-Meta-Mtime, X-Object-Meta-Mtime)
// under which earthmount and rclone keep a file's modification time.
const MtimeMeta = "mtime"

// FormatMtime formats t as rclone does: seconds since the epoch, a dot
// and nine digits of nanoseconds ("1700000000.123456789").
func FormatMtime(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// ParseMtime parses FormatMtime's text, also with fewer fraction digits
// or none (older rclone versions wrote floats).
func ParseMtime(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 9 {
		return time.Time{}, false
	}
	var nanos int64
	if frac != "" {
		n, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return time.Time{}, false
		}
		nanos = int64(n)
		for range 9 - len(frac) {
			nanos *= 10
		}
	}
	return time.Unix(secs, nanos), true
}
