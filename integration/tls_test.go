package integration

import (
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestCABundleMount serves versitygw over HTTPS with a certificate no
// system CA signed: the remote whose ca_bundle names that certificate
// reads the file; the same remote without ca_bundle gets EIO and a log
// line about the certificate (verification is never skipped).
func TestCABundleMount(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket = "tls"
	need(t, v.CreateBucket(ctx, bucket))
	data := testenv.ContentBytes("tls/file.bin", 3<<20)
	_, err := v.Put(ctx, bucket, "file.bin", data)
	need(t, err)

	up, err := url.Parse(v.URL)
	need(t, err)
	srv := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(up)
		r.Out.Host = r.In.Host // the signature covers the Host the client saw
	}})
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	need(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))

	remote := func(ca string) map[string]any {
		r := v.Remote(bucket)
		m := map[string]any{"type": "s3", "endpoint": srv.URL, "region": r.Region, "buckets": r.Buckets,
			"access_key_id": r.AccessKeyID, "secret_access_key": r.SecretAccessKey}
		if ca != "" {
			m["ca_bundle"] = ca
		}
		return m
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	need(t, testenv.WriteRemotes(cfgPath, testenv.CacheConfig{}, map[string]map[string]any{"trusted": remote(caFile), "untrusted": remote("")}))
	t.Setenv("AWS_CA_BUNDLE", "")
	m := mountConfig(t, h, cfgPath, "")

	got, err := readAll(t, filepath.Join(m.Dir, "trusted", bucket, "file.bin"))
	if err != nil || string(got) != string(data) {
		t.Errorf("read with ca_bundle: %d bytes, %v; want the %d bytes", len(got), err, len(data))
	}
	var statErr error
	within(t, 30*time.Second, "stat without ca_bundle", func() {
		_, statErr = os.Stat(filepath.Join(m.Dir, "untrusted", bucket, "file.bin"))
	})
	if !errors.Is(statErr, syscall.EIO) {
		t.Errorf("stat without ca_bundle: %v, want EIO", statErr)
	}
	if line, ok := waitLogLine(m, []string{"untrusted", "certificate"}, 5*time.Second); ok {
		t.Logf("log: %s", line)
	} else {
		t.Errorf("no log line names the remote and the certificate")
	}
}
