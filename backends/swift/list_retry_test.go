package swift

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// TestListBrokenBodyRetried: a listing whose JSON body is cut short or
// well framed but truncated is retried like a failed request.
func TestListBrokenBodyRetried(t *testing.T) {
	const listing = `[{"name":"a.txt","bytes":5,"hash":"5d41402abc4b2a76b9719d911017c592","last_modified":"2026-11-23T14:45:07.996710"}]`
	cases := []struct {
		name  string
		spoil func(w http.ResponseWriter)
	}{
		{"cut short", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(listing)))
			w.Write([]byte(listing[:20]))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}},
		{"truncated, well framed", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "20")
			w.Write([]byte(listing[:20]))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int32
			st, n := fakeStore(t, Config{Containers: []string{"c"}}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if calls.Add(1) == 1 {
					c.spoil(w)
					return
				}
				w.Write([]byte(listing))
			})
			page, err := st.List(t.Context(), backends.ListRequest{Prefix: "c/", Delimiter: "/"})
			if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "c/a.txt" {
				t.Fatalf("List = %+v, %v; want c/a.txt", page, err)
			}
			if n.Load() != 2 {
				t.Errorf("%d requests, want 2", n.Load())
			}
		})
	}
}
