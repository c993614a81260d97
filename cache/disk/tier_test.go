package disk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

func TestReadThrough(t *testing.T) {
	data := pattern(1, 10000)
	tests := []struct {
		name        string
		ref         backends.ObjectRef
		off         int64
		n           int
		short       bool
		wantOnDisk  bool
		secondReads int // store reads by the second identical read
	}{
		{name: "versioned block", ref: backends.ObjectRef{Key: "b/x", Version: "v1", Size: 10000}, off: 4096, n: 4096, wantOnDisk: true, secondReads: 0},
		{name: "last block of the object", ref: backends.ObjectRef{Key: "b/x", Version: "v1", Size: 10000}, off: 8192, n: 1808, wantOnDisk: true, secondReads: 0},
		{name: "unversioned object bypasses", ref: backends.ObjectRef{Key: "b/x", Version: "", Size: 10000}, off: 0, n: 4096, secondReads: 1},
		{name: "unknown size bypasses", ref: backends.ObjectRef{Key: "b/x", Version: "v1", Size: -1}, off: 0, n: 4096, secondReads: 1},
		{name: "short answer is not kept", ref: backends.ObjectRef{Key: "b/x", Version: "v1", Size: 10000}, off: 0, n: 4096, short: true, secondReads: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.put("b/x", data)
			store.short = tc.short
			tier := openTier(t, t.TempDir(), 1<<20)
			src := tier.Wrap(store, "r")
			p := make([]byte, tc.n)
			src.ReadAt(t.Context(), tc.ref, p, tc.off)
			flush(t, tier)
			store.short = false
			_, err := os.Stat(pathOf(tier, "r", tc.ref, tc.off, tc.n))
			if onDisk := err == nil; onDisk != tc.wantOnDisk {
				t.Fatalf("block on disk = %v, want %v (%v)", onDisk, tc.wantOnDisk, err)
			}
			before := store.count()
			read(t, src, tc.ref, tc.off, tc.n, data)
			if got := store.count() - before; got != tc.secondReads {
				t.Fatalf("second read asked the store %d times, want %d", got, tc.secondReads)
			}
		})
	}
}

func TestIdentityKeepsBlocksApart(t *testing.T) {
	store := newFakeStore()
	old, cur := pattern(1, 4096), pattern(2, 4096)
	tier := openTier(t, t.TempDir(), 1<<20)
	a, b := tier.Wrap(store, "a"), tier.Wrap(store, "b")
	refOld := backends.ObjectRef{Key: "k", Version: "1", Size: 4096}
	refCur := backends.ObjectRef{Key: "k", Version: "2", Size: 4096}
	store.put("k", old)
	read(t, a, refOld, 0, 4096, old)
	flush(t, tier)
	store.put("k", cur) // overwritten: a new version
	tests := []struct {
		name string
		src  Source
		ref  backends.ObjectRef
		want []byte
	}{
		{"new version is not served the old bytes", a, refCur, cur},
		{"another remote is not served this one's bytes", b, refOld, cur},
		{"the old version still reads from disk", a, refOld, old},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { read(t, tc.src, tc.ref, 0, 4096, tc.want) })
	}
}

