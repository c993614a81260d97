package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// maxPages stops a listing whose Next never ends.
const maxPages = 10000

// suite is one run of the checks against one store.
type suite struct {
	f       Factory
	st      backends.Store
	fixture []Object
	data    map[string][]byte // fixture content by full key
}

// Run checks the store that f makes against the backends.Store contract.
// Every check is a named subtest and reports every failure it finds; the
// checks that overwrite objects run last.
func Run(t *testing.T, f Factory) {
	t.Helper()
	switch {
	case f.Root != "" && !strings.HasSuffix(f.Root, "/"):
		t.Fatalf("storetest: Root %q must be empty or end in /", f.Root)
	case f.Capabilities.Buckets && f.Root == "":
		t.Fatal("storetest: a store with buckets needs a Root that names the bucket")
	case f.New == nil:
		t.Fatal("storetest: Factory.New is nil")
	case !f.Capabilities.ReadOnly && f.Overwrite == nil:
		t.Fatal("storetest: Factory.Overwrite is nil but the store is not ReadOnly")
	}
	fixture := Fixture(f.Root, f.Capabilities)
	s := &suite{f: f, fixture: fixture, data: make(map[string][]byte, len(fixture))}
	for _, o := range fixture {
		s.data[o.Key] = o.Data
	}
	s.st = f.New(t, fixture)

	t.Run("ListDelimiter", s.testListDelimiter)
	t.Run("ListPages", s.testListPages)
	t.Run("ListFlat", s.testListFlat)
	t.Run("ListStoreRoot", s.testListStoreRoot)
	t.Run("MarkerOmitted", s.testMarkerOmitted)
	t.Run("ListEmptyPrefix", s.testListEmptyPrefix)
	t.Run("Stat", s.testStat)
	t.Run("ListMatchesStat", s.testListMatchesStat)
	t.Run("ReadAt", s.testReadAt)
	t.Run("ReadAtWrongVersion", s.testReadAtWrongVersion)
	t.Run("ConcurrentReadAt", s.testConcurrentReadAt)
	t.Run("UnknownBucket", s.testUnknownBucket)
	t.Run("OverwriteStale", s.testOverwriteStale)
}

// listing is every page of one listing, concatenated.
type listing struct {
	objects  []backends.ObjectInfo
	prefixes []string
	pages    int
}

func (l listing) keys() []string {
	out := make([]string, len(l.objects))
	for i, o := range l.objects {
		out[i] = o.Key
	}
	return out
}

// listAll follows Next to the end. It reports pages over the Limit,
// entries out of order or outside the prefix, and tokens that repeat.
func (s *suite) listAll(t *testing.T, req backends.ListRequest) (listing, error) {
	t.Helper()
	var l listing
	seen := map[string]bool{}
	for {
		page, err := s.st.List(t.Context(), req)
		if err != nil {
			return l, err
		}
		l.pages++
		if n := len(page.Objects) + len(page.Prefixes); req.Limit > 0 && n > req.Limit {
			t.Errorf("List(%q, %q) page %d has %d entries, Limit %d", req.Prefix, req.Delimiter, l.pages, n, req.Limit)
		}
		l.objects = append(l.objects, page.Objects...)
		l.prefixes = append(l.prefixes, page.Prefixes...)
		if page.Next == "" {
			break
		}
		if seen[page.Next] || l.pages >= maxPages {
			t.Errorf("List(%q, %q): token %q repeats or listing has over %d pages", req.Prefix, req.Delimiter, page.Next, maxPages)
			break
		}
		seen[page.Next] = true
		req.Token = page.Next
	}
	checkListing(t, req, l)
	return l, nil
}

// checkListing checks the rules every listing obeys, whatever the fixture.
func checkListing(t *testing.T, req backends.ListRequest, l listing) {
	t.Helper()
	name := fmt.Sprintf("List(%q, %q, Limit %d)", req.Prefix, req.Delimiter, req.Limit)
	keys := l.keys()
	for i, k := range keys {
		switch {
		case !strings.HasPrefix(k, req.Prefix):
			t.Errorf("%s: object %q is outside the prefix", name, k)
		case k == req.Prefix:
			t.Errorf("%s: the directory marker %q is listed", name, k)
		case i > 0 && k <= keys[i-1]:
			t.Errorf("%s: object %q follows %q: not strictly increasing", name, k, keys[i-1])
		case req.Delimiter != "" && strings.Contains(k[len(req.Prefix):], req.Delimiter):
			t.Errorf("%s: object %q should be collapsed into a prefix", name, k)
		}
	}
	if req.Delimiter == "" && len(l.prefixes) > 0 {
		t.Errorf("%s: a flat listing returned prefixes %q", name, l.prefixes)
	}
	for i, p := range l.prefixes {
		switch {
		case !strings.HasPrefix(p, req.Prefix) || !strings.HasSuffix(p, "/"):
			t.Errorf("%s: prefix %q is outside the prefix or lacks the delimiter", name, p)
		case i > 0 && p <= l.prefixes[i-1]:
			t.Errorf("%s: prefix %q follows %q: not strictly increasing", name, p, l.prefixes[i-1])
		}
	}
}

// expect computes what List(prefix, delim) must return for the fixture.
func (s *suite) expect(prefix, delim string) (objects, prefixes []string) {
	for _, o := range s.fixture {
		rest, ok := strings.CutPrefix(o.Key, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.Index(rest, delim); delim != "" && i >= 0 {
			prefixes = append(prefixes, prefix+rest[:i+1])
		} else {
			objects = append(objects, o.Key)
		}
	}
	slices.Sort(objects)
	slices.Sort(prefixes)
	return objects, slices.Compact(prefixes)
}

// compare reports the entries missing from got and those it should not hold.
func compare(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	t.Errorf("%s:\n got  %q\n want %q\n missing %q, unexpected %q", what, got, want, missing, extra)
}

// checkSizes compares listed sizes with the fixture.
func (s *suite) checkSizes(t *testing.T, l listing) {
	t.Helper()
	for _, o := range l.objects {
		if d, ok := s.data[o.Key]; ok && o.Size != int64(len(d)) {
			t.Errorf("listed %q with size %d, want %d", o.Key, o.Size, len(d))
		}
	}
}

// wantErr reports err unless it is of the given kind.
func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want one that is %v", what, err, kind)
	}
}
