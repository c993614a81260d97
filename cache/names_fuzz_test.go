package cache

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends/memstore"
)

// FuzzNames checks the key-to-name mapping over a store holding the
// fuzzed keys (one per line; a key's size is its length mod 3, so that
// some are empty directory markers): the helpers agree with each other,
// and a walk of the tree through Meta shows only valid, unique names, each found again by Lookup as the same entry, and reaches every
// object whose segments are valid names and that no directory shadows.
func FuzzNames(f *testing.F) {
	for _, seed := range []string{
		"a\na/x\nb",
		"dir/file.txt\ndir/sub/deep.bin\ntop",
		"a\na/b\na~object\nc/",
		"x/./y\nx/../z\nx//w\n.\n..",
		"a b/ü ✓\n" + strings.Repeat("n", 256) + "\nlong/" + strings.Repeat("m", 255),
		"k\nk/\nk/v\nk~object/w",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		keys := strings.Split(input, "\n")
		if len(keys) > 64 || len(input) > 4096 {
			return
		}
		for _, k := range keys {
			checkHelpers(t, k)
		}
		st := memstore.New()
		present := map[string]int{}
		for _, k := range keys {
			if k == "" || strings.ContainsRune(k, 0) {
				continue
			}
			st.Put(k, []byte(strings.Repeat("x", len(k)%3)))
			present[k] = len(k) % 3
		}
		m := NewMeta(st, MetaOptions{Remote: "fuzz", TTL: time.Hour})
		defer m.Close()
		ctx := context.Background()
		seen := map[string]bool{} // object keys reached
		fuzzWalk(t, ctx, m, "", seen, 0)
		for k, size := range present {
			if reachable(k, present) && !seen[k] {
				t.Errorf("key %q (size %d) is not reachable through the tree", k, size)
			}
		}
	})
}

// checkHelpers checks validName, aliasBase, parentOf and baseOf on s.
func checkHelpers(t *testing.T, s string) {
	want := s != "" && s != "." && s != ".." && len(s) <= maxNameLen && !strings.ContainsAny(s, "/\x00")
	if validName(s) != want {
		t.Errorf("validName(%q) = %v", s, !want)
	}
	if base, ok := aliasBase(s); ok && (base == "" || base+AliasSuffix != s) {
		t.Errorf("aliasBase(%q) = %q", s, base)
	}
	if p := s + "/"; !strings.Contains(s, "//") {
		if got := parentOf(p) + baseOf(p) + "/"; got != p {
			t.Errorf("parentOf(%q) + baseOf = %q", p, got)
		}
	}
}

// fuzzWalk lists prefix and every directory below it.
func fuzzWalk(t *testing.T, ctx context.Context, m *Meta, prefix string, seen map[string]bool, depth int) {
	if depth > 64 {
		t.Fatalf("tree deeper than 64 at %q", prefix)
	}
	d := m.OpenDir(prefix)
	var names []string
	var all []Entry
	for {
		batch, err := d.Next(ctx)
		all = append(all, batch...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
	}
	for _, e := range all {
		if !validName(e.Name) {
			t.Errorf("%q: invalid name %q", prefix, e.Name)
		}
		names = append(names, e.Name)
		got, err := m.Lookup(ctx, prefix, e.Name)
		if err != nil || got.Dir != e.Dir || got.Info.Key != e.Info.Key {
			t.Errorf("Lookup(%q, %q) = %+v, %v; the listing has %+v", prefix, e.Name, got, err, e)
		}
		if e.Dir {
			fuzzWalk(t, ctx, m, prefix+e.Name+"/", seen, depth+1)
		} else {
			seen[e.Info.Key] = true
		}
	}
	// Order is not checked: an object waits until the listing has passed
	// where a directory of its name would sort, so "a" comes after "a b/".
	slices.Sort(names)
	if len(slices.Compact(names)) != len(all) {
		t.Errorf("%q: a name shows twice", prefix)
	}
}

// reachable reports whether key k must show in the tree: every segment a
// valid name, and no other key below k/ (a directory would shadow it).
func reachable(k string, present map[string]int) bool {
	for _, seg := range strings.Split(k, "/") {
		if !validName(seg) {
			return false
		}
	}
	for other := range present {
		if strings.HasPrefix(other, k+"/") {
			return false
		}
	}
	return true
}
