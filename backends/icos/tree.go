package icos

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// objectsDir is the root directory of lookups by id.
const objectsDir = "objects"

// file is one data object as a file.
type file struct {
	name string // file name in its directory (clashes resolved)
	id   string
	size int64
	mod  time.Time
}

// entry is one item of a directory listing: a sub-directory (rel ends in
// "/") or a file.
type entry struct {
	rel string // relative to the data type directory
	f   *file  // nil for a directory
}

// tree is the listing of one data type: its station directories and the
// files in them, and the files without a station.
type tree struct {
	files map[string]*file   // rel key -> file
	dirs  map[string][]entry // "" or "<station>/" -> sorted entries
	flat  []string           // every rel file key, sorted
}

// buildTree names the objects of one data type: station directories by
// stationName (the full IRI suffix where two stations would clash), and
// files by uniqueNames.
func buildTree(objs []object) *tree {
	byStation := map[string][]object{}
	for _, o := range objs {
		byStation[o.station] = append(byStation[o.station], o)
	}
	short := map[string][]string{} // short name -> station IRIs
	for iri := range byStation {
		if iri != "" {
			short[stationName(iri)] = append(short[stationName(iri)], iri)
		}
	}
	t := &tree{files: map[string]*file{}, dirs: map[string][]entry{}}
	for iri, group := range byStation {
		dir := ""
		if iri != "" {
			name := stationName(iri)
			if len(short[name]) > 1 {
				name = iriSuffix(iri)
			}
			dir = name + "/"
			t.dirs[""] = append(t.dirs[""], entry{rel: dir})
		}
		for _, f := range uniqueNames(group) {
			rel := dir + f.name
			t.files[rel] = f
			t.flat = append(t.flat, rel)
			t.dirs[dir] = append(t.dirs[dir], entry{rel: rel, f: f})
		}
	}
	for _, es := range t.dirs {
		sort.Slice(es, func(i, j int) bool { return es[i].rel < es[j].rel })
	}
	if _, ok := t.dirs[""]; !ok {
		t.dirs[""] = nil
	}
	sort.Strings(t.flat)
	return t
}

// uniqueNames names the files of one directory as the portal's zip
// download does: oldest submission first, each taking its file name, or
// the first of "name(1).ext", "name(2).ext", ... not taken yet.
func uniqueNames(group []object) []*file {
	sort.Slice(group, func(i, j int) bool {
		a, b := group[i], group[j]
		if !a.mod.Equal(b.mod) {
			return a.mod.Before(b.mod)
		}
		return a.id < b.id
	})
	used := map[string]bool{}
	out := make([]*file, 0, len(group))
	for _, o := range group {
		base := safeName(o.name)
		name := base
		for i := 1; used[name]; i++ {
			name = clashName(base, i)
		}
		used[name] = true
		out = append(out, &file{name: name, id: o.id, size: o.size, mod: o.mod})
	}
	return out
}

// clashName is the portal's makeFileName: "(i)" before the last
// extension, or at the end of a name without a dot.
func clashName(base string, i int) string {
	n := "(" + strconv.Itoa(i) + ")"
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return base + n
	}
	return base[:dot] + n + base[dot:]
}

// stationName is the directory of a station: its IRI suffix without the
// class prefix ("ES_BE-Lon" -> "BE-Lon").
func stationName(iri string) string {
	suf := iriSuffix(iri)
	if len(suf) > 3 && suf[2] == '_' && isUpper(suf[0]) && isUpper(suf[1]) {
		return suf[3:]
	}
	return suf
}

func iriSuffix(iri string) string {
	s := safeName(iri[strings.LastIndexByte(iri, '/')+1:])
	if s == "" {
		return "_"
	}
	return s
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
