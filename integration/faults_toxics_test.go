package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestToxicsS3 copies the ~64 MiB fault tree with cp -r through toxiproxy
// in front of versitygw: 10 ms of latency each way, 10% of connections
// reset by the peer 300 ms after they open, 10% closed after 1 MiB of
// response data, and 10% that stop sending after 512 KiB for 3 s (then
// closed). The copy must be identical.
func TestToxicsS3(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	tp := startToxiproxy(t)
	ctx := t.Context()
	const bucket = "toxics"
	need(t, v.CreateBucket(ctx, bucket))
	src := t.TempDir()
	writeFaultTree(t, src)
	_, err := v.WriteTree(bucket, "", src)
	need(t, err)
	px, err := tp.Proxy("toxics", v.URL)
	need(t, err)
	need(t, px.SetLatency(20*time.Millisecond))
	need(t, px.AddToxic("reset", "reset_peer", "downstream", 0.1, map[string]any{"timeout": 300}))
	need(t, px.AddToxic("cut", "limit_data", "downstream", 0.1, map[string]any{"bytes": 1 << 20}))
	need(t, px.AddToxic("stall", "timeout", "upstream", 0.05, map[string]any{"timeout": 3000}))
	remote := v.Remote(bucket)
	remote.Endpoint = px.URL

	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Memory: "64MiB"},
		Remotes: map[string]testenv.RemoteConfig{"toxic": remote},
	}})
	start := time.Now()
	dst := filepath.Join(t.TempDir(), "copy")
	run(t, 5*time.Minute, "cp", "-r", filepath.Join(m.Dir, "toxic", bucket), dst)
	compareTrees(t, src, dst)
	result := "identical"
	if t.Failed() {
		result = "FAILED"
	}
	logClosingNote(t, "cp -r (S3, toxiproxy: latency, resets, cut and stalled connections)", -1, -1, time.Since(start), result,
		peakRSS(m.PID()), strings.Count(readLog(m.LogPath()), "level=WARN"))
}
