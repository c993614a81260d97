package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
)

// clock is an injected clock for TTL tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestMeta(t *testing.T, store backends.Store, opts MetaOptions) *Meta {
	t.Helper()
	if opts.Remote == "" {
		opts.Remote = "mem"
	}
	m := NewMeta(store, opts)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// readDir reads a whole directory.
func readDir(t *testing.T, ctx context.Context, m *Meta, prefix string) []Entry {
	t.Helper()
	d := m.OpenDir(prefix)
	var out []Entry
	for {
		batch, err := d.Next(ctx)
		out = append(out, batch...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("OpenDir(%q).Next: %v", prefix, err)
		}
	}
}

// requests returns the store's request counts and resets them.
func requests(s *memstore.Store) (lists, stats int) {
	c := s.Counts()
	s.ResetCounts()
	return c["list"], c["stat"]
}

func TestLsLargePrefixThenStat(t *testing.T) {
	s := memstore.New()
	for i := range 5000 {
		s.Put(fmt.Sprintf("b/big/k%05d", i), []byte("x"))
	}
	m := newTestMeta(t, s, MetaOptions{})
	d := m.OpenDir("b/big/")
	if l, st := requests(s); l+st != 0 {
		t.Fatalf("OpenDir made %d lists, %d stats; want none before Next", l, st)
	}
	var entries []Entry
	for {
		batch, err := d.Next(t.Context())
		entries = append(entries, batch...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(entries) != 5000 {
		t.Fatalf("got %d entries, want 5000", len(entries))
	}
	if l, st := requests(s); l != 5 || st != 0 {
		t.Errorf("ls: %d lists, %d stats; want 5, 0", l, st)
	}
	for _, e := range entries {
		got, err := m.Lookup(t.Context(), "b/big/", e.Name)
		if err != nil || got != e {
			t.Fatalf("Lookup(%q) = %+v, %v; want %+v", e.Name, got, err, e)
		}
	}
	if _, err := m.Lookup(t.Context(), "b/big/", "missing"); !errors.Is(err, backends.ErrNotExist) {
		t.Errorf("Lookup(missing) err = %v, want ErrNotExist", err)
	}
	if l, st := requests(s); l+st != 0 {
		t.Errorf("stat of every entry after ls: %d lists, %d stats; want 0", l, st)
	}
	// A second ls is served from the cache.
	if n := len(readDir(t, t.Context(), m, "b/big/")); n != 5000 {
		t.Errorf("cached ls: %d entries", n)
	}
	if l, st := requests(s); l+st != 0 {
		t.Errorf("cached ls: %d lists, %d stats; want 0", l, st)
	}
}

func TestLookupProbe(t *testing.T) {
	s := memstore.New()
	file := s.Put("b/d/file", []byte("abc"))
	s.Put("b/d/dir/x", []byte("1"))
	aliasObj := s.Put("b/d/both", []byte("obj"))
	s.Put("b/d/both/y", []byte("2"))
	s.Put("b/d/marker", nil)
	s.Put("b/d/marker/z", []byte("3"))
	s.Put("b/d/empty/", nil) // mkdir's marker, nothing under it
	tests := []struct {
		name    string
		want    Entry
		wantErr error
	}{
		{"file", Entry{Name: "file", Info: file, Stat: true}, nil},
		{"dir", Entry{Name: "dir", Dir: true}, nil},
		{"both", Entry{Name: "both", Dir: true}, nil},
		{"both~object", Entry{Name: "both~object", Info: aliasObj, Stat: true}, nil},
		{"marker", Entry{Name: "marker", Dir: true}, nil},
		{"marker~object", Entry{}, backends.ErrNotExist},
		{"empty", Entry{Name: "empty", Dir: true}, nil},
		{"missing", Entry{}, backends.ErrNotExist},
		{"..", Entry{}, backends.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMeta(t, s, MetaOptions{})
			requests(s)
			got, err := m.Lookup(t.Context(), "b/d/", tt.name)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || got != tt.want {
				t.Fatalf("Lookup = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
			if l, st := requests(s); l > 2 || st > 2 {
				t.Errorf("%d lists, %d stats", l, st)
			}
			// Cached: no request the second time.
			again, err2 := m.Lookup(t.Context(), "b/d/", tt.name)
			if again != got || !errors.Is(err2, tt.wantErr) {
				t.Errorf("second Lookup = %+v, %v", again, err2)
			}
			if l, st := requests(s); l+st != 0 {
				t.Errorf("second Lookup made %d lists, %d stats", l, st)
			}
		})
	}
}

func TestNegativeAndPositiveTTL(t *testing.T) {
	s := memstore.New()
	s.Put("b/d/f", []byte("x"))
	clk := &clock{now: time.Unix(1e9, 0)}
	m := newTestMeta(t, s, MetaOptions{TTL: time.Minute, NegativeTTL: 10 * time.Second, Now: clk.Now})
	lookup := func(name string) error {
		_, err := m.Lookup(t.Context(), "b/d/", name)
		return err
	}
	steps := []struct {
		name        string
		advance     time.Duration
		key         string
		wantErr     error
		wantRequest bool
	}{
		{"miss asks", 0, "nope", backends.ErrNotExist, true},
		{"negative cached", 5 * time.Second, "nope", backends.ErrNotExist, false},
		{"negative expires", 6 * time.Second, "nope", backends.ErrNotExist, true},
		{"positive asks", 0, "f", nil, true},
		{"positive cached", 50 * time.Second, "f", nil, false},
		{"positive expires", 11 * time.Second, "f", nil, true},
	}
	requests(s)
	for _, st := range steps {
		clk.advance(st.advance)
		if err := lookup(st.key); !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
		}
		l, n := requests(s)
		if got := l+n > 0; got != st.wantRequest {
			t.Errorf("%s: made requests = %v (%d lists, %d stats), want %v", st.name, got, l, n, st.wantRequest)
		}
	}
}

func TestListingTTLAndForget(t *testing.T) {
	s := memstore.New()
	s.Put("b/d/f", []byte("x"))
	clk := &clock{now: time.Unix(1e9, 0)}
	m := newTestMeta(t, s, MetaOptions{TTL: time.Minute, Now: clk.Now})
	readDir(t, t.Context(), m, "b/d/")
	s.Put("b/d/g", []byte("y"))
	requests(s)
	if got := entryNames(readDir(t, t.Context(), m, "b/d/")); !slices.Equal(got, []string{"f"}) {
		t.Errorf("within TTL: %q, want the cached [f]", got)
	}
	if _, err := m.Lookup(t.Context(), "b/d/", "g"); !errors.Is(err, backends.ErrNotExist) {
		t.Errorf("Lookup(g) within TTL: %v, want ErrNotExist from the cached listing", err)
	}
	if l, st := requests(s); l+st != 0 {
		t.Errorf("within TTL: %d lists, %d stats", l, st)
	}
	clk.advance(61 * time.Second)
	if got := entryNames(readDir(t, t.Context(), m, "b/d/")); !slices.Equal(got, []string{"f", "g"}) {
		t.Errorf("after TTL: %q", got)
	}
	if l, _ := requests(s); l != 1 {
		t.Errorf("after TTL: %d lists, want 1", l)
	}
	s.Put("b/d/h", []byte("z"))
	m.Forget()
	if got := entryNames(readDir(t, t.Context(), m, "b/d/")); !slices.Equal(got, []string{"f", "g", "h"}) {
		t.Errorf("after Forget: %q", got)
	}
}

func TestLookupDuringListing(t *testing.T) {
	s := memstore.New()
	for i := range 1500 {
		s.Put(fmt.Sprintf("b/d/k%04d", i), []byte("x"))
	}
	m := newTestMeta(t, s, MetaOptions{})
	d := m.OpenDir("b/d/")
	if _, err := d.Next(t.Context()); err != nil {
		t.Fatal(err)
	}
	requests(s)
	if _, err := m.Lookup(t.Context(), "b/d/", "k0500"); err != nil {
		t.Fatal(err)
	}
	if l, st := requests(s); l+st != 0 {
		t.Errorf("Lookup of a name already listed: %d lists, %d stats; want 0", l, st)
	}
	// A name the listing has not reached yet is asked for.
	if _, err := m.Lookup(t.Context(), "b/d/", "k1400"); err != nil {
		t.Fatal(err)
	}
	if l, st := requests(s); l != 1 || st != 1 {
		t.Errorf("Lookup beyond the listing: %d lists, %d stats; want 1, 1", l, st)
	}
}

func TestConcurrentLookupsAndListingsShare(t *testing.T) {
	s := memstore.New()
	s.Put("b/d/f", []byte("x"))
	gate := make(chan struct{})
	s.Hook = func(ctx context.Context, op, key string) error {
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m := newTestMeta(t, s, MetaOptions{})
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := m.Lookup(t.Context(), "b/d/", "f")
			errs <- err
		}()
		go func() {
			defer wg.Done()
			d := m.OpenDir("b/x/")
			_, err := d.Next(t.Context())
			if err == io.EOF {
				err = nil
			}
			errs <- err
		}()
	}
	waitFor(t, "requests to start", func() bool {
		c := s.Counts()
		return c["stat"] == 1 && c["list"] == 2
	})
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if l, st := requests(s); l != 2 || st != 1 {
		t.Errorf("%d identical lookups and listings: %d lists, %d stats; want 2, 1", n, l, st)
	}
}

func TestCancelledLookupDoesNotFailOthers(t *testing.T) {
	s := memstore.New()
	s.Put("b/d/f", []byte("x"))
	gate := make(chan struct{})
	s.Hook = func(ctx context.Context, op, key string) error {
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m := newTestMeta(t, s, MetaOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { _, err := m.Lookup(ctx, "b/d/", "f"); first <- err }()
	waitFor(t, "first lookup to ask", func() bool { return s.Counts()["stat"] == 1 })
	second := make(chan error, 1)
	go func() { _, err := m.Lookup(t.Context(), "b/d/", "f"); second <- err }()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("first: %v, want context.Canceled", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Fatalf("second: %v", err)
	}
}

func TestRootLookupFromListing(t *testing.T) {
	s := memstore.New()
	s.Put("alpha/x", []byte("1"))
	s.Put("beta/y", []byte("2"))
	m := newTestMeta(t, s, MetaOptions{})
	requests(s)
	for _, name := range []string{"alpha", "beta"} {
		if e, err := m.Lookup(t.Context(), "", name); err != nil || !e.Dir {
			t.Fatalf("Lookup(%q) = %+v, %v", name, e, err)
		}
	}
	if _, err := m.Lookup(t.Context(), "", "gamma"); !errors.Is(err, backends.ErrNotExist) {
		t.Fatalf("Lookup(gamma): %v", err)
	}
	if l, st := requests(s); l != 1 || st != 0 {
		t.Errorf("root lookups: %d lists, %d stats; want 1, 0", l, st)
	}
}

func TestListErrorsPassThrough(t *testing.T) {
	s := memstore.New()
	s.Put("b/d/f", []byte("x"))
	fail := true
	var mu sync.Mutex
	s.Hook = func(ctx context.Context, op, key string) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return &backends.Error{Op: op, Remote: "mem", Key: key, Err: backends.ErrPermission}
		}
		return nil
	}
	m := newTestMeta(t, s, MetaOptions{})
	d := m.OpenDir("b/d/")
	if _, err := d.Next(t.Context()); !errors.Is(err, backends.ErrPermission) {
		t.Fatalf("Next: %v, want ErrPermission", err)
	}
	if _, err := m.Lookup(t.Context(), "b/d/", "f"); !errors.Is(err, backends.ErrPermission) {
		t.Fatalf("Lookup: %v, want ErrPermission", err)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	// Errors are not cached: the same reader retries.
	if batch, err := d.Next(t.Context()); err != nil || len(batch) != 1 {
		t.Fatalf("Next after recovery: %v, %v", batch, err)
	}
}

func TestInvalidateRefetches(t *testing.T) {
	st := memstore.New()
	old := st.Put("b/f", []byte("old"))
	m := NewMeta(st, MetaOptions{Remote: "t"})
	ctx := t.Context()
	d := m.OpenDir("b/")
	if _, err := d.Next(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := m.Lookup(ctx, "b/", "f")
	if err != nil || e.Info.Version != old.Version {
		t.Fatalf("lookup = %+v, %v", e, err)
	}
	cur := st.Put("b/f", []byte("new!"))
	if e, _ := m.Lookup(ctx, "b/", "f"); e.Info.Version != old.Version {
		t.Fatalf("before Invalidate the cached listing should answer")
	}
	m.Invalidate("b/", "f")
	e, err = m.Lookup(ctx, "b/", "f")
	if err != nil || e.Info.Version != cur.Version || e.Info.Size != 4 {
		t.Errorf("after Invalidate: %+v, %v; want the new version", e, err)
	}
}

// lookupOnlyStore lists nothing under "ids/" but serves any key there.
type lookupOnlyFake struct{ *memstore.Store }

func (lookupOnlyFake) LookupOnly(prefix string) bool { return prefix == "ids/" }

func (f lookupOnlyFake) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	if req.Prefix == "ids/" {
		return backends.ListPage{}, nil
	}
	return f.Store.List(ctx, req)
}

func TestLookupOnlyDirectoryIsNotAnsweredFromItsListing(t *testing.T) {
	st := memstore.New()
	st.Put("ids/abc", []byte("x"))
	m := NewMeta(lookupOnlyFake{st}, MetaOptions{Remote: "t"})
	ctx := t.Context()
	d := m.OpenDir("ids/")
	if batch, err := d.Next(ctx); len(batch) != 0 || (err != nil && !errors.Is(err, io.EOF)) {
		t.Fatalf("listing of ids/ = %v, %v; want nothing", batch, err)
	}
	for d != nil {
		if _, err := d.Next(ctx); errors.Is(err, io.EOF) {
			break
		}
	}
	e, err := m.Lookup(ctx, "ids/", "abc")
	if err != nil || e.Info.Key != "ids/abc" {
		t.Errorf("Lookup after an empty listing = %+v, %v; want the object", e, err)
	}
}
