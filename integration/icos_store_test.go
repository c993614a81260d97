package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/icos"
	"github.com/earthmount/earthmount/backends/storetest"
	"github.com/earthmount/earthmount/integration/icosemu"
)

// startICOS starts an ICOS portal emulator for the test.
func startICOS(t *testing.T, opts icosemu.Options) *icosemu.Server {
	t.Helper()
	if opts.FailureDelay == 0 {
		opts.FailureDelay = 50 * time.Millisecond
	}
	emu := icosemu.New(opts)
	need(t, emu.Start(t.Context(), "127.0.0.1:0"))
	t.Cleanup(func() { emu.Close() })
	return emu
}

// icosStore is backends/icos against emu, logged in as the test account
// unless anonymous, with fast retries.
func icosStore(t *testing.T, emu *icosemu.Server, anonymous bool) *icos.Store {
	t.Helper()
	cfg := icos.Config{Remote: "icos", MetaURL: emu.MetaURL(), DataURL: emu.DataURL(), AuthURL: emu.AuthURL(),
		RetryBase: 10 * time.Millisecond, PageSize: 4, TempDir: t.TempDir()}
	if !anonymous {
		src, err := auth.NewICOSSource(auth.ICOSOptions{AuthURL: emu.AuthURL(), Username: icosemu.TestUser, Password: icosemu.TestPassword})
		need(t, err)
		cfg.Auth = src
	}
	st, err := icos.New(cfg)
	need(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// icosTree is the tree the emulator's fixtures must show, written out
// independently of backends/icos: key -> fixture object.
func icosTree(emu *icosemu.Server, deprecated bool) map[string]*icosemu.Object {
	objs := append([]*icosemu.Object(nil), emu.Objects()...)
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].SubmTime.Before(objs[j].SubmTime) })
	tree := map[string]*icosemu.Object{}
	for _, o := range objs {
		if o.Spec == "" || o.Unfinished || (!deprecated && o.Deprecated(emu.Objects())) {
			continue
		}
		dir := o.Spec + "/"
		if o.Station != "" {
			dir += o.Station[3:] + "/" // "ES_BE-Lon" -> "BE-Lon"
		}
		name := o.FileName
		for i := 1; tree[dir+name] != nil; i++ {
			dot := strings.LastIndexByte(o.FileName, '.')
			name = fmt.Sprintf("%s(%d)%s", o.FileName[:dot], i, o.FileName[dot:])
		}
		tree[dir+name] = o
	}
	return tree
}

// TestICOSContract runs the storetest contract suite (read-only form)
// against backends/icos and the emulator, with 4-row SPARQL pages.
func TestICOSContract(t *testing.T) {
	emu := startICOS(t, icosemu.Options{})
	var objs []storetest.Object
	var unreadable []string
	for key, o := range icosTree(emu, false) {
		objs = append(objs, storetest.Object{Key: key, Data: o.Data})
		if o.NotServed || o.SubmTime.After(time.Now()) {
			unreadable = append(unreadable, key)
		}
	}
	storetest.RunReadOnly(t, storetest.ReadOnlyFactory{
		New:        func(t *testing.T) backends.Store { return icosStore(t, emu, false) },
		Objects:    objs,
		Unreadable: unreadable,
		EmptyDirs:  []string{"atcCh4L2DataObject/", "objects/"},
	})
}

