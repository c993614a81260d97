package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/faultproxy"
	"github.com/earthmount/earthmount/integration/icosemu"
)

// TestFaultsICOS puts one faultproxy in front of each of the emulated
// portal's services: the login (cpauth) fails its first three tries with
// 500, 503 and 429 and must succeed on the fourth; the SPARQL endpoint and
// the data downloads fail a scripted round of every retryable fault (the
// quota 503, 429, 500, bodies cut, stalled, short and with a Content-Length
// larger than the body) and then 10% of requests in mixed ways. A walk of
// the tree and a read of every readable object must give the listed names
// and identical bytes, within a deadline (never a hang).
func TestFaultsICOS(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	proxy := func(path string, script []faultproxy.Fault, seed uint64) *faultproxy.Proxy {
		p, err := faultproxy.Start(faultproxy.Options{Upstream: emu.URL, Rate: faultRate, Stall: time.Second, Seed: seed, Script: script, BodyPOST: true,
			Eligible: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, path) }})
		need(t, err)
		t.Cleanup(func() { p.Close() })
		return p
	}
	var round []faultproxy.Fault
	for _, f := range faultproxy.Retryable() {
		round = append(round, f, faultproxy.None)
	}
	login := proxy("/auth/password/login", []faultproxy.Fault{faultproxy.Status500, faultproxy.SlowDown503, faultproxy.TooMany429}, 61)
	login.SetRate(0)
	meta := proxy("/meta/", round, 62)
	data := proxy("/data/", round, 63)
	extra := strings.NewReplacer(
		"meta_url: "+emu.MetaURL(), "meta_url: "+meta.URL+"/meta",
		"data_url: "+emu.DataURL(), "data_url: "+data.URL+"/data",
		"auth_url: "+emu.AuthURL(), "auth_url: "+login.URL+"/auth")
	addr := metricsAddr(t)
	m := h.mountICOSYAML(t, extra.Replace(emu.RemoteYAML("icos")), func(creds string) {
		writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, "")
	}, "--metrics-addr", addr)

	want := icosTree(emu, false)
	start := time.Now()
	var names []string
	within(t, 3*time.Minute, "walk", func() {
		need(t, filepath.WalkDir(m.root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(m.root, p)
				names = append(names, rel)
			}
			return err
		}))
	})
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(names)
	if !slices.Equal(names, keys) {
		t.Errorf("walk found\n%v\nwant\n%v", names, keys)
	}
	read := 0
	for key, o := range want {
		if o.NotServed || o.SubmTime.After(time.Now()) {
			continue // EACCES by design, not a fault
		}
		got, err := readAll(t, filepath.Join(m.root, key))
		if err != nil || !bytes.Equal(got, o.Data) {
			t.Errorf("%s: %d bytes, %v; want the %d bytes served", key, len(got), err, len(o.Data))
		}
		read++
	}
	wall := time.Since(start)
	if c := emu.Counts(); c.Logins[icosemu.TestUser] < 1 {
		t.Errorf("no login reached the portal: %+v", c)
	}
	metricsAtLeast(t, scrape(t, addr), []metricWant{
		{name: "earthmount_auth_renewals_total", labels: []string{`remote="icos"`, `source="icos_login"`}, min: 1},
		{name: "earthmount_retries_total", labels: []string{`remote="icos"`, `op="icos_login"`}, min: 3},
		{name: "earthmount_retries_total", labels: []string{`remote="icos"`, `op="sparql"`}, min: 1},
		{name: "earthmount_retries_total", labels: []string{`remote="icos"`, `op="download"`}, min: 1},
	})
	logRetries(t, "ICOS", addr, "icos")
	var requests, faults int64
	for _, p := range []*faultproxy.Proxy{login, meta, data} {
		st := p.Stats()
		requests += st.Requests
		faults += st.Faulted()
	}
	if st := login.Stats(); st.Faulted() != 3 || st.Requests != 4 {
		t.Errorf("login: %d requests, %d faults; want 3 failed tries and a fourth that works", st.Requests, st.Faulted())
	}
	result := "identical"
	if t.Failed() {
		result = "FAILED"
	}
	logClosingNote(t, "walk + read of every readable object (ICOS, login 3 faults, data/SPARQL scripted + 10%)", requests, faults, wall,
		result, peakRSS(m.PID()), strings.Count(readLog(m.LogPath()), "level=WARN"))
	t.Logf("%d objects read; proxies: login %+v, meta %+v, data %+v", read, login.Stats(), meta.Stats(), data.Stats())
}
