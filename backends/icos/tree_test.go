package icos

import (
	"encoding/hex"
	"slices"
	"testing"
	"time"
)

func TestParseID(t *testing.T) {
	// icos-api.md §4.1: a fixture object's SHA-256 and its ids.
	const sum = "86889dcea71aaa6094de6399e37e6bd9cac6e56bc7a8baa2393020b5bcfaad73"
	raw, _ := hex.DecodeString(sum)
	for _, in := range []string{"hoidzqcaqmCU3mOZ435r2crG", "hoidzqcaqmCU3mOZ435r2crG5WvHqLqiOTAgtbz6rXM", sum, "86889DCEA71AAA6094DE6399E37E6BD9CAC6E56BC7A8BAA2393020B5BCFAAD73"} {
		if got, err := ParseID(in); err != nil || got != "hoidzqcaqmCU3mOZ435r2crG" {
			t.Errorf("ParseID(%q) = %q, %v", in, got, err)
		}
	}
	if IDOf(raw) != "hoidzqcaqmCU3mOZ435r2crG" {
		t.Errorf("IDOf = %q", IDOf(raw))
	}
	for _, bad := range []string{"", "short", "hoidzqcaqmCU3mOZ435r2cr!", "zz889dcea71aaa6094de6399e37e6bd9cac6e56bc7a8baa2393020b5bcfaad73"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) succeeded", bad)
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://meta.icos-cp.eu/resources/stations/ES_BE-Lon", "BE-Lon"},
		{"http://meta.icos-cp.eu/resources/stations/AS_HTM", "HTM"},
		{"http://meta.icos-cp.eu/resources/stations/Lonzee", "Lonzee"},
		{"http://example.org/x/", "_"},
	} {
		if got := stationName(c.in); got != c.want {
			t.Errorf("stationName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// The portal's makeFileName.
	for _, c := range []struct {
		base string
		i    int
		want string
	}{
		{"a.csv", 1, "a(1).csv"},
		{"FLX.csv.zip", 2, "FLX.csv(2).zip"},
		{"README", 1, "README(1)"},
	} {
		if got := clashName(c.base, c.i); got != c.want {
			t.Errorf("clashName(%q, %d) = %q, want %q", c.base, c.i, got, c.want)
		}
	}
}

func TestBuildTree(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC) }
	st := "http://meta.icos-cp.eu/resources/stations/"
	tr := buildTree([]object{
		{id: "c", station: st + "AS_GAT", name: "x.csv", mod: at(3)},
		{id: "a", station: st + "AS_GAT", name: "x.csv", mod: at(1)},
		{id: "b", station: st + "AS_GAT", name: "x(1).csv", mod: at(2)},
		{id: "d", name: "budget.xlsx", mod: at(1)},
		{id: "e", station: st + "ES_GAT", name: "y.csv", mod: at(1)}, // "GAT" twice: full suffixes
	})
	want := []string{"AS_GAT/x(1).csv", "AS_GAT/x(2).csv", "AS_GAT/x.csv", "ES_GAT/y.csv", "budget.xlsx"}
	if !slices.Equal(tr.flat, want) {
		t.Errorf("keys %q, want %q", tr.flat, want)
	}
	// Oldest first takes the plain name; a real "x(1).csv" keeps its name.
	for rel, id := range map[string]string{"AS_GAT/x.csv": "a", "AS_GAT/x(1).csv": "b", "AS_GAT/x(2).csv": "c"} {
		if tr.files[rel].id != id {
			t.Errorf("%s is %s, want %s", rel, tr.files[rel].id, id)
		}
	}
	var top []string
	for _, e := range tr.dirs[""] {
		top = append(top, e.rel)
	}
	if !slices.Equal(top, []string{"AS_GAT/", "ES_GAT/", "budget.xlsx"}) {
		t.Errorf("top = %q", top)
	}
}
