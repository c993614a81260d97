package backends

import (
	"errors"
	"fmt"
	"io/fs"
)

// The error kinds every store reports. Stores wrap them (usually in an
// *Error) so that callers test with errors.Is; fs maps them to errno in one
// table.
var (
	// ErrNotExist: no such key, bucket or container.
	ErrNotExist = fs.ErrNotExist
	// ErrPermission: the store refused the request (403).
	ErrPermission = fs.ErrPermission
	// ErrUnauthenticated: credentials are missing, wrong or expired, after
	// one refresh attempt (401, or S3's InvalidAccessKeyId and
	// SignatureDoesNotMatch).
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrStale: the object changed since it was opened (412, or a version
	// that no longer matches).
	ErrStale = errors.New("object changed since it was opened")
	// ErrThrottled: the store asked us to slow down (429, 503 SlowDown),
	// still so after retries.
	ErrThrottled = errors.New("throttled by the store")
	// ErrUnavailable: the store could not be reached or failed (5xx,
	// network errors, timeouts), still so after retries.
	ErrUnavailable = errors.New("store unavailable")
	// ErrNotSupported: the store cannot do this operation.
	ErrNotSupported = errors.ErrUnsupported
	// ErrReadOnly: a write to a store or remote that is read-only.
	ErrReadOnly = errors.New("read-only")
)

// Error records a failed store operation: which remote, which operation and
// key, what went wrong, and, where it helps, what the user can do.
type Error struct {
	Op     string // "list", "stat", "read", ...
	Remote string // the configured remote's name
	Key    string // key or prefix
	Err    error  // one of the kinds above, possibly wrapping the cause
	Hint   string // optional: what to do about it
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s %q: %v", e.Remote, e.Op, e.Key, e.Err)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Kind wraps cause so that errors.Is(err, kind) holds while the message
// keeps the cause's detail.
func Kind(kind, cause error) error {
	if cause == nil || errors.Is(cause, kind) {
		return cause
	}
	return &kindError{kind: kind, cause: cause}
}

type kindError struct{ kind, cause error }

func (e *kindError) Error() string   { return e.cause.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.cause} }
