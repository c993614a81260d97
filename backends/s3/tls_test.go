package s3

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestBadCertificateNotRetried: a server whose certificate no trusted CA
// signed gets one TLS handshake, not one per retry, and the error says
// "certificate".
func TestBadCertificateNotRetried(t *testing.T) {
	isolateAWS(t)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = nil
	srv.StartTLS()
	defer srv.Close()
	st, err := New(t.Context(), Config{Remote: "tls", Endpoint: srv.URL, Buckets: []string{"b"}, Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Stat(t.Context(), "b/k")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Stat over an untrusted certificate: %v; want a certificate error", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d TLS connections; want 1 (a bad certificate is not retried)", n)
	}
}
