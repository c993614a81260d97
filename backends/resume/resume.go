// Package resume fills a ranged read from an HTTP store: it asks again for
// what a shorter range left out, and reads on after a response body that
// broke off, so that S3 and Swift share one loop that never hands out a
// short read as data. The store supplies the request; pinning every
// request to one version (If-Match) is the store's job.
package resume

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// ErrShortBody marks a response body that ended or failed before the bytes
// it promised; Fill asks again from where it stopped.
var ErrShortBody = errors.New("response body ended early")

// Getter places bytes from one request for buf at off and reports how many,
// and whether the object ends within buf.
type Getter func(ctx context.Context, buf []byte, off int64) (n int, atEOF bool, err error)

// Options tune Fill.
type Options struct {
	Attempts int                             // tries after a broken body, at least 1
	Backoff  func(attempt int) time.Duration // wait before the next try
	// Fail wraps an error Fill produces itself (a cancelled context) into
	// the store's error type.
	Fail func(err error) error
	Log  *slog.Logger
	Key  string // for the log line
	// OnRetry, when set, hears of each new request after a broken body
	// (metrics).
	OnRetry func()
}

// Fill reads p[:want] starting at off with get (want <= len(p): the part
// of p inside the object). It returns io.EOF, io.ReaderAt style, when it
// placed fewer than len(p) bytes because the object ended; ErrStale and
// every error that is not a broken body come back at once.
func Fill(ctx context.Context, p []byte, want int, off int64, get Getter, o Options) (int, error) {
	n := 0
	for attempt := 1; ; attempt++ {
		m, atEOF, err := get(ctx, p[n:want], off+int64(n))
		n += m
		switch {
		case err == nil && (atEOF || n == want):
			if n < len(p) {
				return n, io.EOF
			}
			return n, nil
		case err == nil:
			continue // a shorter range than asked for: ask for the rest
		case errors.Is(err, backends.ErrStale):
			return 0, err
		case ctx.Err() != nil:
			return n, o.Fail(ctx.Err())
		case !errors.Is(err, ErrShortBody) || attempt >= o.Attempts:
			return n, err
		}
		o.Log.Warn("response body broke off, reading on", "op", "read", "key", o.Key, "off", off+int64(n), "attempt", attempt, "err", err)
		if o.OnRetry != nil {
			o.OnRetry()
		}
		if err := Sleep(ctx, o.Backoff(attempt)); err != nil {
			return n, o.Fail(err)
		}
	}
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
