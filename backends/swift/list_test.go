package swift

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// fakeAccount serves JSON account and container listings (marker paging,
// prefix, no delimiter) of containers holding the given object names.
func fakeAccount(account map[string][]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/v1/AUTH_test")
		rest = strings.TrimPrefix(rest, "/")
		var names []string
		if rest == "" {
			for c := range account {
				names = append(names, c)
			}
		} else if objs, ok := account[rest]; ok {
			names = slices.Clone(objs)
		} else {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		sort.Strings(names)
		q := r.URL.Query()
		var page []listEntry
		for _, n := range names {
			if n > q.Get("marker") && strings.HasPrefix(n, q.Get("prefix")) && len(page) < 2 {
				page = append(page, listEntry{Name: n, Bytes: 1, Hash: "h", LastModified: "2026-11-23T14:45:07.996710"})
			}
		}
		if len(page) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		json.NewEncoder(w).Encode(page)
	}
}

func TestListRoot(t *testing.T) {
	account := map[string][]string{"a": nil, "a-b": {"x", "y", "z"}, "b": {"w"}, "c": nil}
	st, _ := fakeStore(t, Config{}, fakeAccount(account))
	var prefixes, keys []string
	for _, limit := range []int{0, 1} {
		prefixes, keys = nil, nil
		for _, delim := range []string{"/", ""} {
			req := backends.ListRequest{Delimiter: delim, Limit: limit}
			for pages := 0; ; pages++ {
				page, err := st.List(t.Context(), req)
				if err != nil || pages > 20 {
					t.Fatalf("List(%+v): %v after %d pages", req, err, pages)
				}
				prefixes = append(prefixes, page.Prefixes...)
				for _, o := range page.Objects {
					keys = append(keys, o.Key)
				}
				if page.Next == "" {
					break
				}
				req.Token = page.Next
			}
		}
		// "a-b/" sorts before "a/": keys across containers stay in order.
		if want := []string{"a-b/", "a/", "b/", "c/"}; !slices.Equal(prefixes, want) {
			t.Errorf("Limit %d: containers %q, want %q", limit, prefixes, want)
		}
		if want := []string{"a-b/x", "a-b/y", "a-b/z", "b/w"}; !slices.Equal(keys, want) {
			t.Errorf("Limit %d: flat root listing %q, want %q", limit, keys, want)
		}
	}
}
