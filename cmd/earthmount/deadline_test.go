package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
)

// hangingStore answers nothing until its context ends.
type hangingStore struct{ *memstore.Store }

func (hangingStore) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	<-ctx.Done()
	return backends.ObjectInfo{}, ctx.Err()
}

func TestDeadlineStore(t *testing.T) {
	st := &deadlineStore{Store: hangingStore{memstore.New()}, d: 50 * time.Millisecond}
	start := time.Now()
	_, err := st.Stat(t.Context(), "b/k")
	if !errors.Is(err, backends.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Errorf("Stat of a hung store: %v after %v; want ErrUnavailable after 50ms", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := st.Stat(ctx, "b/k"); !errors.Is(err, context.Canceled) || errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Stat by a caller that gave up: %v; want its cancellation", err)
	}
	if withDeadline("icos", st) != backends.Store(st) {
		t.Error("an icos store got a deadline")
	}
}
