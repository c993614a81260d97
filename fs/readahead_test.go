package fs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cache"
)

// TestTreeReadAheadThroughMount: a program reading a directory's files in
// listing order through the mount (as cp -r does) gets them fetched
// ahead, each exactly once: the fetch ahead is keyed by the version the
// listing reported, which the open then pins.
func TestTreeReadAheadThroughMount(t *testing.T) {
	requireFUSE(t)
	const n, latency = 40, 10 * time.Millisecond
	st := memstore.New()
	want := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("b/d/f%03d", i)
		want[key] = bytes.Repeat([]byte{byte(i)}, 1000+i*37)
		st.Put(key, want[key])
	}
	st.Hook = func(ctx context.Context, op, key string) error {
		if op == "read" {
			select {
			case <-time.After(latency):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	c, err := cache.New(cache.Options{Budget: 64 << 20, ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	srv, err := Mount(dir, Options{
		Remotes: []Remote{{Name: "mem", Meta: cache.NewMeta(st, cache.MetaOptions{Remote: "mem"}), Source: st}},
		Single:  true, Cache: c, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	ents, err := os.ReadDir(filepath.Join(dir, "b/d"))
	if err != nil || len(ents) != n {
		t.Fatalf("readdir: %d entries, %v", len(ents), err)
	}
	st.ResetCounts()
	start := time.Now()
	for _, e := range ents {
		got, err := os.ReadFile(filepath.Join(dir, "b/d", e.Name()))
		if err != nil || !bytes.Equal(got, want["b/d/"+e.Name()]) {
			t.Fatalf("read %s: %v", e.Name(), err)
		}
	}
	elapsed := time.Since(start)
	if got := st.Counts()["read"]; got != n {
		t.Errorf("%d store reads for %d files; want one each", got, n)
	}
	if serial := n * latency; elapsed > serial/2 {
		t.Errorf("reading took %v; one round trip per file is %v", elapsed, serial)
	}
}
