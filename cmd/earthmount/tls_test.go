package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// TestTLSIsVerified: every remote type refuses a server whose certificate
// no trusted CA signed (httptest's self-signed one) before sending a
// request, says why, and does not retry (no retry heals it).
func TestTLSIsVerified(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
	}))
	defer srv.Close()
	srv.Config.ErrorLog = nil
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, r := range []*config.Remote{
		{Name: "s3", Type: "s3", S3: &config.S3{Endpoint: srv.URL, Region: "us-east-1", Buckets: []string{"b"}, Anonymous: true}},
		{Name: "swift", Type: "swift", Swift: &config.Swift{AuthType: "v1", AuthURL: srv.URL + "/auth/v1.0",
			Username: "test:tester", Password: "testing", Containers: []string{"b"}}},
		{Name: "icos", Type: "icos", ICOS: &config.ICOS{MetaURL: srv.URL, DataURL: srv.URL, AuthURL: srv.URL}},
	} {
		t.Run(r.Type, func(t *testing.T) {
			st, err := newStore(t.Context(), r, nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = st.store.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("List took %v: a certificate error must fail at once, not after retries", took)
			}
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("List over TLS with an untrusted certificate: %v; want a certificate error", err)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the server got %d requests", n)
			}
		})
	}
}
