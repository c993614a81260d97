package fs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

func TestToErrno(t *testing.T) {
	wrap := func(kind error) error {
		return fmt.Errorf("layer: %w", &backends.Error{Op: "read", Remote: "r", Key: "k", Err: backends.Kind(kind, fmt.Errorf("cause"))})
	}
	tests := []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"nil", nil, 0},
		{"not exist", wrap(backends.ErrNotExist), syscall.ENOENT},
		{"stale", wrap(backends.ErrStale), syscall.ESTALE},
		{"permission", wrap(backends.ErrPermission), syscall.EACCES},
		{"unauthenticated", wrap(backends.ErrUnauthenticated), syscall.EACCES},
		{"read-only", backends.ErrReadOnly, syscall.EROFS},
		{"not supported", wrap(backends.ErrNotSupported), syscall.ENOTSUP},
		{"throttled", wrap(backends.ErrThrottled), syscall.EIO},
		{"unavailable", wrap(backends.ErrUnavailable), syscall.EIO},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), syscall.EINTR},
		{"deadline", wrap(context.DeadlineExceeded), syscall.ETIMEDOUT},
		{"errno passes through", fmt.Errorf("x: %w", syscall.ENOSPC), syscall.ENOSPC},
		{"unknown", io.ErrUnexpectedEOF, syscall.EIO},
		{"kind wins over a wrapped dial errno", wrap(backends.Kind(backends.ErrUnavailable, syscall.ECONNREFUSED)), syscall.EIO},
	}
	log := slog.New(slog.DiscardHandler)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toErrno(log, "op", "p", tt.err); got != tt.want {
				t.Errorf("toErrno(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
