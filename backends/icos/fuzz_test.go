package icos

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// FuzzSPARQLResults feeds arbitrary SPARQL result bodies (one for the
// data types query, one for the objects queries) to List and walks the
// tree they describe: no panic, no hang, every key inside its prefix and
// every name a valid path segment.
func FuzzSPARQLResults(f *testing.F) {
	const types = `{"head":{"vars":["spec"]},"results":{"bindings":[{"spec":{"type":"uri","value":"http://meta.icos-cp.eu/resources/cpmeta/atcCo2L2DataObject"}}]}}`
	f.Add(types, `{"results":{"bindings":[{"dobj":{"type":"uri","value":"https://meta.icos-cp.eu/objects/hoidzqcaqmCU3mOZ435r2crG"},"station":{"value":"http://meta.icos-cp.eu/resources/stations/AS_HTM"},"fileName":{"value":"a.csv"},"size":{"value":"12"},"submTime":{"value":"2026-01-02T03:04:05Z"}}]}}`)
	f.Add(types, `{"results":{"bindings":[{"dobj":{"value":"x/hoidzqcaqmCU3mOZ435r2crG"},"fileName":{"value":".."},"size":{"value":"-1"}},{"dobj":{"value":""}}]}}`)
	f.Add(`{"results":{"bindings":[{"spec":{"value":"http://meta.icos-cp.eu/resources/cpmeta/objects"}},{"spec":{"value":"http://meta.icos-cp.eu/resources/cpmeta/a/b"}},{}]}}`, `{}`)
	f.Add(`{"results":`, `[]`)
	f.Add(`{"results":{"bindings":null}}`, `{"results":{"bindings":[{"dobj":{"value":"https://meta.icos-cp.eu/objects/hoidzqcaqmCU3mOZ435r2crG"},"fileName":{"value":"a/b\u0000c"},"size":{"value":"99999999999999999999"},"submTime":{"value":"x"}}]}}`)
	var typesBody, objectsBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, _ := bufio.NewReader(r.Body).ReadString('\n')
		w.Header().Set("Content-Type", "application/sparql-results+json")
		if strings.HasPrefix(first, "# fuse:types") {
			w.Write([]byte(typesBody.Load().(string)))
		} else {
			w.Write([]byte(objectsBody.Load().(string)))
		}
	}))
	defer srv.Close()
	f.Fuzz(func(t *testing.T, types, objects string) {
		typesBody.Store(types)
		objectsBody.Store(objects)
		st, err := New(Config{Remote: "fz", MetaURL: srv.URL, DataURL: srv.URL, AuthURL: srv.URL,
			RetryBase: time.Millisecond, MaxRetries: 1, PageSize: 50, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		walk(ctx, t, st, "", 0)
		if ctx.Err() != nil {
			t.Fatalf("walking the tree took over 10s")
		}
	})
}

// walk lists prefix and the prefixes below it, a few levels deep.
func walk(ctx context.Context, t *testing.T, st *Store, prefix string, depth int) {
	page, err := st.List(ctx, backends.ListRequest{Prefix: prefix, Delimiter: "/", Limit: 20})
	if err != nil {
		if err.Error() == "" {
			t.Fatalf("List(%q): empty error", prefix)
		}
		return
	}
	check := func(key string) {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok || !validSegment(strings.TrimSuffix(rest, "/")) {
			t.Fatalf("List(%q) returned %q", prefix, key)
		}
	}
	for _, o := range page.Objects {
		check(o.Key)
		if o.Size < 0 {
			t.Fatalf("List(%q): %q has size %d", prefix, o.Key, o.Size)
		}
	}
	for _, p := range page.Prefixes {
		check(p)
		if depth < 3 {
			walk(ctx, t, st, p, depth+1)
		}
	}
}
