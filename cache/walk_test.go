package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends/memstore"
)

// find walks prefix depth first like find(1): read a directory, look up
// every entry, descend into sub-directories in listing order. It returns
// every path seen ("/" ending directories).
func find(t *testing.T, ctx context.Context, m *Meta, prefix string) []string {
	t.Helper()
	var out []string
	for _, e := range readDir(t, ctx, m, prefix) {
		got, err := m.Lookup(ctx, prefix, e.Name)
		got.Stat = e.Stat // a probe (after an aborted walk) may have found it
		if err != nil || got != e {
			t.Fatalf("Lookup(%q, %q) = %+v, %v; want %+v", prefix, e.Name, got, err, e)
		}
		if e.Dir {
			out = append(out, prefix+e.Name+"/")
			out = append(out, find(t, ctx, m, prefix+e.Name+"/")...)
		} else {
			out = append(out, prefix+e.Name)
		}
	}
	return out
}

func fillTree(s *memstore.Store, root string, dirs, perDir int) []string {
	var want []string
	for d := range dirs {
		dir := fmt.Sprintf("%sp%03d/", root, d)
		want = append(want, dir)
		for k := range perDir {
			key := fmt.Sprintf("%sk%03d", dir, k)
			s.Put(key, []byte("x"))
			want = append(want, key)
		}
	}
	return want
}

// TestFindWalkIsFlat: find over 200 prefixes x 100 keys costs about
// 20,000/1,000 list requests and no stats.
func TestFindWalkIsFlat(t *testing.T) {
	s := memstore.New()
	want := fillTree(s, "b/top/", 200, 100)
	m := newTestMeta(t, s, MetaOptions{})
	got := find(t, t.Context(), m, "b/top/")
	if !slices.Equal(got, want) {
		t.Fatalf("find saw %d paths, want %d", len(got), len(want))
	}
	_ = m.Close() // let background pages settle before counting
	lists, stats := requests(s)
	t.Logf("find over 20,000 keys: %d lists, %d stats", lists, stats)
	if lists > 25 || stats != 0 {
		t.Errorf("find: %d lists, %d stats; want <= 25 lists, 0 stats", lists, stats)
	}
}