// TestICOSStoreFaults checks what the portal's failures become.
func TestICOSStoreFaults(t *testing.T) {
	emu := startICOS(t, icosemu.Options{})
	read := func(st *icos.Store, key string) ([]byte, error) {
		info, err := st.Stat(t.Context(), key)
		if err != nil {
			return nil, err
		}
		p := make([]byte, info.Size+1)
		n, err := st.ReadAt(t.Context(), info.Ref(), p, 0)
		if err == io.EOF && int64(n) == info.Size {
			err = nil
		}
		return p[:n], err
	}
	const flux = "etcFluxnetProduct/BE-Lon/ICOSETC_BE-Lon_FLUXNET_HH_01.csv"
	fluxObj := icosTree(emu, false)[flux]

	t.Run("quota 503 is retried", func(t *testing.T) {
		st := icosStore(t, emu, true)
		emu.FailQueries(2)
		before := emu.Counts().QueryTotal()
		page, err := st.List(t.Context(), backends.ListRequest{Delimiter: "/"})
		if err != nil || len(page.Prefixes) == 0 {
			t.Fatalf("List of the root after two 503s = %+v, %v", page, err)
		}
		if n := emu.Counts().QueryTotal() - before; n != 3 {
			t.Errorf("%d SPARQL queries for one listing with two 503s, want 3", n)
		}
	})
	t.Run("quota 503 serves the cached listing", func(t *testing.T) {
		now := time.Now()
		clock := func() time.Time { return now }
		st, err := icos.New(icos.Config{MetaURL: emu.MetaURL(), DataURL: emu.DataURL(), AuthURL: emu.AuthURL(),
			RetryBase: time.Millisecond, MaxRetries: 2, MetaTTL: time.Minute, Now: clock, TempDir: t.TempDir()})
		need(t, err)
		defer st.Close()
		want, err := st.List(t.Context(), backends.ListRequest{Prefix: "etcFluxnetProduct/", Delimiter: "/"})
		need(t, err)
		now = now.Add(2 * time.Minute) // the listing is out of date
		emu.FailQueries(1000)
		defer emu.FailQueries(0)
		before := emu.Counts().QueryTotal()
		for range 5 {
			got, err := st.List(t.Context(), backends.ListRequest{Prefix: "etcFluxnetProduct/", Delimiter: "/"})
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("List while throttled = %+v, %v; want the cached %+v", got, err, want)
			}
		}
		if n := emu.Counts().QueryTotal() - before; n > 6 {
			t.Errorf("%d SPARQL queries for five listings while throttled, want one refresh of the types and one of the data type (3 tries each)", n)
		}
	})
	t.Run("broken download resumes", func(t *testing.T) {
		st := icosStore(t, emu, false)
		emu.DropDownloads(1, 300_000)
		before := emu.Counts().Downloads[fluxObj.ID]
		got, err := read(st, flux)
		if err != nil || !bytes.Equal(got, fluxObj.Data) {
			t.Fatalf("read after a broken connection: %d bytes, %v", len(got), err)
		}
		if n := emu.Counts().Downloads[fluxObj.ID] - before; n != 2 {
			t.Errorf("%d GETs with bytes, want 2 (the broken one and one resumed range)", n)
		}
	})
	t.Run("500 is retried", func(t *testing.T) {
		st := icosStore(t, emu, false)
		const key = "etcNrtFluxes/FR-Pue/ICOSETC_FR-Pue_FLUXES_NRT.zip"
		emu.FailDownloads(2)
		if got, err := read(st, key); err != nil || !bytes.Equal(got, icosTree(emu, false)[key].Data) {
			t.Errorf("read after two 500s: %d bytes, %v", len(got), err)
		}
	})
	t.Run("corrupt bytes are EIO", func(t *testing.T) {
		st := icosStore(t, emu, false)
		const key = "etcL2Fluxes/BE-Lon/ICOSETC_BE-Lon_FLUXES_INTERIM_L2.zip"
		emu.Corrupt(icosTree(emu, false)[key].ID)
		got, err := read(st, key)
		if !errors.Is(err, backends.ErrUnavailable) || len(got) != 0 {
			t.Errorf("read of corrupted content = %d bytes, %v; want no bytes and ErrUnavailable", len(got), err)
		}
	})
	t.Run("anonymous read of licensed data", func(t *testing.T) {
		st := icosStore(t, emu, true)
		_, err := read(st, flux)
		if !errors.Is(err, backends.ErrPermission) {
			t.Errorf("anonymous read = %v, want ErrPermission", err)
		}
	})
	t.Run("not distributed and moratorium", func(t *testing.T) {
		st := icosStore(t, emu, false)
		for _, key := range []string{
			"atcPicarroL0DataObject/HTM/ICOS_ATC_L0_HTM_Picarro_2024-06-01.csv",
			"etcNrtMeteo/FR-Pue/ICOSETC_FR-Pue_METEO_NRT.zip",
		} {
			if _, err := read(st, key); !errors.Is(err, backends.ErrPermission) {
				t.Errorf("read %s = %v, want ErrPermission", key, err)
			}
		}
	})
	t.Run("objects by id", func(t *testing.T) {
		st := icosStore(t, emu, true)
		doc := emu.Object("ICOS RI Data Policy.pdf")
		before := emu.Counts().QueryTotal()
		page, err := st.List(t.Context(), backends.ListRequest{Prefix: "objects/", Delimiter: "/"})
		if err != nil || len(page.Objects)+len(page.Prefixes) != 0 || emu.Counts().QueryTotal() != before {
			t.Errorf("List(objects/) = %+v, %v, %d queries; want nothing for free", page, err, emu.Counts().QueryTotal()-before)
		}
		hex := fmt.Sprintf("%x", doc.Hash)
		for _, id := range []string{doc.ID, hex} {
			got, err := read(st, "objects/"+id+"/"+doc.FileName)
			if err != nil || !bytes.Equal(got, doc.Data) {
				t.Errorf("read objects/%s/...: %d bytes, %v", id, len(got), err)
			}
		}
	})
	t.Run("fixtures agree with the JSON metadata", func(t *testing.T) {
		for key, o := range icosTree(emu, true) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, emu.MetaURL()+"/objects/"+o.ID, nil)
			req.Header.Set("Accept", "application/json")
			resp, err := http.DefaultClient.Do(req)
			need(t, err)
			var doc struct {
				FileName string `json:"fileName"`
				Size     int    `json:"size"`
				Hash     string `json:"hash"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err != nil || doc.FileName != o.FileName || doc.Size != len(o.Data) || !strings.HasPrefix(doc.Hash, o.ID) {
				t.Errorf("%s: JSON metadata %+v, %v", key, doc, err)
			}
		}
	})
}
