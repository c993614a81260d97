package cache

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"a", true},
		{"a b", true},
		{"ünïcødé ✓", true},
		{"a~object", true},
		{".hidden", true},
		{"...", true},
		{strings.Repeat("x", 255), true},
		{strings.Repeat("x", 256), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a\x00b", false},
		{"a/b", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.name), func(t *testing.T) {
			if got := validName(tt.name); got != tt.want {
				t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestPrefixHelpers(t *testing.T) {
	tests := []struct{ prefix, parent, base string }{
		{"", "", ""},
		{"a/", "", "a"},
		{"a/b/", "a/", "b"},
		{"a/b/c d/", "a/b/", "c d"},
		{"a//", "a/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			if got := parentOf(tt.prefix); got != tt.parent {
				t.Errorf("parentOf(%q) = %q, want %q", tt.prefix, got, tt.parent)
			}
			if got := baseOf(tt.prefix); got != tt.base {
				t.Errorf("baseOf(%q) = %q, want %q", tt.prefix, got, tt.base)
			}
		})
	}
	if b, ok := aliasBase("a~object"); !ok || b != "a" {
		t.Errorf("aliasBase(a~object) = %q, %v", b, ok)
	}
	if _, ok := aliasBase("~object"); ok {
		t.Error("aliasBase(~object) accepted an empty base")
	}
}

func TestPassed(t *testing.T) {
	tests := []struct {
		key, name string
		want      bool
	}{
		{"a/", "a", false},
		{"a.txt", "a", false},
		{"a0", "a", true},
		{"a/x", "a", true},
		{"b", "a", true},
		{"Z", "a", false},
		{"a", "abc", false},
		{"abd", "abc", true},
	}
	for _, tt := range tests {
		if got := passed(tt.key, tt.name); got != tt.want || got != (tt.key > tt.name+"/") {
			t.Errorf("passed(%q, %q) = %v, want %v", tt.key, tt.name, got, tt.want)
		}
	}
}

// item is a test listing item in key order: a name ending in "/" is a
// directory.
type item struct {
	name string
	size int64
}

func TestListingRules(t *testing.T) {
	long := strings.Repeat("n", 256)
	tests := []struct {
		name  string
		items []item
		want  []string // names; directories end in "/"
	}{
		{"plain", []item{{"a", 1}, {"b", 2}, {"c/", 0}}, []string{"a", "b", "c/"}},
		{"object shadowed by directory", []item{{"a", 3}, {"a/", 0}}, []string{"a/", "a~object"}},
		{"empty object is a marker", []item{{"a", 0}, {"a/", 0}}, []string{"a/"}},
		{"keys between object and directory", []item{{"a", 3}, {"a-1", 1}, {"a.txt", 1}, {"a/", 0}, {"a0", 1}}, []string{"a-1", "a.txt", "a/", "a~object", "a0"}},
		{"real key wins over alias", []item{{"a", 3}, {"a/", 0}, {"a~object", 9}}, []string{"a/", "a~object"}},
		{"real directory wins over alias", []item{{"a", 3}, {"a/", 0}, {"a~object/", 0}}, []string{"a/", "a~object/"}},
		{"invalid names skipped", []item{{"", 1}, {".", 1}, {"..", 1}, {"x\x00y", 1}, {long, 1}, {"ok", 1}, {"../", 0}}, []string{"ok"}},
		{"unicode and spaces", []item{{"a b", 1}, {"é/", 0}, {"日本", 1}}, []string{"a b", "é/", "日本"}},
	}
	log := slog.New(slog.DiscardHandler)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newListing("p/", time.Time{})
			for _, it := range tt.items {
				if n, ok := strings.CutSuffix(it.name, "/"); ok {
					l.addDir(n, log)
				} else {
					l.addObject(it.name, backends.ObjectInfo{Key: "p/" + it.name, Size: it.size}, log)
				}
			}
			l.finish(log)
			if got := entryNames(l.entries); !slices.Equal(got, tt.want) {
				t.Errorf("entries = %q, want %q", got, tt.want)
			}
			if tt.name == "real key wins over alias" {
				if e, _ := l.find("a~object"); e.Info.Size != 9 {
					t.Errorf("a~object is the alias (size %d), want the real key", e.Info.Size)
				}
			}
		})
	}
}

func TestApplyPageMergesAndMarkers(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	l := newListing("p/", time.Time{})
	l.applyPage(backends.ListPage{
		Objects:  []backends.ObjectInfo{{Key: "p/a", Size: 1}, {Key: "p/c", Size: 1}, {Key: "p/m/", Size: 0}},
		Prefixes: []string{"p/b/", "p/c/"},
		Next:     "t",
	}, log)
	if l.complete {
		t.Fatal("complete before the last page")
	}
	l.applyPage(backends.ListPage{Objects: []backends.ObjectInfo{{Key: "p/z", Size: 1}}}, log)
	want := []string{"a", "b/", "c/", "c~object", "m/", "z"}
	if got := entryNames(l.entries); !l.complete || !slices.Equal(got, want) {
		t.Errorf("entries = %q (complete %v), want %q", got, l.complete, want)
	}
}

func entryNames(es []Entry) []string {
	var out []string
	for _, e := range es {
		if e.Dir {
			out = append(out, e.Name+"/")
		} else {
			out = append(out, e.Name)
		}
	}
	return out
}
