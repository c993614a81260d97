package storetest

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// ReadOnlyFactory connects RunReadOnly to a read-only store whose content
// is fixed by the service (the ICOS portal, its emulator): the store
// cannot take the standard fixture, so it declares what it holds and the
// suite checks the same rules against that.
type ReadOnlyFactory struct {
	// Root is "" or a prefix ending in "/"; Objects are every key below it.
	Root string
	// New returns the store under test.
	New func(t *testing.T) backends.Store
	// Objects is everything the store holds below Root, with content.
	// Objects the store lists but cannot serve (access refused) are left
	// out of ReadAt checks by listing them in Unreadable.
	Objects    []Object
	Unreadable []string
	// EmptyDirs are directories (full prefixes ending in "/") that the
	// store lists although nothing is listed below them (ICOS's
	// lookup-only "objects/", a data type without objects).
	EmptyDirs []string
}

// RunReadOnly checks a read-only store with a fixed content against the
// backends.Store contract: delimiter and flat listings of every
// directory, paging, Stat and listings agreeing, ReadAt semantics on the
// largest and the smallest object, a wrong version, concurrent reads.
// It is Run for stores that cannot store the standard fixture.
func RunReadOnly(t *testing.T, f ReadOnlyFactory) {
	t.Helper()
	if f.Root != "" && !strings.HasSuffix(f.Root, "/") {
		t.Fatalf("storetest: Root %q must be empty or end in /", f.Root)
	}
	if len(f.Objects) == 0 || f.New == nil {
		t.Fatal("storetest: a ReadOnlyFactory needs New and Objects")
	}
	s := &roSuite{suite: &suite{
		f:       Factory{Root: f.Root, Capabilities: Capabilities{ReadOnly: true}},
		fixture: f.Objects,
		data:    map[string][]byte{},
	}}
	for _, o := range f.Objects {
		s.data[o.Key] = o.Data
	}
	s.st = f.New(t)
	s.emptyDirs = f.EmptyDirs
	dirs := s.directories()
	readable := slices.DeleteFunc(slices.Clone(f.Objects), func(o Object) bool { return slices.Contains(f.Unreadable, o.Key) })
	if len(readable) == 0 {
		t.Fatal("storetest: no readable object")
	}
	big, small := readable[0], readable[0]
	for _, o := range readable {
		if len(o.Data) > len(big.Data) {
			big = o
		}
		if len(o.Data) < len(small.Data) {
			small = o
		}
	}
	t.Run("ListDelimiter", func(t *testing.T) {
		for _, d := range dirs {
			t.Run(strings.TrimSuffix("root/"+strings.TrimPrefix(d, f.Root), "/"), func(t *testing.T) { s.checkDir(t, d, "/", 0) })
		}
	})
	t.Run("ListPages", func(t *testing.T) {
		for _, d := range dirs {
			for _, limit := range []int{1, 3} {
				s.checkDir(t, d, "/", limit)
				s.checkDir(t, d, "", limit)
			}
		}
	})
	t.Run("ListFlat", func(t *testing.T) {
		for _, d := range dirs {
			s.checkDir(t, d, "", 0)
		}
	})
	t.Run("ListEmptyPrefix", func(t *testing.T) {
		prefix := dirs[len(dirs)-1] + "nothing-here/"
		page, err := s.st.List(t.Context(), backends.ListRequest{Prefix: prefix, Delimiter: "/"})
		if err != nil || len(page.Objects)+len(page.Prefixes) != 0 || page.Next != "" {
			t.Errorf("List(%q) = %+v, %v; want an empty page", prefix, page, err)
		}
	})
	t.Run("Stat", func(t *testing.T) { s.checkStats(t, dirs) })
	t.Run("ListMatchesStat", s.testListMatchesStat)
	t.Run("ReadAt", func(t *testing.T) { s.checkReads(t, big, small) })
	t.Run("ReadAtWrongVersion", func(t *testing.T) { s.checkWrongVersion(t, big) })
	t.Run("ConcurrentReadAt", func(t *testing.T) { s.checkConcurrent(t, big) })
}

// roSuite is a suite over a declared fixture.
type roSuite struct {
	*suite
	emptyDirs []string
}

