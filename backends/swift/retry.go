package swift

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/resume"
)

// Backoff between tries of a read-only request.
const (
	retryBase     = 100 * time.Millisecond
	retryMax      = 2 * time.Second
	retryAfterMax = 10 * time.Second // longest Retry-After honoured
)

// retry runs f, an idempotent request, up to s.attempts times while it
// fails with a throttling, server or network error, with jittered
// exponential backoff (or the server's Retry-After, when short). A 401 is
// not retried here: gophercloud's re-auth hook already ran once.
func (s *Store) retry(ctx context.Context, op, key string, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt >= s.attempts || ctx.Err() != nil || !retryable(err) {
			return err
		}
		wait := backoff(attempt)
		if d, ok := retryAfter(err); ok {
			wait = d
		}
		s.log.Warn("swift: request failed, trying again", "op", op, "key", key, "attempt", attempt, "wait", wait, "err", describe(err))
		if s.onRetry != nil {
			s.onRetry(op)
		}
		if err := resume.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func retryable(err error) bool {
	kind := classify(err)
	return kind == backends.ErrThrottled || kind == backends.ErrUnavailable || refusedAfterReauth(err)
}

// refusedAfterReauth reports a 401 on the replay after a re-auth: the new
// token was refused too, at random or because every fresh token is. The
// next try logs in again; the token source stops that (an error that is
// not retried) when fresh tokens keep being refused.
func refusedAfterReauth(err error) bool {
	var after *gophercloud.ErrErrorAfterReauthentication
	return errors.As(err, &after) && statusOf(after.ErrOriginal) == http.StatusUnauthorized
}

// retryAfter returns a Retry-After in seconds from a 429/503 response.
func retryAfter(err error) (time.Duration, bool) {
	var v gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &v) || v.ResponseHeader == nil {
		return 0, false
	}
	n, perr := strconv.Atoi(v.ResponseHeader.Get("Retry-After"))
	if perr != nil || n < 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, retryAfterMax), true
}

// backoff returns a jittered exponential delay for the given attempt.
func backoff(attempt int) time.Duration {
	d := min(retryBase<<min(attempt-1, 10), retryMax)
	return d/2 + rand.N(d/2+1)
}
