package icosemu

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The parts of backends/icos's query templates the emulator reads. It is
// no SPARQL engine: it dispatches on the "# fuse:<name>" comment and
// applies VALUES, the deprecation filter and OFFSET/LIMIT.
type sparqlParts struct {
	name          string
	specs, dobjs  []string
	latestOnly    bool
	offset, limit int
}

func parseQuery(q string) (sparqlParts, bool) {
	m := regexp.MustCompile(`(?m)^# fuse:(\w+)`).FindStringSubmatch(q)
	if m == nil {
		return sparqlParts{}, false
	}
	p := sparqlParts{name: m[1], limit: -1}
	values := regexp.MustCompile(`VALUES \?(\w+) \{([^}]*)\}`)
	iri := regexp.MustCompile(`<([^>]*)>`)
	for _, v := range values.FindAllStringSubmatch(q, -1) {
		for _, i := range iri.FindAllStringSubmatch(v[2], -1) {
			switch v[1] {
			case "spec":
				p.specs = append(p.specs, strings.TrimPrefix(i[1], SpecPrefix))
			case "dobj":
				p.dobjs = append(p.dobjs, strings.TrimPrefix(i[1], ObjectPrefix))
			}
		}
	}
	p.latestOnly = strings.Contains(q, "FILTER NOT EXISTS {[] cpmeta:isNextVersionOf ?dobj}")
	if m := regexp.MustCompile(`offset (\d+)`).FindStringSubmatch(q); m != nil {
		p.offset, _ = strconv.Atoi(m[1])
	}
	if m := regexp.MustCompile(`limit (\d+)`).FindStringSubmatch(q); m != nil {
		p.limit, _ = strconv.Atoi(m[1])
	}
	return p, true
}

// serveMeta is the meta host's /sparql (POST text or form, GET ?query=).
func (s *Server) serveMeta(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/objects/"); ok {
		s.landing(w, r, id)
		return
	}
	if r.URL.Path != "/sparql" {
		plain(w, http.StatusNotFound, "Page not found")
		return
	}
	var q string
	switch {
	case r.Method == http.MethodGet:
		q = r.URL.Query().Get("query")
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		r.ParseForm()
		q = r.PostForm.Get("query")
	default:
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		q = string(b)
	}
	p, ok := parseQuery(q)
	s.mu.Lock()
	s.queries[p.name]++
	quota := s.fail503 > 0
	if quota {
		s.fail503--
	}
	s.mu.Unlock()
	switch {
	case quota:
		plain(w, http.StatusServiceUnavailable, "You have exceeded your per-minute query quota. Please wait 1 minute before making new queries.")
		return
	case !ok:
		plain(w, http.StatusBadRequest, "Query parse error: the emulator knows only backends/icos's '# fuse:' queries")
		return
	}
	var vars []string
	var rows []map[string]cell
	switch p.name {
	case "types":
		vars = []string{"spec"}
		for _, sp := range s.specs {
			rows = append(rows, map[string]cell{"spec": uri(SpecPrefix + sp)})
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i]["spec"].Value < rows[j]["spec"].Value })
	case "objects", "object":
		vars = []string{"dobj", "station", "fileName", "size", "submTime"}
		rows = s.objectRows(p)
	default:
		plain(w, http.StatusBadRequest, "unknown query "+p.name)
		return
	}
	if p.offset > 0 {
		rows = rows[min(p.offset, len(rows)):]
	}
	if p.limit >= 0 {
		rows = rows[:min(p.limit, len(rows))]
	}
	w.Header().Set("Content-Type", "application/sparql-results+json; charset=UTF-8")
	w.Header().Set("X-Cache-Status", "MISS")
	json.NewEncoder(w).Encode(map[string]any{
		"head":    map[string]any{"vars": vars},
		"results": map[string]any{"bindings": rows},
	})
}

// cell is one SPARQL JSON value.
type cell struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Datatype string `json:"datatype,omitempty"`
}

func uri(v string) cell { return cell{Type: "uri", Value: v} }

const xsd = "http://www.w3.org/2001/XMLSchema#"

// objectRows selects the objects a "objects" or "object" query asks for,
// ordered by object IRI. Objects without a size (unfinished uploads) and
// documents without a data type never match the data type pattern.
func (s *Server) objectRows(p sparqlParts) []map[string]cell {
	var rows []map[string]cell
	for _, o := range s.objects {
		switch {
		case o.Unfinished:
			continue
		case p.name == "objects" && (o.Spec == "" || !contains(p.specs, o.Spec)):
			continue
		case p.name == "object" && !contains(p.dobjs, o.ID):
			continue
		case p.latestOnly && o.Deprecated(s.objects):
			continue
		}
		row := map[string]cell{
			"dobj":     uri(ObjectPrefix + o.ID),
			"fileName": {Type: "literal", Value: o.FileName},
			"size":     {Type: "literal", Value: strconv.Itoa(len(o.Data)), Datatype: xsd + "long"},
			"submTime": {Type: "literal", Value: o.SubmTime.UTC().Format(time.RFC3339Nano), Datatype: xsd + "dateTime"},
		}
		if o.Station != "" && p.name == "objects" {
			row["station"] = uri(StationPrefix + o.Station)
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i]["dobj"].Value < rows[j]["dobj"].Value })
	return rows
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
