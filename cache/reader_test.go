package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{Budget: 64 << 20}, true},
		{"no budget", Options{}, false},
		{"budget below one chunk", Options{Budget: DefaultChunkSize}, false},
		{"exactly one chunk", Options{Budget: cost(DefaultChunkSize)}, true},
		{"negative chunk", Options{Budget: 1 << 20, ChunkSize: -1}, false},
		{"negative inflight", Options{Budget: 64 << 20, MaxInflight: -1}, false},
		{"negative timeout", Options{Budget: 64 << 20, FetchTimeout: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%+v) error = %v, want ok=%v", tt.opts, err, tt.ok)
			}
			if c != nil {
				_ = c.Close()
			}
		})
	}
}

// TestReadAtBytes compares every read with the source data, around chunk
// boundaries and the end, with a budget small enough to evict.
func TestReadAtBytes(t *testing.T) {
	const cs = 64
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(3, cs), ChunkSize: cs})
	sizes := []int{0, 1, cs - 1, cs, cs + 1, 2 * cs, 3*cs + 7, 10 * cs}
	for _, size := range sizes {
		data, info := src.put(t, fmt.Sprintf("obj%d", size), size, uint64(size))
		t.Run(fmt.Sprint("size", size), func(t *testing.T) {
			r := c.Open(src, "mem", info)
			defer r.Close()
			offs := []int{0, 1, cs - 1, cs, cs + 1, 2*cs - 1, size - 1, size, size + 1, size + cs}
			lens := []int{0, 1, 2, cs - 1, cs, cs + 1, 2*cs + 3, size, size + 5}
			for _, off := range offs {
				for _, n := range lens {
					if off < 0 || n < 0 {
						continue
					}
					p := make([]byte, n)
					got, err := r.ReadAt(t.Context(), p, int64(off))
					want := 0
					if off < size {
						want = min(n, size-off)
					}
					if got != want {
						t.Fatalf("ReadAt(len %d, off %d) = %d, want %d (err %v)", n, off, got, want, err)
					}
					if !bytes.Equal(p[:got], data[min(off, size):min(off, size)+got]) {
						t.Fatalf("ReadAt(len %d, off %d): wrong bytes", n, off)
					}
					switch {
					case got < n && !errors.Is(err, io.EOF):
						t.Fatalf("ReadAt(len %d, off %d) short without EOF: %v", n, off, err)
					case got == n && err != nil && !(errors.Is(err, io.EOF) && off+n >= size):
						t.Fatalf("ReadAt(len %d, off %d) full with error %v", n, off, err)
					}
				}
			}
		})
	}
	if s := c.Stats(); s.PeakBytes > chunks(3, cs) {
		t.Errorf("PeakBytes %d over budget %d", s.PeakBytes, chunks(3, cs))
	}
}

func TestReadAtNegativeOffset(t *testing.T) {
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(2, 16), ChunkSize: 16})
	_, info := src.put(t, "k", 10, 1)
	r := c.Open(src, "mem", info)
	defer r.Close()
	if _, err := r.ReadAt(t.Context(), make([]byte, 1), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestSmallObjectFetchedWhole(t *testing.T) {
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(4, 1024), ChunkSize: 1024})
	data, info := src.put(t, "small", 1000, 2)
	r := c.Open(src, "mem", info)
	defer r.Close()
	got, err := readAll(t.Context(), r, info.Size, 100)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readAll: %v, equal=%v", err, bytes.Equal(got, data))
	}
	if n := src.readCount(); n != 1 {
		t.Errorf("store reads = %d, want 1 (object fetched whole)", n)
	}
	// A second open of the same version hits the cache.
	r2 := c.Open(src, "mem", info)
	defer r2.Close()
	if _, err := readAll(t.Context(), r2, info.Size, 1000); err != nil {
		t.Fatal(err)
	}
	if n := src.readCount(); n != 1 {
		t.Errorf("store reads after reopen = %d, want 1", n)
	}
}

