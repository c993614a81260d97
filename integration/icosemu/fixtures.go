package icosemu

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// Object is one fixture data (or document) object.
type Object struct {
	ID            string // 24-character hash id, minted from Data
	Hash          [32]byte
	FileName      string
	Spec          string // data type IRI suffix; "" for a document
	Station       string // station IRI suffix, e.g. "ES_BE-Lon"; "" for none
	Data          []byte
	SubmTime      time.Time // submission end; in the future: moratorium
	Unfinished    bool      // upload not completed: no size
	NotServed     bool      // no access URL (level 0 atmosphere data)
	CC0           bool      // public domain: served without login
	Document      bool      // document object: served without licence
	NextVersionOf string    // id of the object this one replaces
}

// Deprecated reports whether a newer version of o exists among objs.
func (o *Object) Deprecated(objs []*Object) bool {
	for _, x := range objs {
		if x.NextVersionOf == o.ID {
			return true
		}
	}
	return false
}

// Station IRIs and spec IRIs, as in the portal's metadata.
const (
	StationPrefix = "http://meta.icos-cp.eu/resources/stations/"
	SpecPrefix    = "http://meta.icos-cp.eu/resources/cpmeta/"
	ObjectPrefix  = "https://meta.icos-cp.eu/objects/"
)

// fixtures returns the standard objects and the data types (one of them,
// atcCh4L2DataObject, without objects). Real ids of data types and
// stations, real file names, synthetic bytes: the ids are minted from
// them, not the portal's.
func fixtures() ([]*Object, []string) {
	day := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	type spec struct {
		name, station, file string
		size                int
		subm                string
		variant             int
	}
	base := []spec{
		{"etcL2Fluxnet", "ES_BE-Lon", "ICOSETC_BE-Lon_FLUXNET_INTERIM_HH_L2.zip", 3_242_376, "2021-11-24T10:33:16.393578Z", 0},
		{"etcL2Fluxes", "ES_BE-Lon", "ICOSETC_BE-Lon_FLUXES_INTERIM_L2.zip", 947_978, "2021-10-21T15:54:38.087309Z", 0},
		{"etcNrtFluxes", "ES_FR-Pue", "ICOSETC_FR-Pue_FLUXES_NRT.zip", 231_289, "2022-08-12T05:04:00.526965Z", 0},
		{"etcFluxnetProduct", "ES_FI-Sii", "ICOSETC_FI-Sii_FLUXNET_HH_01.csv", 1_862_251, "2019-05-16T12:24:27.257Z", 0},
		{"etcFluxnetProduct", "ES_BE-Lon", "ICOSETC_BE-Lon_FLUXNET_HH_01.csv", 1_848_351, "2019-05-17T13:08:01.687Z", 0},
		{"miscFluxnetProduct", "ES_BE-Bra", "FLX_BE-Bra_FLUXNET2015_FULLSET_HH_1996-2018_beta-3.csv.zip", 24 << 20, "2019-07-12T10:19:30.710Z", 0},
		{"etcBioMeteoRawSeriesBin", "ES_BE-Lon", "BE-Lon_BM_20180905_L04_F18.dat", 156_619, "2018-09-06T00:10:03.592Z", 0},
		{"etcBioMeteoRawSeriesBin", "ES_BE-Lon", "BE-Lon_BM_20180906_L04_F18.dat", 155_020, "2018-09-07T00:10:04.120Z", 0},
		{"etcStorageFluxRawSeriesBin", "ES_DE-HoH", "DE-HoH_ST_20190530_L04_F01.bin", 276_480, "2019-05-31T00:06:22.943Z", 0},
		{"ecoEcoDataObject", "ES_SE-Svb", "SE-Svb_eco_2015-03_CP_flag.txt", 192_046, "2017-01-20T11:34:22.319Z", 0},
		{"atcCo2L2DataObject", "AS_GAT", "ICOS_ATC_L2_L2-2024.1_GAT_CO2.csv", 402_113, "2024-06-03T08:00:01.100Z", 0},
		{"atcCo2L2DataObject", "AS_GAT", "ICOS_ATC_L2_L2-2024.1_GAT_CO2.csv", 398_771, "2024-06-03T08:00:02.200Z", 1},
		{"atcCo2L2DataObject", "AS_HTM", "ICOS_ATC_L2_L2-2024.1_HTM_CO2.csv", 377_912, "2024-06-03T08:00:03.300Z", 0},
		{"atcCo2L2DataObject", "AS_JFJ", "ICOS_ATC_L2_L2-2024.1_JFJ_CO2.csv", 310_554, "2024-06-03T08:00:04.400Z", 0},
		{"atcCo2NrtGrowingDataObject", "AS_SMR", "ICOS_ATC_NRT_SMR_2025-11-01_2025-11-22_125.0_CO2.csv", 51_207, "2025-11-22T03:10:11.500Z", 0},
	}
	var objs []*Object
	add := func(o *Object, size, variant int) *Object {
		o.Data = content(o.FileName, size, variant)
		o.Hash = sha256.Sum256(o.Data)
		o.ID = base64.RawURLEncoding.EncodeToString(o.Hash[:18])
		objs = append(objs, o)
		return o
	}
	for _, b := range base {
		add(&Object{FileName: b.file, Spec: b.name, Station: b.station, SubmTime: day(b.subm)}, b.size, b.variant)
	}
	// A deprecated version: the same file name, replaced by the one above.
	old := add(&Object{FileName: "ICOSETC_BE-Lon_FLUXNET_INTERIM_HH_L2.zip", Spec: "etcL2Fluxnet", Station: "ES_BE-Lon",
		SubmTime: day("2021-06-01T09:00:00Z")}, 3_100_000, 7)
	for _, o := range objs {
		if o.Spec == "etcL2Fluxnet" && o != old {
			o.NextVersionOf = old.ID
		}
	}
	// Objects without a station, the newer replacing the older; CC0.
	gcb1 := add(&Object{FileName: "Global_Carbon_Budget_2017v1.1.xlsx", Spec: "globalCarbonBudget", CC0: true,
		SubmTime: day("2017-11-12T20:00:50.555Z")}, 161_000, 0)
	add(&Object{FileName: "Global_Carbon_Budget_2017v1.2.xlsx", Spec: "globalCarbonBudget", CC0: true,
		SubmTime: day("2017-12-01T16:20:08.512Z"), NextVersionOf: gcb1.ID}, 154_374, 0)
	// Level 0 atmosphere data: listed, not distributed.
	add(&Object{FileName: "ICOS_ATC_L0_HTM_Picarro_2024-06-01.csv", Spec: "atcPicarroL0DataObject", Station: "AS_HTM",
		NotServed: true, SubmTime: day("2024-06-02T01:00:00Z")}, 88_000, 0)
	// Under moratorium: submission ends in the future.
	add(&Object{FileName: "ICOSETC_FR-Pue_METEO_NRT.zip", Spec: "etcNrtMeteo", Station: "ES_FR-Pue",
		SubmTime: time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Millisecond)}, 120_000, 0)
	// Upload not completed: no size, never listed.
	add(&Object{FileName: "ICOSETC_FR-Pue_METEOSENS_NRT.zip", Spec: "etcNrtMeteo", Station: "ES_FR-Pue", Unfinished: true,
		SubmTime: day("2025-11-20T05:00:00Z")}, 90_000, 0)
	// A document object: no data type, served without licence.
	add(&Object{FileName: "ICOS RI Data Policy.pdf", Document: true, SubmTime: day("2019-03-06T13:37:55.127Z")}, 97_614, 0)

	specs := []string{"atcCh4L2DataObject"}
	seen := map[string]bool{}
	for _, o := range objs {
		if o.Spec != "" && !seen[o.Spec] {
			seen[o.Spec] = true
			specs = append(specs, o.Spec)
		}
	}
	return objs, specs
}

// content makes size reproducible bytes for a file: CSV-like text lines
// for text formats, pseudo-random bytes otherwise.
func content(name string, size, variant int) []byte {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s#%d", name, variant)
	r := rand.New(rand.NewPCG(h.Sum64(), 0x1c05))
	out := make([]byte, 0, size+128)
	if strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".txt") {
		out = append(out, "TIMESTAMP,CO2,CO2_SD,FLAG\n"...)
		t := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
		for len(out) < size {
			out = fmt.Appendf(out, "%s,%.3f,%.3f,%d\n", t.Format("200601021504"), 400+r.Float64()*20, r.Float64(), r.IntN(2))
			t = t.Add(30 * time.Minute)
		}
		return out[:size]
	}
	for len(out) < size {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			out = append(out, byte(v>>(8*j)))
		}
	}
	return out[:size]
}
