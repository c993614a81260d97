package cache

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
)

// TestLocalChangesEditTheListing: Put, Deleted and MadeDir keep a cached
// listing current without a request, in key order, and readers holding the
// old listing keep what they were given.
func TestLocalChangesEditTheListing(t *testing.T) {
	type step struct {
		name string
		do   func(m *Meta)
		want []string // names of b/d/ after the step
	}
	info := func(name string) backends.ObjectInfo {
		return backends.ObjectInfo{Key: "b/d/" + name, Size: 1, Version: "v-" + name}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"files added in any order", []step{
			{"put c", func(m *Meta) { m.Put("b/d/", Entry{Name: "c", Info: info("c")}) }, []string{"b/", "c", "f"}},
			{"put a", func(m *Meta) { m.Put("b/d/", Entry{Name: "a", Info: info("a")}) }, []string{"a", "b/", "c", "f"}},
			{"put z", func(m *Meta) { m.Put("b/d/", Entry{Name: "z", Info: info("z")}) }, []string{"a", "b/", "c", "f", "z"}},
		}},
		{"replace and delete", []step{
			{"put f again", func(m *Meta) { m.Put("b/d/", Entry{Name: "f", Info: info("f")}) }, []string{"b/", "f"}},
			{"delete f", func(m *Meta) { m.Deleted("b/d/", "f") }, []string{"b/"}},
			{"delete missing", func(m *Meta) { m.Deleted("b/d/", "nope") }, []string{"b/"}},
		}},
		{"directories sort at name/", []step{
			// "e.x" < "e/" < "e0": a directory e sits between them.
			{"put e.x", func(m *Meta) { m.Put("b/d/", Entry{Name: "e.x", Info: info("e.x")}) }, []string{"b/", "e.x", "f"}},
			{"put e0", func(m *Meta) { m.Put("b/d/", Entry{Name: "e0", Info: info("e0")}) }, []string{"b/", "e.x", "e0", "f"}},
			{"mkdir e", func(m *Meta) { m.MadeDir("b/d/", "e") }, []string{"b/", "e.x", "e/", "e0", "f"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memstore.New()
			s.Put("b/d/f", []byte("x"))
			s.Put("b/d/b/inner", []byte("x"))
			m := newTestMeta(t, s, MetaOptions{})
			readDir(t, t.Context(), m, "b/d/")
			requests(s)
			for _, st := range tt.steps {
				st.do(m)
				if got := entryNames(readDir(t, t.Context(), m, "b/d/")); !slices.Equal(got, st.want) {
					t.Errorf("%s: listing %q, want %q", st.name, got, st.want)
				}
				for _, name := range st.want {
					name = strings.TrimSuffix(name, "/")
					if _, err := m.Lookup(t.Context(), "b/d/", name); err != nil {
						t.Errorf("%s: Lookup(%s): %v", st.name, name, err)
					}
				}
			}
			if l, n := requests(s); l+n != 0 {
				t.Errorf("local changes cost %d lists and %d stats, want none", l, n)
			}
		})
	}
}

// TestMadeDirIsKnownEmpty: names in a directory just made are answered
// without a request, and files put into it are listed.
func TestMadeDirIsKnownEmpty(t *testing.T) {
	s := memstore.New()
	s.Put("b/x", []byte("x"))
	m := newTestMeta(t, s, MetaOptions{})
	m.MadeDir("b/", "new")
	requests(s)
	if _, err := m.Lookup(t.Context(), "b/new/", "f"); !errors.Is(err, backends.ErrNotExist) {
		t.Errorf("Lookup in a new directory: %v, want ErrNotExist", err)
	}
	m.Put("b/new/", Entry{Name: "f", Info: backends.ObjectInfo{Key: "b/new/f", Size: 3}})
	if got := entryNames(readDir(t, t.Context(), m, "b/new/")); !slices.Equal(got, []string{"f"}) {
		t.Errorf("new directory lists %q, want [f]", got)
	}
	if l, n := requests(s); l+n != 0 {
		t.Errorf("new directory cost %d lists and %d stats, want none", l, n)
	}
}

// TestPutDuringReadKeepsReaderConsistent: a reader half-way through a
// listing is not disturbed by an insert before its position.
func TestPutDuringReadKeepsReaderConsistent(t *testing.T) {
	s := memstore.New()
	for _, k := range []string{"b/", "d", "f"} {
		s.Put("b/d/"+k, []byte("x"))
	}
	m := newTestMeta(t, s, MetaOptions{})
	readDir(t, t.Context(), m, "b/d/")
	d := m.OpenDir("b/d/")
	first, err := d.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	held := entryNames(first)
	m.Put("b/d/", Entry{Name: "a", Info: backends.ObjectInfo{Key: "b/d/a", Size: 1}})
	if got := entryNames(first); !slices.Equal(got, held) {
		t.Errorf("batch held by a reader changed from %q to %q", held, got)
	}
	if got := entryNames(readDir(t, t.Context(), m, "b/d/")); !slices.Equal(got, []string{"a", "b/", "d", "f"}) {
		t.Errorf("new reader sees %q", got)
	}
}

// TestPutShadowingDropsTheListing: a file put under a directory's name
// cannot be shown in place; the listing is fetched again.
func TestPutShadowingDropsTheListing(t *testing.T) {
	s := memstore.New()
	s.Put("b/d/sub/x", []byte("x"))
	m := newTestMeta(t, s, MetaOptions{})
	readDir(t, t.Context(), m, "b/d/")
	s.Put("b/d/sub", []byte("obj"))
	m.Put("b/d/", Entry{Name: "sub", Info: backends.ObjectInfo{Key: "b/d/sub", Size: 3}})
	requests(s)
	if got := entryNames(readDir(t, t.Context(), m, "b/d/")); !slices.Equal(got, []string{"sub/", "sub~object"}) {
		t.Errorf("listing %q, want [sub/ sub~object]", got)
	}
	if l, _ := requests(s); l != 1 {
		t.Errorf("%d lists, want 1 (the listing was dropped)", l)
	}
}
