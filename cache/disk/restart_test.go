package disk

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

func TestRestart(t *testing.T) {
	const n = 1000
	data := pattern(7, 4*n)
	ref := backends.ObjectRef{Key: "k", Version: "v", Size: int64(len(data))}
	one := fileSize(blockKey{remote: "r", key: "k", version: "v", off: 0, n: n}.identity(), n)
	tests := []struct {
		name       string
		mtimeOrder []int64 // blocks from least to most recently used, by mtime
		capBlocks  int64
		wantKept   []int64
	}{
		{"all blocks found again", []int64{0, 1, 2, 3}, 10, []int64{0, 1, 2, 3}},
		{"smaller cap evicts the oldest", []int64{2, 0, 3, 1}, 2, []int64{3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			store := newFakeStore()
			store.put("k", data)
			tier, err := Open(Options{Dir: dir, Cap: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			src := tier.Wrap(store, "r")
			for i := int64(0); i < 4; i++ {
				read(t, src, ref, i*n, n, data)
			}
			if err := tier.Close(); err != nil { // writes what is queued
				t.Fatal(err)
			}
			base := time.Now().Add(-time.Hour)
			for rank, i := range tc.mtimeOrder {
				at := base.Add(time.Duration(rank) * time.Minute)
				if err := os.Chtimes(pathOf(tier, "r", ref, i*n, n), at, at); err != nil {
					t.Fatal(err)
				}
			}

			again := openTier(t, dir, tc.capBlocks*one+one/2) // offsets differ in length
			if s := again.Stats(); s.Files != int64(len(tc.wantKept)) {
				t.Fatalf("after restart: %+v, want %d blocks", s, len(tc.wantKept))
			}
			src = again.Wrap(store, "r")
			before := store.count()
			for _, i := range tc.wantKept {
				read(t, src, ref, i*n, n, data)
			}
			if got := store.count() - before; got != 0 {
				t.Fatalf("re-reading the kept blocks after a restart asked the store %d times", got)
			}
		})
	}
}

func TestOpenCleansTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	tier := openTier(t, dir, 1<<20)
	tier.Close()
	stray := filepath.Join(dir, "v1", "zz", "not-a-block") // not ours: left alone
	for _, p := range []string{filepath.Join(dir, "tmp", "blk-123"), filepath.Join(dir, "tmp", "blk-456"), stray} {
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("half a block"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	again := openTier(t, dir, 1<<20)
	left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if s := again.Stats(); len(left) != 0 || s.RemovedAtOpen != 2 || s.Files != 0 {
		t.Fatalf("tmp holds %d files after Open, stats %+v; want it empty, 2 removed, no blocks", len(left), s)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatalf("a file that is not a block was touched: %v", err)
	}
}

func TestSecondProcessIsLockedOut(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(Options{Dir: dir, Cap: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open files, so a second Open in this process
	// conflicts as a second process would.
	if _, err := Open(Options{Dir: dir, Cap: 1 << 20}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	first.Close()
	second, err := Open(Options{Dir: dir, Cap: 1 << 20})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	second.Close()
}

func TestFullQueueDropsWrites(t *testing.T) {
	store := newFakeStore()
	data := pattern(4, 3000)
	store.put("k", data)
	tier, err := Open(Options{Dir: t.TempDir(), Cap: 1 << 20, QueueBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer tier.Close()
	src := tier.Wrap(store, "r")
	ref := backends.ObjectRef{Key: "k", Version: "v", Size: 3000}
	read(t, src, ref, 0, 2000, data) // larger than the queue: dropped, still read
	read(t, src, ref, 2000, 1000, data)
	flush(t, tier)
	if s := tier.Stats(); s.Dropped != 1 || s.Writes != 1 {
		t.Fatalf("stats %+v, want 1 dropped and 1 written", s)
	}
}

func TestConcurrentUse(t *testing.T) {
	const n, blocks = 512, 64
	store := newFakeStore()
	data := pattern(6, n*blocks)
	store.put("k", data)
	one := fileSize(blockKey{remote: "r", key: "k", version: "v", off: 0, n: n}.identity(), n)
	tier := openTier(t, t.TempDir(), 16*one) // a quarter of the blocks: evictions race reads
	src := tier.Wrap(store, "r")
	ref := backends.ObjectRef{Key: "k", Version: "v", Size: int64(len(data))}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, n)
			for i := 0; i < 400; i++ {
				b := int64((i*7 + g*13) % blocks)
				if _, err := src.ReadAt(t.Context(), ref, p, b*n); err != nil {
					errs <- err
					return
				}
				if string(p) != string(data[b*n:(b+1)*n]) {
					errs <- errors.New("wrong bytes")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	flush(t, tier)
	if s := tier.Stats(); s.Bytes > 16*one || s.Hits == 0 {
		t.Fatalf("stats %+v: want some hits and at most %d bytes", s, 16*one)
	}
}