// TestFindWalkLatency: the same find with 20 ms per request finishes in
// under a second.
func TestFindWalkLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	s := memstore.New()
	want := fillTree(s, "b/top/", 200, 100)
	s.Hook = func(ctx context.Context, op, key string) error {
		tm := time.NewTimer(20 * time.Millisecond)
		defer tm.Stop()
		select {
		case <-tm.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m := newTestMeta(t, s, MetaOptions{})
	start := time.Now()
	got := find(t, t.Context(), m, "b/top/")
	elapsed := time.Since(start)
	if !slices.Equal(got, want) {
		t.Fatalf("find saw %d paths, want %d", len(got), len(want))
	}
	t.Logf("find at 20 ms per request: %v", elapsed)
	limit := time.Second
	if raceEnabled {
		limit = 3 * time.Second
	}
	if elapsed > limit {
		t.Errorf("find took %v, want < %v", elapsed, limit)
	}
}

// TestWalkMatchesPerDirectoryListings builds random trees (deep nesting,
// markers, shadowed objects, invalid names, unicode) and checks that a
// walk shows exactly what per-directory listings show, in the same order.
func TestWalkMatchesPerDirectoryListings(t *testing.T) {
	for seed := range uint64(12) {
		pageLimit := []int{1, 3, 1000}[seed%3]
		t.Run(fmt.Sprintf("seed%d/page%d", seed, pageLimit), func(t *testing.T) {
			s := memstore.New()
			rng := rand.New(rand.NewPCG(seed, 7))
			for _, d := range []string{"b/r/d0/", "b/r/d1/", "b/r/d2/"} {
				s.Put(d+"f", []byte("f"))
				randomTree(s, rng, d, 1)
			}
			randomTree(s, rng, "b/r/", 0)
			walked := newTestMeta(t, s, MetaOptions{})
			walked.pageLimit = pageLimit
			got := find(t, t.Context(), walked, "b/r/")
			want := findNoWalk(t, s, "b/r/", pageLimit)
			if !slices.Equal(got, want) {
				t.Errorf("walk: %d paths, per-directory: %d\nwalk only: %q\nper-dir only: %q",
					len(got), len(want), minus(got, want), minus(want, got))
			}
			walked.mu.Lock()
			nwalked := len(walked.walked) + len(walked.walks)
			walked.mu.Unlock()
			if nwalked == 0 {
				t.Error("no walk happened")
			}
		})
	}
}

// TestWalkCapFallsBack: with a tiny MaxEntries the walk aborts, and the
// results are still complete.
func TestWalkCapFallsBack(t *testing.T) {
	s := memstore.New()
	want := fillTree(s, "b/top/", 30, 150)
	m := newTestMeta(t, s, MetaOptions{MaxEntries: 100})
	if got := find(t, t.Context(), m, "b/top/"); !slices.Equal(got, want) {
		t.Fatalf("find saw %d paths, want %d\nmissing: %q", len(got), len(want), minus(want, got))
	}
}

// TestWalkerJumpingAheadAbortsWalk: a reader far ahead of the walk gets
// a delimiter listing, not a long wait.
func TestWalkerJumpingAheadAbortsWalk(t *testing.T) {
	s := memstore.New()
	fillTree(s, "b/top/", 100, 500)
	m := newTestMeta(t, s, MetaOptions{})
	readDir(t, t.Context(), m, "b/top/")
	readDir(t, t.Context(), m, "b/top/p000/")
	requests(s)
	entries := readDir(t, t.Context(), m, "b/top/p090/") // second child: walk starts at p000
	if len(entries) != 500 {
		t.Fatalf("p090: %d entries", len(entries))
	}
	_ = m.Close()
	if lists, _ := requests(s); lists > walkMaxGap+walkAheadPages+2 {
		t.Errorf("jump ahead cost %d lists", lists)
	}
}

// TestConcurrentWalkers: two finds over one tree at once see everything.
func TestConcurrentWalkers(t *testing.T) {
	s := memstore.New()
	want := fillTree(s, "b/top/", 50, 60)
	m := newTestMeta(t, s, MetaOptions{})
	m.pageLimit = 100
	results := make(chan []string, 3)
	for range 3 {
		go func() {
			results <- findQuiet(t.Context(), m, "b/top/")
		}()
	}
	for range 3 {
		if got := <-results; !slices.Equal(got, want) {
			t.Errorf("concurrent find saw %d paths, want %d", len(got), len(want))
		}
	}
}

// findQuiet is find without a *testing.T, for goroutines; it returns
// what it saw, stopping at the first error.
func findQuiet(ctx context.Context, m *Meta, prefix string) []string {
	var out []string
	d := m.OpenDir(prefix)
	var entries []Entry
	for {
		batch, err := d.Next(ctx)
		entries = append(entries, batch...)
		if err != nil {
			break
		}
	}
	for _, e := range entries {
		if got, err := m.Lookup(ctx, prefix, e.Name); err != nil || got != e {
			return append(out, "lookup failed: "+prefix+e.Name)
		}
		if e.Dir {
			out = append(out, prefix+e.Name+"/")
			out = append(out, findQuiet(ctx, m, prefix+e.Name+"/")...)
		} else {
			out = append(out, prefix+e.Name)
		}
	}
	return out
}

// findNoWalk lists every directory with a fresh Meta: no walk ever starts.
func findNoWalk(t *testing.T, s *memstore.Store, prefix string, pageLimit int) []string {
	t.Helper()
	m := newTestMeta(t, s, MetaOptions{})
	m.pageLimit = pageLimit
	var out []string
	for _, e := range readDir(t, t.Context(), m, prefix) {
		if e.Dir {
			out = append(out, prefix+e.Name+"/")
			out = append(out, findNoWalk(t, s, prefix+e.Name+"/", pageLimit)...)
		} else {
			out = append(out, prefix+e.Name)
		}
	}
	return out
}

func randomTree(s *memstore.Store, rng *rand.Rand, prefix string, depth int) {
	names := []string{"a", "a.txt", "a-b", "b", "c d", "é", "日本", "z", "a~object", "..", ".", "", "x\x00y", strings.Repeat("l", 256)}
	for range 2 + rng.IntN(6) {
		name := names[rng.IntN(len(names))] + fmt.Sprint(rng.IntN(3))
		if rng.IntN(4) == 0 {
			name = names[rng.IntN(len(names))]
		}
		switch r := rng.IntN(10); {
		case r < 5:
			s.Put(prefix+name, []byte(strings.Repeat("d", rng.IntN(3))))
		case r < 6:
			s.Put(prefix+name+"/", nil) // directory marker
		case depth < 4:
			randomTree(s, rng, prefix+name+"/", depth+1)
		}
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
