package integration

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// silentListener accepts connections on 127.0.0.1 and never answers on
// them: a server that hangs, or a middlebox that swallows requests.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	need(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestBlackholeEndpoint points an S3 and a Swift remote at a server that
// takes connections and never answers: a stat must end in EIO within the
// 30 s metadata deadline (before it, 150 s for S3 and over 3 min for
// Swift: every attempt waited out its full response-header timeout).
func TestBlackholeEndpoint(t *testing.T) {
	h := newHarness(t)
	url := silentListener(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	need(t, testenv.WriteRemotes(cfgPath, testenv.CacheConfig{}, map[string]map[string]any{
		"s3hole": {"type": "s3", "endpoint": url, "region": "us-east-1", "buckets": []string{"b"}, "anonymous": true},
		"swifthole": {"type": "swift", "auth_type": "token", "auth_token": "AUTH_tk0", "storage_url": url + "/v1/AUTH_test",
			"containers": []string{"b"}},
	}))
	m := mountConfig(t, h, cfgPath, "")
	for _, remote := range []string{"s3hole", "swifthole"} {
		t.Run(remote, func(t *testing.T) {
			t.Parallel()
			var err error
			took := within(t, 3*time.Minute, "stat", func() { _, err = os.Stat(filepath.Join(m.Dir, remote, "b", "file")) })
			t.Logf("stat through a silent endpoint: %v after %v", err, took.Round(100*time.Millisecond))
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("stat: %v, want EIO", err)
			}
			if took > 45*time.Second {
				t.Errorf("EIO after %v; the bound is 30 s (the metadata deadline)", took)
			}
		})
	}
}
