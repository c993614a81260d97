package s3

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

func TestReadAtMisbehavingServer(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	cases := []struct {
		name     string
		setup    func(f *fakeS3)
		version  string // "" unpinned, "etag" the real one, else as given
		off      int64
		len      int
		wantN    int
		wantErr  error // nil, io.EOF or a kind
		attempts int   // MaxAttempts
	}{
		{"range ignored, start", func(f *fakeS3) { f.ignoreRange = true }, "etag", 0, 100, 100, nil, 1},
		{"range ignored, middle", func(f *fakeS3) { f.ignoreRange = true }, "etag", 5000, 100, 100, nil, 1},
		{"range ignored, past end", func(f *fakeS3) { f.ignoreRange = true }, "", int64(len(data)) + 5, 100, 0, io.EOF, 1},
		{"range ignored, across end", func(f *fakeS3) { f.ignoreRange = true }, "", int64(len(data)) - 5, 100, 5, io.EOF, 1},
		{"short body read on", func(f *fakeS3) { f.shortBodies = 2 }, "", 0, len(data), len(data), nil, 3},
		{"short body every time", func(f *fakeS3) { f.shortBodies = 100 }, "etag", 0, len(data), -1, backends.ErrUnavailable, 2},
		{"If-Match ignored", func(f *fakeS3) { f.ignoreIfMatch = true }, wrongETag, 0, 100, 0, backends.ErrStale, 1},
		{"wrong range start", func(f *fakeS3) { f.shiftRange = 10 }, "etag", 0, 100, 0, backends.ErrUnavailable, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isolateAWS(t)
			f := newFakeS3(t, "b")
			f.put("b", "k", data)
			c.setup(f)
			st := newTestStore(t, f, func(cfg *Config) { cfg.MaxAttempts = c.attempts })
			ref := backends.ObjectRef{Key: "b/k", Version: c.version, Size: -1}
			if c.version == "etag" {
				ref.Version = f.buckets["b"]["k"].etag
			}
			p := make([]byte, c.len)
			n, err := st.ReadAt(t.Context(), ref, p, c.off)
			if c.wantN >= 0 && n != c.wantN {
				t.Errorf("ReadAt = %d bytes, want %d (err %v)", n, c.wantN, err)
			}
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("ReadAt error %v, want %v", err, c.wantErr)
			}
			if n > 0 && !bytes.Equal(p[:n], data[c.off:c.off+int64(n)]) {
				t.Error("ReadAt returned wrong bytes")
			}
		})
	}
}

const wrongETag = "0123456789abcdef0123456789abcdef"

// TestShortBodyPinsVersion checks that reading on after a broken body asks
// for the rest of the same version, even when the caller pinned none.
func TestShortBodyPinsVersion(t *testing.T) {
	isolateAWS(t)
	f := newFakeS3(t, "b")
	data := bytes.Repeat([]byte("x"), 1000)
	f.put("b", "k", data)
	f.shortBodies = 1
	st := newTestStore(t, f, func(cfg *Config) { cfg.MaxAttempts = 2 })
	if n, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "b/k", Size: 1000}, make([]byte, 1000), 0); n != 1000 || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	reqs := f.recorded()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if got, want := reqs[1].Header.Get("Range"), "bytes=500-999"; got != want {
		t.Errorf("second Range = %q, want %q", got, want)
	}
	if got, want := reqs[1].Header.Get("If-Match"), `"`+f.buckets["b"]["k"].etag+`"`; got != want {
		t.Errorf("second If-Match = %q, want %q", got, want)
	}
}