func TestStaleNeverServed(t *testing.T) {
	const cs = 32
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(8, cs), ChunkSize: cs})
	old, info1 := src.put(t, "k", 3*cs, 1)
	r1 := c.Open(src, "mem", info1)
	defer r1.Close()
	p := make([]byte, cs)
	if _, err := r1.ReadAt(t.Context(), p, 0); err != nil || !bytes.Equal(p, old[:cs]) {
		t.Fatalf("first read: %v", err)
	}
	// Wait for read-ahead of chunk 1 (of the old version) to settle.
	waitFor(t, "read-ahead to finish", func() bool { return c.Stats().BytesInFlight == 0 })
	cachedBefore := c.Stats().BytesCached

	fresh, info2 := src.put(t, "k", 3*cs, 2)
	if _, err := r1.ReadAt(t.Context(), p, 2*cs); !errors.Is(err, backends.ErrStale) {
		t.Fatalf("read after overwrite: err = %v, want ErrStale", err)
	}
	// Sticky: even the cached chunk is refused now.
	if _, err := r1.ReadAt(t.Context(), p, 0); !errors.Is(err, backends.ErrStale) {
		t.Fatalf("read of cached chunk after stale: err = %v, want ErrStale", err)
	}
	if s := c.Stats(); s.BytesCached != cachedBefore || s.StaleReads == 0 {
		t.Errorf("stale chunk cached? BytesCached %d -> %d, StaleReads %d", cachedBefore, s.BytesCached, s.StaleReads)
	}
	// A new open of the new version never sees old bytes.
	r2 := c.Open(src, "mem", info2)
	defer r2.Close()
	got, err := readAll(t.Context(), r2, info2.Size, 7)
	if err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("new version: err %v, equal %v", err, bytes.Equal(got, fresh))
	}
}

func TestShortReadIsAnError(t *testing.T) {
	const cs = 32
	src := newTestSource()
	src.fault = func(ref backends.ObjectRef, off int64, n int, err error) (int, error) {
		if off == cs {
			return n / 2, io.EOF
		}
		return n, err
	}
	c := newTestCache(t, Options{Budget: chunks(8, cs), ChunkSize: cs})
	_, info := src.put(t, "k", 3*cs, 1)
	r := c.Open(src, "mem", info)
	defer r.Close()
	p := make([]byte, 2*cs)
	n, err := r.ReadAt(t.Context(), p, 0)
	if !errors.Is(err, backends.ErrUnavailable) || n != cs {
		t.Fatalf("ReadAt = %d, %v; want %d, ErrUnavailable", n, err, cs)
	}
}

func TestErrorKindsPassThrough(t *testing.T) {
	kinds := []error{backends.ErrPermission, backends.ErrNotExist, backends.ErrThrottled, backends.ErrUnauthenticated}
	for _, kind := range kinds {
		t.Run(kind.Error(), func(t *testing.T) {
			src := newTestSource()
			fail := true
			src.fault = func(ref backends.ObjectRef, off int64, n int, err error) (int, error) {
				if fail {
					return 0, &backends.Error{Op: "read", Remote: "mem", Key: ref.Key, Err: kind}
				}
				return n, err
			}
			c := newTestCache(t, Options{Budget: chunks(4, 16), ChunkSize: 16})
			data, info := src.put(t, "k", 10, 1)
			r := c.Open(src, "mem", info)
			defer r.Close()
			p := make([]byte, 10)
			if _, err := r.ReadAt(t.Context(), p, 0); !errors.Is(err, kind) {
				t.Fatalf("err = %v, want %v", err, kind)
			}
			// Errors are not cached: the next read asks again.
			fail = false
			if n, err := r.ReadAt(t.Context(), p, 0); n != 10 || !bytes.Equal(p, data) {
				t.Fatalf("retry = %d, %v", n, err)
			}
		})
	}
}

func TestUnversionedNotShared(t *testing.T) {
	const cs = 16
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(8, cs), ChunkSize: cs})
	data, info := src.put(t, "k", cs, 1)
	info.Version = ""
	r1 := c.Open(src, "mem", info)
	p := make([]byte, cs)
	for range 2 {
		if _, err := r1.ReadAt(t.Context(), p, 0); err != nil || !bytes.Equal(p, data) {
			t.Fatal(err)
		}
	}
	if n := src.readCount(); n != 1 {
		t.Fatalf("reads within one Reader = %d, want 1", n)
	}
	r2 := c.Open(src, "mem", info)
	if _, err := r2.ReadAt(t.Context(), p, 0); err != nil {
		t.Fatal(err)
	}
	if n := src.readCount(); n != 2 {
		t.Fatalf("reads by a second Reader = %d, want 2 (not shared)", n)
	}
	r1.Close()
	r2.Close()
	if s := c.Stats(); s.BytesCached != 0 {
		t.Errorf("BytesCached after Close = %d, want 0", s.BytesCached)
	}
}

func TestReadAfterClose(t *testing.T) {
	src := newTestSource()
	c := newTestCache(t, Options{Budget: chunks(2, 16), ChunkSize: 16})
	_, info := src.put(t, "k", 10, 1)
	r := c.Open(src, "mem", info)
	r.Close()
	if _, err := r.ReadAt(t.Context(), make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("err = %v, want fs.ErrClosed", err)
	}
	r2 := c.Open(src, "mem", info)
	_ = c.Close()
	if _, err := r2.ReadAt(t.Context(), make([]byte, 1), 0); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("after Cache.Close err = %v, want ErrUnavailable", err)
	}
}
