package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
)

// testSource wraps a memstore with latency, a gate, fault injection and
// concurrency tracking. Set the fields before concurrent use.
type testSource struct {
	store   *memstore.Store
	latency time.Duration
	// gate, when set, holds every read until it is closed (or ctx ends).
	gate chan struct{}
	// fault, when set, may replace a read's result.
	fault func(ref backends.ObjectRef, off int64, n int, err error) (int, error)

	mu        sync.Mutex
	reads     int
	active    int
	maxActive int
	started   chan struct{} // if set, receives one value per read started (non-blocking)
}

func newTestSource() *testSource { return &testSource{store: memstore.New()} }

func (s *testSource) ReadAt(ctx context.Context, ref backends.ObjectRef, p []byte, off int64) (int, error) {
	s.mu.Lock()
	s.reads++
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	started, gate := s.started, s.gate
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	if started != nil {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	n, err := s.store.ReadAt(ctx, ref, p, off)
	if s.fault != nil {
		return s.fault(ref, off, n, err)
	}
	return n, err
}

func (s *testSource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func (s *testSource) maxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxActive
}

// put stores n pseudo-random bytes under key.
func (s *testSource) put(t *testing.T, key string, n int, seed uint64) ([]byte, backends.ObjectInfo) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return data, s.store.Put(key, data)
}

func newTestCache(t *testing.T, opts Options) *Cache {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// chunks returns a budget of k chunks of size cs.
func chunks(k int, cs int64) int64 { return int64(k) * cost(cs) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// readAll reads the whole object through r in reads of size step.
func readAll(ctx context.Context, r *Reader, size int64, step int) ([]byte, error) {
	var out bytes.Buffer
	buf := make([]byte, step)
	for off := int64(0); ; {
		n, err := r.ReadAt(ctx, buf, off)
		out.Write(buf[:n])
		off += int64(n)
		if err != nil {
			if off == size && errors.Is(err, io.EOF) {
				return out.Bytes(), nil
			}
			return out.Bytes(), err
		}
		if off == size {
			return out.Bytes(), nil
		}
	}
}
