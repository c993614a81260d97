package storetest

import (
	"bytes"
	"io"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// testUnknownBucket lists and reads below a bucket that does not exist.
func (s *suite) testUnknownBucket(t *testing.T) {
	const bucket = "earthmount-storetest-no-such-bucket"
	if !s.f.Capabilities.Buckets {
		page, err := s.st.List(t.Context(), backends.ListRequest{Prefix: bucket + "/", Delimiter: "/"})
		if err != nil || len(page.Objects)+len(page.Prefixes) != 0 {
			t.Errorf("List of an unknown top-level prefix = %+v, %v; want an empty page", page, err)
		}
		return
	}
	for _, delim := range []string{"/", ""} {
		_, err := s.st.List(t.Context(), backends.ListRequest{Prefix: bucket + "/", Delimiter: delim})
		wantErr(t, "List of an unknown bucket (delimiter "+delim+")", err, backends.ErrNotExist)
	}
	_, err := s.st.Stat(t.Context(), bucket+"/a.txt")
	wantErr(t, "Stat in an unknown bucket", err, backends.ErrNotExist)
	_, err = s.st.ReadAt(t.Context(), backends.ObjectRef{Key: bucket + "/a.txt", Size: -1}, make([]byte, 10), 0)
	wantErr(t, "ReadAt in an unknown bucket", err, backends.ErrNotExist)
	_, err = s.st.Stat(t.Context(), bucket)
	wantErr(t, "Stat of a bucket name", err, backends.ErrNotExist)
}

// testOverwriteStale overwrites objects and reads them with the version
// seen before: ErrStale and no bytes, never the new content.
func (s *suite) testOverwriteStale(t *testing.T) {
	if s.f.Capabilities.ReadOnly {
		t.Skip("read-only store")
	}
	cases := []struct {
		name, rel string
		data      []byte
	}{
		{"same size", keySame, pseudoRandom(4096, 20)},
		{"grown", keyGrow, pseudoRandom(1500, 30)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := s.stat(t, c.rel)
			if old.Version == "" {
				t.Skip("the store reports no Version")
			}
			if err := s.f.Overwrite(t.Context(), old.Key, c.data); err != nil {
				t.Fatalf("Overwrite(%q): %v", old.Key, err)
			}
			for _, off := range []int64{0, 100} {
				p := make([]byte, 200)
				n, err := s.st.ReadAt(t.Context(), old.Ref(), p, off)
				if n != 0 {
					t.Errorf("ReadAt(off %d) with the old version returned %d bytes", off, n)
				}
				wantErr(t, "ReadAt with the old version", err, backends.ErrStale)
			}
			cur := s.stat(t, c.rel)
			if cur.Version == old.Version || cur.Size != int64(len(c.data)) {
				t.Errorf("after Overwrite, Stat = version %q size %d; old version %q, want size %d", cur.Version, cur.Size, old.Version, len(c.data))
			}
			p := make([]byte, len(c.data))
			n, err := s.st.ReadAt(t.Context(), cur.Ref(), p, 0)
			if n != len(c.data) || (err != nil && err != io.EOF) || !bytes.Equal(p, c.data) {
				t.Errorf("ReadAt with the new version = %d bytes, %v; want the new content", n, err)
			}
		})
	}
}
