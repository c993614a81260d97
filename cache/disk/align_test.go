package disk

import (
	"os"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// TestSmallerReadsInsideAlignedBlock: a reader that fetches in pieces
// smaller than the chunk size (a random reader, NetCDF blocks) is answered
// from the chunk-aligned block a sequential read stored, every byte right;
// a corrupt outer block is deleted and the piece read from the store.
func TestSmallerReadsInsideAlignedBlock(t *testing.T) {
	const align = 8192
	data := pattern(3, 20000) // chunks [0,8192) [8192,16384) [16384,20000)
	ref := backends.ObjectRef{Key: "b/x", Version: "v1", Size: int64(len(data))}
	tests := []struct {
		name      string
		off       int64
		n         int
		wantReads int // store reads for the piece
	}{
		{"piece at the start of a chunk", 8192, 1024, 0},
		{"piece in the middle of a chunk", 9000, 3000, 0},
		{"piece ending the last, short chunk", 19000, 1000, 0},
		{"piece across two chunks", 8000, 1000, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.put(ref.Key, data)
			tier, src := openAligned(t, store, align)
			for off := int64(0); off < ref.Size; off += align {
				read(t, src, ref, off, int(min(align, ref.Size-off)), data)
			}
			flush(t, tier)
			before := store.count()
			read(t, src, ref, tc.off, tc.n, data)
			if got := store.count() - before; got != tc.wantReads {
				t.Fatalf("the piece asked the store %d times, want %d", got, tc.wantReads)
			}
		})
	}

	t.Run("corrupt outer block", func(t *testing.T) {
		store := newFakeStore()
		store.put(ref.Key, data)
		tier, src := openAligned(t, store, align)
		read(t, src, ref, align, align, data)
		flush(t, tier)
		path := pathOf(tier, "r", ref, align, align)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-1] ^= 0xff // outside the piece read below: the whole block is checked
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		before := store.count()
		read(t, src, ref, align+100, 500, data)
		if got := store.count() - before; got != 1 {
			t.Fatalf("the piece asked the store %d times, want 1 (the corrupt block refused)", got)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("corrupt block still on disk: %v", err)
		}
		if s := tier.Stats(); s.Corrupt != 1 {
			t.Fatalf("Corrupt = %d, want 1", s.Corrupt)
		}
	})
}

// openAligned opens a tier aligned to align in a fresh directory and wraps
// store as remote "r".
func openAligned(t *testing.T, store Source, align int64) (*Tier, Source) {
	t.Helper()
	tier, err := Open(Options{Dir: t.TempDir(), Cap: 1 << 20, Align: align})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tier.Close() })
	return tier, tier.Wrap(store, "r")
}