func TestCorruptBlockIsDeletedAndRefetched(t *testing.T) {
	data := pattern(3, 8192)
	ref := backends.ObjectRef{Key: "b/obj", Version: "e1", Size: 8192}
	other := backends.ObjectRef{Key: "b/obj", Version: "e1", Size: 8192}
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path, otherPath string)
	}{
		{"flipped payload byte", func(t *testing.T, path, _ string) {
			b, _ := os.ReadFile(path)
			b[len(b)-100] ^= 0x40
			os.WriteFile(path, b, 0o600)
		}},
		{"truncated", func(t *testing.T, path, _ string) { os.Truncate(path, 200) }},
		{"empty", func(t *testing.T, path, _ string) { os.Truncate(path, 0) }},
		{"trailing garbage", func(t *testing.T, path, _ string) {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte("x"))
			f.Close()
		}},
		{"bad magic", func(t *testing.T, path, _ string) {
			f, _ := os.OpenFile(path, os.O_WRONLY, 0)
			f.WriteAt([]byte("XX"), 0)
			f.Close()
		}},
		{"another block's file", func(t *testing.T, path, otherPath string) {
			b, _ := os.ReadFile(otherPath)
			os.WriteFile(path, b, 0o600)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.put("b/obj", data)
			tier := openTier(t, t.TempDir(), 1<<20)
			src := tier.Wrap(store, "r")
			read(t, src, ref, 0, 4096, data)
			read(t, src, other, 4096, 4096, data)
			flush(t, tier)
			path, otherPath := pathOf(tier, "r", ref, 0, 4096), pathOf(tier, "r", other, 4096, 4096)
			tc.corrupt(t, path, otherPath)

			p := make([]byte, 4096)
			if tier.get(blockKey{remote: "r", key: ref.Key, version: ref.Version, off: 0, n: 4096}, p) {
				t.Fatal("a corrupt block was served")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("corrupt block file still there: %v", err)
			}
			if s := tier.Stats(); s.Corrupt != 1 || s.Files != 1 {
				t.Fatalf("stats %+v, want 1 corrupt and 1 file left", s)
			}
			before := store.count()
			read(t, src, ref, 0, 4096, data)
			if store.count() != before+1 {
				t.Fatal("the read after a corrupt block did not go to the store")
			}
			flush(t, tier)
			read(t, src, ref, 0, 4096, data) // rewritten and served from disk
			if store.count() != before+1 {
				t.Fatal("the rewritten block was not served from disk")
			}
		})
	}
}

func TestEvictionOrderAndCap(t *testing.T) {
	const n = 1000
	data := pattern(5, 8*n)
	ref := backends.ObjectRef{Key: "k", Version: "v", Size: int64(len(data))}
	one := fileSize(blockKey{remote: "r", key: "k", version: "v", off: 0, n: n}.identity(), n)
	tests := []struct {
		name     string
		reads    []int64 // block indexes read, in order
		wantKept []int64
	}{
		{"oldest out first", []int64{0, 1, 2, 3}, []int64{1, 2, 3}},
		{"a hit protects a block", []int64{0, 1, 2, 0, 3}, []int64{0, 2, 3}},
		{"two hits", []int64{0, 1, 2, 1, 0, 3, 4}, []int64{0, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.put("k", data)
			tier := openTier(t, t.TempDir(), 3*one+one/2) // room for three blocks
			src := tier.Wrap(store, "r")
			for _, i := range tc.reads {
				read(t, src, ref, i*n, n, data)
				flush(t, tier)
			}
			kept := map[int64]bool{}
			for i := int64(0); i < 8; i++ {
				if _, err := os.Stat(pathOf(tier, "r", ref, i*n, n)); err == nil {
					kept[i] = true
				}
			}
			for _, i := range tc.wantKept {
				if !kept[i] {
					t.Errorf("block %d evicted, want kept (kept %v)", i, kept)
				}
			}
			s := tier.Stats()
			if len(kept) != len(tc.wantKept) || s.Files != int64(len(tc.wantKept)) || s.Bytes > tier.opts.Cap {
				t.Fatalf("kept %v, stats %+v; want %v within cap %d", kept, s, tc.wantKept, tier.opts.Cap)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blocks")
	tier := openTier(t, dir, 1<<20)
	store := newFakeStore()
	data := pattern(9, 100)
	store.put("k", data)
	ref := backends.ObjectRef{Key: "k", Version: "v", Size: 100}
	read(t, tier.Wrap(store, "r"), ref, 0, 100, data)
	flush(t, tier)
	block := pathOf(tier, "r", ref, 0, 100)
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {filepath.Dir(block), 0o700}, {block, 0o600}, {filepath.Join(dir, "LOCK"), 0o600}} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode().Perm(), tc.want)
		}
	}
}
