package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// tlsStoreServer is an HTTPS server that answers as much of S3, Swift v1
// and ICOS as a root listing needs, with its certificate in a PEM file.
func tlsStoreServer(t *testing.T) (srv *httptest.Server, caFile string, requests *atomic.Int32) {
	t.Helper()
	requests = &atomic.Int32{}
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch {
		case strings.HasPrefix(r.URL.Path, "/auth/v1.0"):
			w.Header().Set("X-Auth-Token", "AUTH_tk0123")
			w.Header().Set("X-Storage-Url", "https://"+r.Host+"/v1/AUTH_test")
		case strings.HasPrefix(r.URL.Path, "/v1/"):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("[]"))
		case strings.HasSuffix(r.URL.Path, "/sparql"):
			w.Header().Set("Content-Type", "application/sparql-results+json")
			w.Write([]byte(`{"head":{"vars":[]},"results":{"bindings":[]}}`))
		default: // S3 ListObjectsV2
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`))
		}
	}))
	t.Cleanup(srv.Close)
	srv.Config.ErrorLog = nil
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, caFile, requests
}

// TestCABundle: with ca_bundle naming the server's certificate every
// remote type reaches the server; without it the certificate is refused
// (TestTLSIsVerified); verification stays on either way.
func TestCABundle(t *testing.T) {
	srv, caFile, requests := tlsStoreServer(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, r := range []*config.Remote{
		{Name: "s3", Type: "s3", S3: &config.S3{Endpoint: srv.URL, Region: "us-east-1", Buckets: []string{"b"}, Anonymous: true, CABundle: caFile}},
		{Name: "swift", Type: "swift", Swift: &config.Swift{AuthType: "v1", AuthURL: srv.URL + "/auth/v1.0",
			Username: "test:tester", Password: "testing", Containers: []string{"b"}, CABundle: caFile}},
		{Name: "icos", Type: "icos", ICOS: &config.ICOS{MetaURL: srv.URL, DataURL: srv.URL, AuthURL: srv.URL, CABundle: caFile}},
	} {
		t.Run(r.Type, func(t *testing.T) {
			before := requests.Load()
			st, err := newStore(t.Context(), r, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.store.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
			if err != nil && strings.Contains(err.Error(), "certificate") {
				t.Errorf("List with the server's CA in ca_bundle: %v", err)
			}
			if requests.Load() == before {
				t.Errorf("no request reached the server (err %v)", err)
			}
		})
	}
}

// TestCABundleErrors: an unreadable or wrong ca_bundle fails the remote
// at build time with a message naming the remote and the file.
func TestCABundleErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, file, says string
	}{
		{"missing file", filepath.Join(dir, "nope.pem"), "no such file"},
		{"not PEM", write("text.pem", "hello\n"), "no PEM certificate"},
		{"a key, not a certificate", write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), `"PRIVATE KEY" block`},
		{"broken certificate", write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1"},
	}
	for _, c := range cases {
		for _, r := range []*config.Remote{
			{Name: "osn", Type: "s3", S3: &config.S3{Endpoint: "https://127.0.0.1:1", Anonymous: true, CABundle: c.file}},
			{Name: "eosc", Type: "swift", Swift: &config.Swift{AuthType: "v1", AuthURL: "https://127.0.0.1:1/auth/v1.0", Username: "u", Password: "p", CABundle: c.file}},
			{Name: "portal", Type: "icos", ICOS: &config.ICOS{MetaURL: "https://127.0.0.1:1", DataURL: "https://127.0.0.1:1", AuthURL: "https://127.0.0.1:1", CABundle: c.file}},
		} {
			t.Run(c.name+"/"+r.Type, func(t *testing.T) {
				_, err := newStore(t.Context(), r, nil)
				if err == nil {
					t.Fatal("the remote was built")
				}
				for _, want := range []string{"remote " + r.Name, "ca_bundle", c.file, c.says} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
			})
		}
	}
}