// directories returns Root and every directory below it, sorted.
func (s *roSuite) directories() []string {
	set := map[string]bool{s.f.Root: true}
	for _, d := range s.emptyDirs {
		set[d] = true
	}
	for _, o := range s.fixture {
		for d := path.Dir(o.Key); d != "." && d+"/" != s.f.Root && strings.HasPrefix(d+"/", s.f.Root); d = path.Dir(d) {
			set[d+"/"] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func (s *roSuite) checkDir(t *testing.T, prefix, delim string, limit int) {
	t.Helper()
	l, err := s.listAll(t, backends.ListRequest{Prefix: prefix, Delimiter: delim, Limit: limit})
	if err != nil {
		t.Fatalf("List(%q, %q, Limit %d): %v", prefix, delim, limit, err)
	}
	objects, prefixes := s.expect(prefix, delim)
	for _, d := range s.emptyDirs {
		if delim == "/" && len(d) > len(prefix) && strings.HasPrefix(d, prefix) && !strings.Contains(strings.TrimSuffix(d[len(prefix):], "/"), "/") {
			prefixes = append(prefixes, d)
		}
	}
	slices.Sort(prefixes)
	what := fmt.Sprintf("List(%q, %q, Limit %d)", prefix, delim, limit)
	compare(t, what+" objects", l.keys(), objects)
	compare(t, what+" prefixes", l.prefixes, prefixes)
	s.checkSizes(t, l)
	if n := len(objects) + len(prefixes); limit > 0 && n > limit && l.pages < 2 {
		t.Errorf("%s: %d entries came in %d page(s)", what, n, l.pages)
	}
}

func (s *suite) checkStats(t *testing.T, dirs []string) {
	for _, o := range s.fixture {
		info, err := s.st.Stat(t.Context(), o.Key)
		if err != nil || info.Key != o.Key || info.Size != int64(len(o.Data)) {
			t.Errorf("Stat(%q) = key %q size %d, %v; want size %d", o.Key, info.Key, info.Size, err, len(o.Data))
		}
	}
	for _, d := range dirs[1:] {
		for _, key := range []string{d, strings.TrimSuffix(d, "/")} {
			_, err := s.st.Stat(t.Context(), key)
			wantErr(t, fmt.Sprintf("Stat(%q) of a directory", key), err, backends.ErrNotExist)
		}
	}
	for _, key := range []string{s.f.Root + "no-such-file.txt", dirs[len(dirs)-1] + "no-such-file.txt", s.f.Root + "no/such/file"} {
		_, err := s.st.Stat(t.Context(), key)
		wantErr(t, fmt.Sprintf("Stat(%q)", key), err, backends.ErrNotExist)
	}
}

func (s *suite) checkReads(t *testing.T, big, small Object) {
	n := int64(len(big.Data))
	cases := []struct {
		name    string
		o       Object
		off     int64
		len     int
		wantN   int
		wantEOF bool
	}{
		{"start", big, 0, 100, 100, false},
		{"middle", big, n/2 + 7, 1000, 1000, false},
		{"to end exactly", big, n - 100, 100, 100, false},
		{"crossing end", big, n - 10, 100, 10, true},
		{"at end", big, n, 10, 0, true},
		{"after end", big, n + 100, 10, 0, true},
		{"whole", big, 0, int(n), int(n), false},
		{"whole and more", big, 0, int(n) + 1, int(n), true},
		{"small whole and more", small, 0, len(small.Data) + 4096, len(small.Data), true},
	}
	for _, c := range cases {
		for _, pinned := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/pinned=%v", c.name, pinned), func(t *testing.T) {
				ref := backends.ObjectRef{Key: c.o.Key, Size: -1}
				if pinned {
					ref = s.stat(t, strings.TrimPrefix(c.o.Key, s.f.Root)).Ref()
				}
				p := make([]byte, c.len)
				got, err := s.st.ReadAt(t.Context(), ref, p, c.off)
				atEnd := c.off+int64(c.len) >= int64(len(c.o.Data))
				switch {
				case got != c.wantN:
					t.Errorf("ReadAt(%q, len %d, off %d) = %d bytes, want %d (err %v)", c.o.Key, c.len, c.off, got, c.wantN, err)
				case c.wantEOF && err != io.EOF:
					t.Errorf("ReadAt(%q, len %d, off %d): err %v, want io.EOF", c.o.Key, c.len, c.off, err)
				case !c.wantEOF && err != nil && !(atEnd && err == io.EOF):
					t.Errorf("ReadAt(%q, len %d, off %d): %v", c.o.Key, c.len, c.off, err)
				}
				if got > 0 && c.off < int64(len(c.o.Data)) && !bytes.Equal(p[:got], c.o.Data[c.off:c.off+int64(got)]) {
					t.Errorf("ReadAt(%q, len %d, off %d) returned wrong bytes", c.o.Key, c.len, c.off)
				}
			})
		}
	}
	t.Run("missing", func(t *testing.T) {
		got, err := s.st.ReadAt(t.Context(), backends.ObjectRef{Key: s.f.Root + "no-such-file.txt", Size: -1}, make([]byte, 10), 0)
		if got != 0 {
			t.Errorf("ReadAt of a missing key returned %d bytes", got)
		}
		wantErr(t, "ReadAt of a missing key", err, backends.ErrNotExist)
	})
}

func (s *suite) checkWrongVersion(t *testing.T, o Object) {
	info := s.stat(t, strings.TrimPrefix(o.Key, s.f.Root))
	if info.Version == "" {
		t.Skip("the store reports no Version")
	}
	ref := backends.ObjectRef{Key: o.Key, Version: wrongVersion, Size: info.Size}
	got, err := s.st.ReadAt(t.Context(), ref, make([]byte, 100), 0)
	if got != 0 {
		t.Errorf("ReadAt(%q) with a wrong version returned %d bytes", o.Key, got)
	}
	wantErr(t, "ReadAt with a wrong version", err, backends.ErrStale)
}

func (s *suite) checkConcurrent(t *testing.T, o Object) {
	info := s.stat(t, strings.TrimPrefix(o.Key, s.f.Root))
	want := o.Data
	const readers = 16
	span := int64(min(len(want)/4, 200<<10))
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			off := int64(i) * (int64(len(want)) - span) / (readers - 1)
			p := make([]byte, span)
			n, err := s.st.ReadAt(t.Context(), info.Ref(), p, off)
			if err != nil && !(err == io.EOF && off+span >= int64(len(want))) {
				t.Errorf("reader %d: ReadAt(off %d): %v", i, off, err)
			}
			if int64(n) != span || !bytes.Equal(p[:n], want[off:off+int64(n)]) {
				t.Errorf("reader %d: ReadAt(off %d) = %d bytes, want %d correct ones", i, off, n, span)
			}
		})
	}
	wg.Wait()
}
