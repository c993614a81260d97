package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/faultproxy"
	"github.com/earthmount/earthmount/integration/keystoneemu"
	"github.com/earthmount/earthmount/integration/oidcemu"
	"github.com/earthmount/earthmount/integration/testenv"
)

// TestFaultsKeystone runs the pangeo-eosc chain with a faultproxy in front
// of every server: the OIDC issuer (discovery and refresh), Keystone
// (federated login and scoping) and Swift (30 ms per request). Tokens live
// 2 s, so the copies renew them again and again; the identity proxies fail a scripted round
// of 500, 503, 429, cut, stalled, short and over-long bodies, then 10% of
// requests; the storage proxy refuses the first tokens with 401 and then
// fails 10% of requests in all ways, 401 included. Six directories copied
// one after the other must be identical, and no login may end in EACCES.
func TestFaultsKeystone(t *testing.T) {
	h := newHarness(t)
	sw := startSwift(t)
	ctx := t.Context()
	client, err := sw.SwiftClient(ctx)
	need(t, err)
	const container = "eosc-faults"
	need(t, testenv.CreateContainer(ctx, client, container))
	src := t.TempDir()
	for d := range 6 {
		for f := range 8 {
			rel := fmt.Sprintf("d%d/f%d.bin", d, f)
			data := testenv.ContentBytes(container+"/"+rel, testenv.SizeFor(rel, 64<<10, 512<<10))
			need(t, os.MkdirAll(filepath.Join(src, fmt.Sprintf("d%d", d)), 0o755))
			need(t, os.WriteFile(filepath.Join(src, rel), data, 0o644))
			_, err := testenv.PutSwift(ctx, client, container, rel, data)
			need(t, err)
		}
	}

	proxy := func(upstream string, faults, script []faultproxy.Fault, seed uint64, delay time.Duration) *faultproxy.Proxy {
		p, err := faultproxy.Start(faultproxy.Options{Upstream: upstream, Rate: faultRate, Stall: time.Second, Seed: seed,
			Faults: faults, Script: script, BodyPOST: true, Delay: delay})
		need(t, err)
		t.Cleanup(func() { p.Close() })
		return p
	}
	var round []faultproxy.Fault
	for _, f := range faultproxy.Retryable() {
		round = append(round, f, faultproxy.None)
	}
	f := faultproxy.Unauth401
	n := faultproxy.None
	upstream, _ := splitStorageURL(t, client.Endpoint)
	storage := proxy(upstream, append(faultproxy.Retryable(), faultproxy.Unauth401), []faultproxy.Fault{f, n, n, f, n, n, n, f}, 71, 30*time.Millisecond)

	iss, err := oidcemu.Start(oidcemu.Options{Lifetime: 2 * time.Second})
	need(t, err)
	t.Cleanup(func() { iss.Close() })
	// Three failed tries in a row, then one that works: discovery, then
	// the first refresh, then the second.
	oidc := proxy(strings.TrimSuffix(iss.URL, "/auth/realms/egi"), nil, []faultproxy.Fault{
		faultproxy.Status500, faultproxy.SlowDown503, faultproxy.TooMany429, n,
		faultproxy.CutBody, faultproxy.StallBody, faultproxy.ShortLength, n,
		faultproxy.LongLength, n}, 72, 0)
	ks, err := keystoneemu.Start(keystoneemu.Options{
		Bearer: iss.Valid, ProjectID: eoscProject, ProjectName: "vo.pangeo.eu-swift", UserID: eoscUser,
		SwiftAuthURL: sw.AuthURL, SwiftUser: testenv.SwiftUser, SwiftKey: testenv.SwiftKey,
		TokenLifetime: 2 * time.Second, Region: "Brno1",
		CatalogURL: func(u string) string {
			_, path, _ := strings.Cut(strings.TrimPrefix(u, "http://"), "/")
			return storage.URL + "/" + path
		},
	})
	need(t, err)
	t.Cleanup(func() { ks.Close() })
	keystone := proxy(strings.TrimSuffix(ks.URL, "/v3"), nil, round, 73, 0)

	t.Setenv("OIDC_ISSUER", oidc.URL+"/auth/realms/egi")
	t.Setenv("OS_AUTH_URL", keystone.URL+"/v3")
	t.Setenv("OS_AUTH_TYPE", "v3oidcaccesstoken")
	t.Setenv("OS_IDENTITY_PROVIDER", "egi.eu")
	t.Setenv("OS_PROTOCOL", "openid")
	t.Setenv("OS_ACCESS_TOKEN", iss.AccessToken())
	t.Setenv("OS_PROJECT_ID", eoscProject)
	t.Setenv("OIDC_REFRESH_TOKEN", iss.RefreshToken())
	t.Setenv("OS_STORAGE_URL", "")
	e := &eoscEnv{h: h}
	addr := metricsAddr(t)
	m := e.mountEOSC(t, "", "eosc:"+container, "--log-level", "debug", "--metrics-addr", addr)

	start := time.Now()
	dst := t.TempDir()
	for d := range 6 {
		run(t, 2*time.Minute, "cp", "-r", filepath.Join(m.Dir, fmt.Sprintf("d%d", d)), dst)
	}
	compareTrees(t, src, dst)
	wall := time.Since(start)

	c, o := ks.Counts(), iss.Counts()
	if c["federated"] < 3 || o["refresh"] < 3 {
		t.Errorf("too few renewals to test: Keystone %v, OIDC %v", c, o)
	}
	log := m.Log()
	for _, bad := range []string{"login failed", "refuses fresh tokens", "filesystem operation failed"} {
		if strings.Contains(log, bad) {
			t.Errorf("the log says %q", bad)
		}
	}
	// The metrics count the renewals by source and the identity retries.
	metricsAtLeast(t, scrape(t, addr), []metricWant{
		{name: "earthmount_auth_renewals_total", labels: []string{`remote="eosc"`, `source="oidc_refresh"`}, min: 2},
		{name: "earthmount_auth_renewals_total", labels: []string{`remote="eosc"`, `source="keystone_federated"`}, min: 3},
		{name: "earthmount_auth_renewals_total", labels: []string{`remote="eosc"`, `source="keystone_scope"`}, min: 3},
		{name: "earthmount_retries_total", labels: []string{`remote="eosc"`, `op="oidc_discovery"`}, min: 3},
		{name: "earthmount_retries_total", labels: []string{`remote="eosc"`, `op="keystone_federated"`}, min: 1},
		{name: "earthmount_http_requests_total", labels: []string{`remote="eosc"`, `service="identity"`, `status="5xx"`}, min: 1},
		{name: "earthmount_http_requests_total", labels: []string{`remote="eosc"`, `service="storage"`, `status="4xx"`}, min: 3},
	})
	logRetries(t, "eosc chain", addr, "eosc")
	var requests, faults int64
	for _, p := range []*faultproxy.Proxy{oidc, keystone, storage} {
		st := p.Stats()
		requests += st.Requests
		faults += st.Faulted()
	}
	result := "identical"
	if t.Failed() {
		result = "FAILED"
	}
	logClosingNote(t, "cp -r of 6 dirs, eosc chain (OIDC, Keystone and Swift each faulty; tokens live 2 s)", requests, faults, wall,
		result, peakRSS(m.PID()), strings.Count(readLog(m.LogPath()), "level=WARN"))
	t.Logf("Keystone %v; OIDC %v; proxies: OIDC %+v, Keystone %+v, Swift %+v", c, o, oidc.Stats(), keystone.Stats(), storage.Stats())
}
