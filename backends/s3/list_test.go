package s3

import (
	"slices"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// listAll follows Next and returns the concatenated page contents.
func listAll(t *testing.T, st *Store, req backends.ListRequest) (keys, prefixes []string, pages int) {
	t.Helper()
	for pages = 1; pages < 100; pages++ {
		page, err := st.List(t.Context(), req)
		if err != nil {
			t.Fatalf("List(%+v): %v", req, err)
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, page.Prefixes...)
		if page.Next == "" {
			return keys, prefixes, pages
		}
		req.Token = page.Next
	}
	t.Fatal("listing does not end")
	return nil, nil, 0
}

func TestBucketRoot(t *testing.T) {
	want := []string{"a-b/", "a/", "zeta/"} // byte order of the prefixes
	cases := []struct {
		name       string
		configured []string
		limit      int
		wantPages  int
		requests   int
	}{
		{"configured", []string{"zeta", "a", "a-b", "a"}, 0, 1, 0},
		{"configured, one per page", []string{"zeta", "a", "a-b"}, 1, 3, 0},
		{"ListBuckets", nil, 0, 1, 1},
		{"ListBuckets, two per page", nil, 2, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isolateAWS(t)
			f := newFakeS3(t, "zeta", "a", "a-b")
			st := newTestStore(t, f, func(cfg *Config) { cfg.Buckets = c.configured })
			keys, prefixes, pages := listAll(t, st, backends.ListRequest{Delimiter: "/", Limit: c.limit})
			if len(keys) != 0 || !slices.Equal(prefixes, want) || pages != c.wantPages {
				t.Errorf("List(\"\", \"/\") = objects %q prefixes %q in %d pages; want prefixes %q in %d", keys, prefixes, pages, want, c.wantPages)
			}
			if n := len(f.recorded()); n != c.requests {
				t.Errorf("%d requests, want %d", n, c.requests)
			}
		})
	}
}

func TestFlatRootAcrossBuckets(t *testing.T) {
	isolateAWS(t)
	f := newFakeS3(t, "a", "a-b", "empty", "z")
	for _, k := range []string{"a/1", "a/2/x", "a/3"} {
		b, key, _ := strings.Cut(k, "/")
		f.put(b, key, []byte(k))
	}
	f.put("a-b", "k", nil)
	f.put("z", "last", nil)
	want := []string{"a-b/k", "a/1", "a/2/x", "a/3", "z/last"}
	for _, configured := range [][]string{nil, {"z", "empty", "a", "a-b"}} {
		st := newTestStore(t, f, func(cfg *Config) { cfg.Buckets = configured })
		for _, limit := range []int{0, 1, 2} {
			keys, prefixes, _ := listAll(t, st, backends.ListRequest{Limit: limit})
			if !slices.Equal(keys, want) || len(prefixes) != 0 {
				t.Errorf("buckets %q, Limit %d: flat root listing = %q %q, want %q", configured, limit, keys, prefixes, want)
			}
		}
	}
}

func TestUnknownBucketHint(t *testing.T) {
	for _, configured := range [][]string{nil, {"b"}} {
		isolateAWS(t)
		f := newFakeS3(t, "b")
		st := newTestStore(t, f, func(cfg *Config) { cfg.Buckets = configured })
		_, err := st.List(t.Context(), backends.ListRequest{Prefix: "nope/dir/", Delimiter: "/"})
		checkError(t, err, "list", backends.ErrNotExist, `no bucket "nope" at `+f.srv.URL+"; check buckets: in the config")
		_, err = st.Stat(t.Context(), "b")
		checkError(t, err, "stat", backends.ErrNotExist, "")
	}
}
