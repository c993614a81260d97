package cache

import (
	"context"
	"errors"
	"sync"
)

// flightGroup runs one call per key at a time; concurrent callers with the
// same key wait for it and share its result (single-flight). The call runs
// on the first caller's goroutine with that caller's context; if it ends
// because that context was cancelled, the waiters do not inherit the
// error: the next one runs the call again. Waiters watch their own ctx.
type flightGroup[V any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[V] // GUARDED_BY(mu)
}

type flightCall[V any] struct {
	done chan struct{}
	// Written before done is closed:
	val       V
	err       error
	abandoned bool // the caller's context ended the call
}

func (g *flightGroup[V]) do(ctx context.Context, key string, fn func(context.Context) (V, error)) (V, error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = map[string]*flightCall[V]{}
		}
		if c, ok := g.calls[key]; ok {
			g.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				var zero V
				return zero, ctx.Err()
			}
			if c.abandoned {
				continue
			}
			return c.val, c.err
		}
		c := &flightCall[V]{done: make(chan struct{})}
		g.calls[key] = c
		g.mu.Unlock()

		c.val, c.err = fn(ctx)
		c.abandoned = c.err != nil && ctx.Err() != nil &&
			(errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded))
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
		return c.val, c.err
	}
}
