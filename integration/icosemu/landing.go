package icosemu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// specInfo is what the emulator knows of a data type: label, data level,
// format, project and theme suffixes.
type specInfo struct {
	label                  string
	level                  int
	format, project, theme string
}

func specInfos() map[string]specInfo {
	eco := func(label string, level int) specInfo {
		return specInfo{label, level, "asciiEtcHalfHourlyProductTimeSer", "icos", "ecosystem"}
	}
	atc := func(label string, level int) specInfo {
		return specInfo{label, level, "asciiAtcProductTimeSer", "icos", "atmosphere"}
	}
	return map[string]specInfo{
		"atcCh4L2DataObject":         atc("ICOS ATC CH4 Release", 2),
		"atcCo2L2DataObject":         atc("ICOS ATC CO2 Release", 2),
		"atcCo2NrtGrowingDataObject": atc("ICOS ATC NRT CO2 growing time series", 1),
		"atcPicarroL0DataObject":     {"ICOS ATC Picarro data csv time series", 0, "asciiAtcTimeSer", "icos", "atmosphere"},
		"etcL2Fluxnet":               eco("ETC L2 Fluxnet (half-hourly)", 2),
		"etcL2Fluxes":                eco("ETC L2 Fluxes", 2),
		"etcNrtFluxes":               eco("ETC NRT Fluxes", 1),
		"etcNrtMeteo":                eco("ETC NRT Meteo", 1),
		"etcFluxnetProduct":          eco("Fluxnet Product", 2),
		"miscFluxnetProduct":         {"Fluxnet Product", 2, "asciiEtcHalfHourlyProductTimeSer", "misc", "ecosystem"},
		"etcBioMeteoRawSeriesBin":    {"ICOS ETC Bio Meteo Raw binary", 0, "binEtcRawTimeSer", "icos", "ecosystem"},
		"etcStorageFluxRawSeriesBin": {"ICOS ETC Storage Flux Raw binary", 0, "binEtcRawTimeSer", "icos", "ecosystem"},
		"ecoEcoDataObject":           {"Ecosystem eco data", 2, "asciiEtcTimeSer", "icos_sweden", "ecosystem"},
		"globalCarbonBudget":         {"Global Carbon Budget", 3, "excel", "gcp", "other"},
	}
}

// landing serves the meta host's /objects/<id>: the object's JSON
// metadata with Accept: application/json, an HTML page otherwise.
func (s *Server) landing(w http.ResponseWriter, r *http.Request, idText string) {
	id, ok := parseID(idText)
	o := s.byID[id]
	if !ok || o == nil {
		plain(w, http.StatusNotFound, "Page not found")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body><h1>%s</h1></body></html>", htmlEscape(o.FileName))
		return
	}
	const meta, cpmeta = "http://meta.icos-cp.eu/", "http://meta.icos-cp.eu/ontologies/cpmeta/"
	self := func(uri, label string) map[string]any { return map[string]any{"uri": uri, "label": label} }
	doc := map[string]any{
		"hash":              base64.RawURLEncoding.EncodeToString(o.Hash[:]),
		"fileName":          o.FileName,
		"pid":               "11676/" + o.ID,
		"submission":        map[string]any{"start": o.SubmTime.Add(-time.Minute), "stop": o.SubmTime},
		"parentCollections": []any{},
		"latestVersion":     ObjectPrefix + s.latest(o).ID,
	}
	if !o.Unfinished {
		doc["size"] = len(o.Data)
	}
	if !o.NotServed {
		doc["accessUrl"] = "https://data.icos-cp.eu/objects/" + o.ID
	}
	for _, x := range s.objects {
		if x.NextVersionOf == o.ID {
			doc["nextVersion"] = ObjectPrefix + x.ID
		}
	}
	lic := map[string]any{"url": cpmeta + "icosLicence", "name": "ICOS CCBY4 Data Licence"}
	if o.CC0 {
		lic = map[string]any{"url": "https://creativecommons.org/publicdomain/zero/1.0/", "name": "CC0 1.0"}
	}
	doc["references"] = map[string]any{"licence": lic}
	if sp, ok := specInfos()[o.Spec]; ok {
		doc["specification"] = map[string]any{
			"self":                self(SpecPrefix+o.Spec, sp.label),
			"dataLevel":           sp.level,
			"format":              map[string]any{"self": self(cpmeta+sp.format, sp.format)},
			"project":             map[string]any{"self": self(meta+"resources/projects/"+sp.project, sp.project)},
			"theme":               map[string]any{"self": self(meta+"resources/themes/"+sp.theme, sp.theme)},
			"specificDatasetType": "StationTimeSeries",
		}
		acq := map[string]any{"interval": map[string]any{"start": "2018-01-01T00:00:00Z", "stop": "2018-12-31T23:30:00Z"}}
		if o.Station != "" {
			acq["station"] = map[string]any{"id": o.Station[3:], "org": map[string]any{"self": self(StationPrefix+o.Station, o.Station[3:])}}
		}
		doc["specificInfo"] = map[string]any{"acquisition": acq}
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(doc)
}

// latest follows nextVersion links to the newest version of o.
func (s *Server) latest(o *Object) *Object {
	for {
		next := o
		for _, x := range s.objects {
			if x.NextVersionOf == o.ID {
				next = x
			}
		}
		if next == o {
			return o
		}
		o = next
	}
}
