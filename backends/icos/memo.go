package icos

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// memo caches values by key for a TTL, fetches each key once however many
// callers ask (the fetch runs under the store's context, callers wait
// under theirs), and serves the old value when a refresh fails: a quota
// 503 must not turn a listing that worked a minute ago into an error.
// After a failed refresh the old value is served for a retry period
// before the next attempt, so a throttled portal sees no query storm.
type memo[T any] struct {
	mu  sync.Mutex
	cap int
	m   map[string]*memoEntry[T]
}

type memoEntry[T any] struct {
	val     T
	ok      bool      // val holds a fetched value
	at      time.Time // when val was fetched
	holdOff time.Time // after a failed refresh: serve val until then
	flight  chan struct{}
	err     error // of the last fetch, for waiters
}

func (m *memo[T]) init(capacity int) {
	m.cap = capacity
	m.m = map[string]*memoEntry[T]{}
}

// get returns the value of key, fetching it when missing or older than
// ttl. Fetch errors that are not throttling or unavailability are
// returned as they are; those are also hidden by an old value.
func (m *memo[T]) get(ctx context.Context, s *Store, key string, fetch func(ctx context.Context) (T, error)) (T, error) {
	ttl, now := s.cfg.MetaTTL, s.cfg.Now()
	m.mu.Lock()
	e := m.m[key]
	if e == nil {
		if len(m.m) >= m.cap {
			m.evictLocked()
		}
		e = &memoEntry[T]{}
		m.m[key] = e
	}
	if e.ok && (now.Sub(e.at) < ttl || now.Before(e.holdOff)) {
		v := e.val
		m.mu.Unlock()
		return v, nil
	}
	ch := e.flight
	if ch == nil {
		ch = make(chan struct{})
		e.flight = ch
		go m.run(s, key, e, ch, fetch)
	}
	m.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ok && (e.err == nil || transient(e.err)) {
		return e.val, nil
	}
	var zero T
	return zero, e.err
}

func (m *memo[T]) run(s *Store, key string, e *memoEntry[T], ch chan struct{}, fetch func(ctx context.Context) (T, error)) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	defer cancel()
	v, err := fetch(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	e.flight, e.err = nil, err
	switch {
	case err == nil:
		e.val, e.ok, e.at = v, true, s.cfg.Now()
	case e.ok && transient(err):
		e.holdOff = s.cfg.Now().Add(time.Minute)
		s.log.Warn("ICOS metadata refresh failed; serving the cached listing", "what", key, "err", err)
	}
	close(ch)
}

// evictLocked drops entries that are not being fetched, oldest first,
// until there is room.
// LOCKS_REQUIRED(m.mu)
func (m *memo[T]) evictLocked() {
	for len(m.m) >= m.cap {
		var oldest string
		var at time.Time
		for k, e := range m.m {
			if e.flight == nil && (oldest == "" || e.at.Before(at)) {
				oldest, at = k, e.at
			}
		}
		if oldest == "" {
			return
		}
		delete(m.m, oldest)
	}
}

// transient reports whether err may pass by itself (throttling, outage),
// so that a cached value is better than the error.
func transient(err error) bool {
	return errors.Is(err, backends.ErrThrottled) || errors.Is(err, backends.ErrUnavailable)
}
