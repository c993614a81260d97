package storetest

import (
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// testListDelimiter lists every directory of the fixture one level at a
// time and compares objects, prefixes and sizes.
func (s *suite) testListDelimiter(t *testing.T) {
	dirs := []string{"", "dir/", "dir/sub/", "dir/sub/deeper/", "unicode/", "unicode/日本語/", "order/", "both/", dirMany}
	for _, dir := range dirs {
		t.Run(strings.TrimSuffix("root/"+dir, "/"), func(t *testing.T) {
			prefix := s.f.Root + dir
			l, err := s.listAll(t, backends.ListRequest{Prefix: prefix, Delimiter: "/"})
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			objects, prefixes := s.expect(prefix, "/")
			compare(t, "objects of "+prefix, l.keys(), objects)
			compare(t, "prefixes of "+prefix, l.prefixes, prefixes)
			s.checkSizes(t, l)
		})
	}
}

// testListPages lists with small Limits, so that the listing takes many
// pages, and checks that the pages join up in order without gaps.
func (s *suite) testListPages(t *testing.T) {
	cases := []struct {
		name      string
		dir       string
		delimiter string
		limit     int
	}{
		{"many by 4", dirMany, "/", 4},
		{"many by 1", dirMany, "/", 1},
		{"order by 1", "order/", "/", 1},
		{"root by 3", "", "/", 3},
		{"flat root by 5", "", "", 5},
		{"flat many by 7", dirMany, "", 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := s.f.Root + c.dir
			l, err := s.listAll(t, backends.ListRequest{Prefix: prefix, Delimiter: c.delimiter, Limit: c.limit})
			if err != nil {
				t.Fatalf("List(%q, %q, Limit %d): %v", prefix, c.delimiter, c.limit, err)
			}
			objects, prefixes := s.expect(prefix, c.delimiter)
			compare(t, "objects", l.keys(), objects)
			compare(t, "prefixes", l.prefixes, prefixes)
			s.checkSizes(t, l)
			if n := len(objects) + len(prefixes); n > c.limit && l.pages < 2 {
				t.Errorf("%d entries with Limit %d came in %d page(s)", n, c.limit, l.pages)
			}
		})
	}
}

// testListFlat lists subtrees without a delimiter: every key at any depth.
func (s *suite) testListFlat(t *testing.T) {
	for _, dir := range []string{"", "dir/", "unicode/", "order/"} {
		t.Run(strings.TrimSuffix("root/"+dir, "/"), func(t *testing.T) {
			prefix := s.f.Root + dir
			l, err := s.listAll(t, backends.ListRequest{Prefix: prefix})
			if err != nil {
				t.Fatalf("List(%q, flat): %v", prefix, err)
			}
			objects, _ := s.expect(prefix, "")
			compare(t, "flat listing of "+prefix, l.keys(), objects)
			s.checkSizes(t, l)
		})
	}
}

// testListStoreRoot lists the store root, where a store with buckets
// shows its buckets, and checks that the fixture is found from there,
// one level at a time and flat.
func (s *suite) testListStoreRoot(t *testing.T) {
	if s.f.Root == "" {
		t.Skip("the fixture is the store root; ListDelimiter and ListFlat cover it")
	}
	top, _, _ := strings.Cut(s.f.Root, "/")
	for _, limit := range []int{0, 1} {
		l, err := s.listAll(t, backends.ListRequest{Delimiter: "/", Limit: limit})
		if err != nil {
			t.Fatalf("List(\"\", \"/\", Limit %d): %v", limit, err)
		}
		if !contains(l.prefixes, top+"/") {
			t.Errorf("List(\"\", \"/\", Limit %d) = %q, want it to hold %q", limit, l.prefixes, top+"/")
		}
	}
	l, err := s.listAll(t, backends.ListRequest{Limit: 1000})
	if err != nil {
		t.Fatalf("List(\"\", flat): %v", err)
	}
	got := l.keys()
	for _, o := range s.fixture {
		if !contains(got, o.Key) {
			t.Errorf("flat listing of the store root lacks %q", o.Key)
		}
	}
}

// testMarkerOmitted checks that the object "dir/" is not listed as an
// entry of "dir/" but shows as the prefix "dir/" of its parent.
func (s *suite) testMarkerOmitted(t *testing.T) {
	marker := s.f.Root + keyMarker
	for _, delim := range []string{"/", ""} {
		l, err := s.listAll(t, backends.ListRequest{Prefix: marker, Delimiter: delim})
		if err != nil {
			t.Fatalf("List(%q, %q): %v", marker, delim, err)
		}
		if contains(l.keys(), marker) {
			t.Errorf("List(%q, %q) lists the marker object itself", marker, delim)
		}
		if len(l.objects)+len(l.prefixes) == 0 {
			t.Errorf("List(%q, %q) is empty", marker, delim)
		}
	}
	// The first page reports the marker, so that an empty directory made
	// by mkdir can be told from nothing; a directory without one does not.
	for prefix, want := range map[string]bool{marker: true, s.f.Root + "unicode/": false} {
		for _, delim := range []string{"/", ""} {
			page, err := s.st.List(t.Context(), backends.ListRequest{Prefix: prefix, Delimiter: delim, Limit: 1})
			if err != nil {
				t.Fatalf("List(%q, %q, limit 1): %v", prefix, delim, err)
			}
			if page.Marker != want {
				t.Errorf("List(%q, %q, limit 1).Marker = %v, want %v", prefix, delim, page.Marker, want)
			}
		}
	}
	l, err := s.listAll(t, backends.ListRequest{Prefix: s.f.Root, Delimiter: "/"})
	if err != nil {
		t.Fatalf("List(%q): %v", s.f.Root, err)
	}
	if contains(l.keys(), marker) || !contains(l.prefixes, marker) {
		t.Errorf("List(%q): objects %q, prefixes %q; want %q as a prefix only", s.f.Root, l.keys(), l.prefixes, marker)
	}
}

// testListEmptyPrefix lists a prefix that holds no keys in an existing
// bucket: an empty page, not an error.
func (s *suite) testListEmptyPrefix(t *testing.T) {
	prefix := s.f.Root + "nothing-here/"
	for _, delim := range []string{"/", ""} {
		page, err := s.st.List(t.Context(), backends.ListRequest{Prefix: prefix, Delimiter: delim})
		if err != nil {
			t.Errorf("List(%q, %q): %v, want an empty page", prefix, delim, err)
			continue
		}
		if len(page.Objects)+len(page.Prefixes) != 0 || page.Next != "" {
			t.Errorf("List(%q, %q) = %+v, want an empty page", prefix, delim, page)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
