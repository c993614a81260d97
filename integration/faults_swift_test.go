package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/integration/faultproxy"
	"github.com/earthmount/earthmount/integration/testenv"
)

// TestFaultsSwift copies the fault tree (2 GiB, or EARTHMOUNT_FAULT_TREE)
// with cp -r and rsync -a from the real Swift (SAIO, tempauth) through a
// faultproxy that fails 10% of the storage requests in the retryable ways
// and with 401. The login itself goes straight to Swift. A 401 drops the
// token and logs in again; random 401s must not trip auth.Cached's guard
// against a storage that refuses every fresh token (it counts only tokens
// refused before any success).
func TestFaultsSwift(t *testing.T) {
	h := newHarness(t)
	sw := startSwift(t)
	ctx := t.Context()
	client, err := sw.SwiftClient(ctx)
	need(t, err)
	const container = "faults"
	need(t, testenv.CreateContainer(ctx, client, container))
	start := time.Now()
	tree, size := faultTreeSpec(faultTreeSize(t))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for rel, n := range tree {
		g.Go(func() error { return testenv.PutSwiftStream(gctx, client, container, rel, testenv.Content(rel, n), n) })
	}
	need(t, g.Wait())
	t.Logf("tree of %d MiB uploaded in %v", size>>20, time.Since(start).Round(time.Millisecond))

	upstream, account := splitStorageURL(t, client.Endpoint)
	p, err := faultproxy.Start(faultproxy.Options{Upstream: upstream, Rate: faultRate, Stall: time.Second, Seed: 7,
		Faults: append(faultproxy.Retryable(), faultproxy.Unauth401)})
	need(t, err)
	t.Cleanup(func() { p.Close() })
	remote := sw.SwiftRemoteV1(container)
	remote["storage_url"] = p.URL + account

	for _, c := range []struct {
		name string
		copy func(t *testing.T, root, dst string)
	}{
		{"cp -r", func(t *testing.T, root, dst string) { run(t, 10*time.Minute, "cp", "-r", root+"/.", dst) }},
		{"rsync -a", func(t *testing.T, root, dst string) { run(t, 10*time.Minute, "rsync", "-a", root+"/", dst+"/") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfgPath := filepath.Join(t.TempDir(), "config.yaml")
			need(t, testenv.WriteRemotes(cfgPath, testenv.CacheConfig{Memory: "64MiB"}, map[string]map[string]any{"eosc": remote}))
			addr := metricsAddr(t)
			m := mountConfigArgs(t, h, cfgPath, "--metrics-addr", addr)
			before := p.Stats()
			start := time.Now()
			dst := t.TempDir()
			c.copy(t, filepath.Join(m.Dir, "eosc", container), dst)
			compareGenerated(t, dst, tree)
			wall := time.Since(start) // copy and check, as for S3
			after := p.Stats()
			result := "identical"
			if t.Failed() {
				result = "FAILED"
			}
			logRetries(t, c.name+" (Swift)", addr, "eosc")
			logClosingNote(t, fmt.Sprintf("%s (Swift, %d MiB tree, 10%% faults incl. 401)", c.name, size>>20), after.Requests-before.Requests,
				after.Faulted()-before.Faulted(), wall, result, peakRSS(m.PID()), strings.Count(readLog(m.LogPath()), "level=WARN"))
			t.Logf("401s injected: %d", after.Faults[faultproxy.Unauth401]-before.Faults[faultproxy.Unauth401])
		})
	}
}

// splitStorageURL splits "http://127.0.0.1:PORT/v1/AUTH_test/" into the
// server's base URL and the account path ("/v1/AUTH_test").
func splitStorageURL(t *testing.T, u string) (base, account string) {
	t.Helper()
	scheme, rest, _ := strings.Cut(u, "://")
	host, path, ok := strings.Cut(rest, "/")
	if !ok {
		t.Fatalf("storage URL %q has no account path", u)
	}
	return scheme + "://" + host, "/" + strings.TrimSuffix(path, "/")
}

// mountConfigArgs mounts every remote of the config at cfgPath with extra
// command-line flags.
func mountConfigArgs(t *testing.T, h *harness, cfgPath string, args ...string) *testenv.Mount {
	t.Helper()
	return h.mount(t, mountSpec{cfgPath: cfgPath, args: args})
}
