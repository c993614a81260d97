package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/earthmount/earthmount/backends"
)

// errnoTable maps error kinds to errno, first match wins. It is the only
// place where store errors become errno.
var errnoTable = []struct {
	kind  error
	errno syscall.Errno
}{
	{backends.ErrNotExist, syscall.ENOENT},
	{backends.ErrStale, syscall.ESTALE},
	{backends.ErrPermission, syscall.EACCES},
	{backends.ErrUnauthenticated, syscall.EACCES},
	{backends.ErrReadOnly, syscall.EROFS},
	{backends.ErrNotSupported, syscall.ENOTSUP},
	{backends.ErrThrottled, syscall.EIO},
	{backends.ErrUnavailable, syscall.EIO},
	{context.Canceled, syscall.EINTR},
	{context.DeadlineExceeded, syscall.ETIMEDOUT},
}

// toErrno maps err to an errno. Errors that need the user's attention are
// logged here, once, with the operation and path; "no such file" is only a
// debug line because shells and programs probe for names all the time.
func toErrno(log *slog.Logger, op, path string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	// The kinds come first: a store's error may carry a low-level errno
	// (ECONNREFUSED from a dial) that means nothing to the caller of read.
	errno, found := syscall.EIO, false
	for _, e := range errnoTable {
		if errors.Is(err, e.kind) {
			errno, found = e.errno, true
			break
		}
	}
	var se syscall.Errno
	if !found && errors.As(err, &se) {
		errno = se
	}
	level := slog.LevelWarn
	var be *backends.Error
	hinted := errors.As(err, &be) && be.Hint != ""
	if (errno == syscall.ENOENT && !hinted) || errno == syscall.EINTR {
		level = slog.LevelDebug
	}
	log.Log(context.Background(), level, "filesystem operation failed", "op", op, "path", path, "errno", errno.Error(), "err", err)
	return errno
}
