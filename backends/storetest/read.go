package storetest

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// wrongVersion is a version no fixture object has (an MD5-shaped ETag, so
// servers that parse If-Match accept it).
const wrongVersion = "0123456789abcdef0123456789abcdef"

// testStat checks Stat on files, the marker, a prefix and missing keys.
func (s *suite) testStat(t *testing.T) {
	r := s.f.Root
	cases := []struct {
		name  string
		key   string
		found bool
	}{
		{"file", r + keySmall, true},
		{"empty file", r + keyEmpty, true},
		{"big", r + keyBig, true},
		{"unicode", r + keyUnicode, true},
		{"marker", r + keyMarker, true},
		{"key also prefix", r + keyBoth, !s.f.Capabilities.NoKeyAlsoPrefix},
		{"prefix without slash", r + "dir/sub", false},
		{"prefix with slash", r + "dir/sub/", false},
		{"missing", r + "no-such-file.txt", false},
		{"missing in missing dir", r + "no/such/file", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := s.st.Stat(t.Context(), c.key)
			if !c.found {
				wantErr(t, fmt.Sprintf("Stat(%q)", c.key), err, backends.ErrNotExist)
				return
			}
			if err != nil {
				t.Fatalf("Stat(%q): %v", c.key, err)
			}
			if info.Key != c.key || info.Size != int64(len(s.data[c.key])) {
				t.Errorf("Stat(%q) = key %q size %d, want size %d", c.key, info.Key, info.Size, len(s.data[c.key]))
			}
		})
	}
}

// testListMatchesStat checks that a listing and Stat agree on size and
// version, so that fs may take attributes from listings.
func (s *suite) testListMatchesStat(t *testing.T) {
	l, err := s.listAll(t, backends.ListRequest{Prefix: s.f.Root, Delimiter: "/"})
	if err != nil {
		t.Fatalf("List(%q): %v", s.f.Root, err)
	}
	for _, o := range l.objects {
		info, err := s.st.Stat(t.Context(), o.Key)
		switch {
		case err != nil:
			t.Errorf("Stat(%q) of a listed object: %v", o.Key, err)
		case info.Size != o.Size || (info.Version != "" && o.Version != "" && info.Version != o.Version):
			t.Errorf("%q: listed size %d version %q, Stat size %d version %q", o.Key, o.Size, o.Version, info.Size, info.Version)
		}
	}
}

