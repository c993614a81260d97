package disk

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// fakeStore serves objects from memory and counts reads.
type fakeStore struct {
	mu    sync.Mutex
	objs  map[string][]byte
	reads int
	short bool // answer every read one byte short, with io.EOF
}

func newFakeStore() *fakeStore { return &fakeStore{objs: map[string][]byte{}} }

func (f *fakeStore) put(key string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[key] = data
}

func (f *fakeStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeStore) ReadAt(ctx context.Context, ref backends.ObjectRef, p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	data, ok := f.objs[ref.Key]
	if !ok {
		return 0, backends.ErrNotExist
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if f.short && n > 0 {
		n--
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// pattern returns n bytes that differ with seed.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>8)
	}
	return b
}

// openTier opens a Tier on dir and closes it at the end of the test.
func openTier(t *testing.T, dir string, capBytes int64) *Tier {
	t.Helper()
	tier, err := Open(Options{Dir: dir, Cap: capBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tier.Close() })
	return tier
}

// read reads n bytes at off of ref through src and checks them against want.
func read(t *testing.T, src Source, ref backends.ObjectRef, off int64, n int, want []byte) {
	t.Helper()
	p := make([]byte, n)
	got, err := src.ReadAt(t.Context(), ref, p, off)
	if got != n || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt(%s@%d, %d bytes) = %d, %v", ref.Key, off, n, got, err)
	}
	if !bytes.Equal(p, want[off:off+int64(n)]) {
		t.Fatalf("ReadAt(%s@%d, %d bytes): wrong bytes", ref.Key, off, n)
	}
}

// flush waits for the writer.
func flush(t *testing.T, tier *Tier) {
	t.Helper()
	if err := tier.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// pathOf returns the file of the block read by ReadAt(remote, ref, off, n).
func pathOf(tier *Tier, remote string, ref backends.ObjectRef, off int64, n int) string {
	k := blockKey{remote: remote, key: ref.Key, version: ref.Version, off: off, n: n}
	return blockPath(filepath.Join(tier.opts.Dir, "v1"), k.name())
}
