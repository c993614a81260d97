package icos

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// IRI prefixes of the ICOS metadata.
const (
	specPrefix   = "http://meta.icos-cp.eu/resources/cpmeta/"
	objectPrefix = "https://meta.icos-cp.eu/objects/"
)

const queryPrefixes = `prefix cpmeta: <http://meta.icos-cp.eu/ontologies/cpmeta/>
prefix prov: <http://www.w3.org/ns/prov#>
prefix xsd: <http://www.w3.org/2001/XMLSchema#>
`

// typesQuery lists the data types as icoscp_core's list_datatypes does:
// specs with a data level, of the ICOS instance, not hidden from search.
const typesQuery = "# fuse:types\n" + queryPrefixes + `select distinct ?spec where {
	?spec cpmeta:hasDataLevel ?level .
	FILTER(STRSTARTS(str(?spec), "` + specPrefix + `"))
	FILTER NOT EXISTS {?spec cpmeta:hasAssociatedProject/cpmeta:hasHideFromSearchPolicy "true"^^xsd:boolean}
}
order by ?spec`

// objectsQuery is one page of the objects of one data type: the portal's
// data object list pattern (answered from its fast index), with the
// station optional, ordered by object for stable paging.
func objectsQuery(spec string, deprecated bool, offset, limit int) string {
	filter := "\tFILTER NOT EXISTS {[] cpmeta:isNextVersionOf ?dobj}\n"
	if deprecated {
		filter = ""
	}
	return "# fuse:objects\n" + queryPrefixes + `select ?dobj ?station ?fileName ?size ?submTime where {
	VALUES ?spec { <` + specPrefix + spec + `> }
	?dobj cpmeta:hasObjectSpec ?spec .
	OPTIONAL { ?dobj cpmeta:wasAcquiredBy/prov:wasAssociatedWith ?station }
	?dobj cpmeta:hasSizeInBytes ?size .
	?dobj cpmeta:hasName ?fileName .
	?dobj cpmeta:wasSubmittedBy/prov:endedAtTime ?submTime .
` + filter + `}
order by ?dobj offset ` + strconv.Itoa(offset) + ` limit ` + strconv.Itoa(limit)
}

// objectQuery looks up one object by id, deprecated or not.
func objectQuery(id string) string {
	return "# fuse:object\n" + queryPrefixes + `select ?dobj ?fileName ?size ?submTime where {
	VALUES ?dobj { <` + objectPrefix + id + `> }
	?dobj cpmeta:hasSizeInBytes ?size .
	?dobj cpmeta:hasName ?fileName .
	?dobj cpmeta:wasSubmittedBy/prov:endedAtTime ?submTime .
}`
}

// listTypes returns the data type names (spec IRI suffixes), sorted.
func (s *Store) listTypes(ctx context.Context) ([]string, error) {
	return s.types.get(ctx, s, "types", func(ctx context.Context) ([]string, error) {
		rows, err := s.query(ctx, typesQuery)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, r := range rows {
			name, ok := strings.CutPrefix(r["spec"], specPrefix)
			if ok && validSegment(name) && name != objectsDir {
				out = append(out, name)
			}
		}
		sort.Strings(out)
		return dedup(out), nil
	})
}

// typeTree returns the tree of one data type, fetching its pages.
func (s *Store) typeTree(ctx context.Context, spec string) (*tree, error) {
	return s.trees.get(ctx, s, spec, func(ctx context.Context) (*tree, error) {
		var objs []object
		for offset := 0; ; offset += s.cfg.PageSize {
			rows, err := s.query(ctx, objectsQuery(spec, s.cfg.ShowDeprecated, offset, s.cfg.PageSize))
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if o, ok := parseObject(r); ok {
					objs = append(objs, o)
				} else {
					s.log.Debug("skipping an unreadable SPARQL row", "type", spec, "row", r)
				}
			}
			if len(rows) < s.cfg.PageSize {
				break
			}
		}
		return buildTree(objs), nil
	})
}

// objectByID returns the object with the given canonical id, or nil.
func (s *Store) objectByID(ctx context.Context, id string) (*file, error) {
	return s.byID.get(ctx, s, id, func(ctx context.Context) (*file, error) {
		rows, err := s.query(ctx, objectQuery(id))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if o, ok := parseObject(r); ok && o.id == id {
				return &file{name: safeName(o.name), id: o.id, size: o.size, mod: o.mod}, nil
			}
		}
		return nil, nil
	})
}

// object is one row of an objects listing.
type object struct {
	id, station, name string
	size              int64
	mod               time.Time
}

func parseObject(r binding) (object, bool) {
	id, ok := strings.CutPrefix(r["dobj"], objectPrefix)
	if !ok {
		// Tolerate an http:// or other host form: the id is the last segment.
		id = r["dobj"][strings.LastIndexByte(r["dobj"], '/')+1:]
	}
	cid, err := ParseID(id)
	size, serr := strconv.ParseInt(r["size"], 10, 64)
	mod, terr := time.Parse(time.RFC3339Nano, r["submTime"])
	if err != nil || serr != nil || size < 0 || r["fileName"] == "" {
		return object{}, false
	}
	if terr != nil {
		mod = time.Unix(0, 0)
	}
	return object{id: cid, station: r["station"], name: r["fileName"], size: size, mod: mod}, true
}

func dedup(sorted []string) []string {
	out := sorted[:0]
	for i, x := range sorted {
		if i == 0 || x != sorted[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// validSegment reports whether s can be one path segment.
func validSegment(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// safeName makes a portal file name one path segment.
func safeName(s string) string {
	s = strings.NewReplacer("/", "_", "\x00", "_").Replace(s)
	if s == "." || s == ".." {
		return fmt.Sprintf("%s_", s)
	}
	return s
}