// testReadAt checks io.ReaderAt semantics at the start, middle and end of
// objects, pinned and unpinned, with the size known and unknown.
func (s *suite) testReadAt(t *testing.T) {
	big, small, empty := s.stat(t, keyBig), s.stat(t, keySmall), s.stat(t, keyEmpty)
	n := big.Size
	cases := []struct {
		name    string
		obj     backends.ObjectInfo
		off     int64
		len     int
		wantN   int
		wantEOF bool // io.EOF required; otherwise nil required unless n == len reaches the end
	}{
		{"start", big, 0, 100, 100, false},
		{"middle", big, n/2 + 7, 1000, 1000, false},
		{"to end exactly", big, n - 100, 100, 100, false},
		{"crossing end", big, n - 10, 100, 10, true},
		{"at end", big, n, 10, 0, true},
		{"after end", big, n + 100, 10, 0, true},
		{"whole", big, 0, int(n), int(n), false},
		{"whole and more", big, 0, int(n) + 1, int(n), true},
		{"small whole and more", small, 0, 4096, int(small.Size), true},
		{"empty object", empty, 0, 10, 0, true},
	}
	refs := []struct {
		name string
		ref  func(backends.ObjectInfo) backends.ObjectRef
	}{
		{"pinned", backends.ObjectInfo.Ref},
		{"size unknown", func(o backends.ObjectInfo) backends.ObjectRef { r := o.Ref(); r.Size = -1; return r }},
		{"unpinned", func(o backends.ObjectInfo) backends.ObjectRef { return backends.ObjectRef{Key: o.Key, Size: -1} }},
	}
	for _, r := range refs {
		for _, c := range cases {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				p := make([]byte, c.len)
				got, err := s.st.ReadAt(t.Context(), r.ref(c.obj), p, c.off)
				atEnd := c.off+int64(c.len) >= c.obj.Size
				switch {
				case got != c.wantN:
					t.Errorf("ReadAt(%q, len %d, off %d) = %d bytes, want %d (err %v)", c.obj.Key, c.len, c.off, got, c.wantN, err)
				case c.wantEOF && err != io.EOF:
					t.Errorf("ReadAt(%q, len %d, off %d): err %v, want io.EOF", c.obj.Key, c.len, c.off, err)
				case !c.wantEOF && err != nil && !(atEnd && err == io.EOF):
					t.Errorf("ReadAt(%q, len %d, off %d): %v", c.obj.Key, c.len, c.off, err)
				}
				if want := s.data[c.obj.Key]; got > 0 && c.off < int64(len(want)) && !bytes.Equal(p[:got], want[c.off:c.off+int64(got)]) {
					t.Errorf("ReadAt(%q, len %d, off %d) returned wrong bytes", c.obj.Key, c.len, c.off)
				}
			})
		}
	}
	t.Run("negative offset", func(t *testing.T) {
		if _, err := s.st.ReadAt(t.Context(), big.Ref(), make([]byte, 10), -1); err == nil {
			t.Error("ReadAt at offset -1 succeeded")
		}
	})
	t.Run("missing", func(t *testing.T) {
		ref := backends.ObjectRef{Key: s.f.Root + "no-such-file.txt", Size: -1}
		got, err := s.st.ReadAt(t.Context(), ref, make([]byte, 10), 0)
		if got != 0 {
			t.Errorf("ReadAt of a missing key returned %d bytes", got)
		}
		wantErr(t, "ReadAt of a missing key", err, backends.ErrNotExist)
	})
}

// testReadAtWrongVersion pins a version the object never had.
func (s *suite) testReadAtWrongVersion(t *testing.T) {
	for _, key := range []string{keySmall, keyBig} {
		info := s.stat(t, key)
		if info.Version == "" {
			t.Skipf("the store reports no Version for %q", info.Key)
		}
		for _, size := range []int64{info.Size, -1} {
			ref := backends.ObjectRef{Key: info.Key, Version: wrongVersion, Size: size}
			got, err := s.st.ReadAt(t.Context(), ref, make([]byte, 100), 0)
			if got != 0 {
				t.Errorf("ReadAt(%q) with a wrong version returned %d bytes", info.Key, got)
			}
			wantErr(t, fmt.Sprintf("ReadAt(%q, size %d) with a wrong version", info.Key, size), err, backends.ErrStale)
		}
	}
}

// testConcurrentReadAt reads 16 ranges of the big object at once.
func (s *suite) testConcurrentReadAt(t *testing.T) {
	info := s.stat(t, keyBig)
	want := s.data[info.Key]
	const readers, span = 16, 200 << 10
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			off := int64(i) * (int64(len(want)) - span) / (readers - 1)
			p := make([]byte, span)
			n, err := s.st.ReadAt(t.Context(), info.Ref(), p, off)
			if err != nil && !(err == io.EOF && off+span >= int64(len(want))) {
				t.Errorf("reader %d: ReadAt(off %d): %v", i, off, err)
			}
			if n != span || !bytes.Equal(p[:n], want[off:off+int64(n)]) {
				t.Errorf("reader %d: ReadAt(off %d) = %d bytes, want %d correct ones", i, off, n, span)
			}
		})
	}
	wg.Wait()
}

// stat returns the ObjectInfo of a fixture key, failing the test if
// there is none.
func (s *suite) stat(t *testing.T, rel string) backends.ObjectInfo {
	t.Helper()
	info, err := s.st.Stat(t.Context(), s.f.Root+rel)
	if err != nil {
		t.Fatalf("Stat(%q): %v", s.f.Root+rel, err)
	}
	return info
}
