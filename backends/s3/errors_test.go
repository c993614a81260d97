package s3

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// checkError checks that err is a *backends.Error of the given kind whose
// message carries the hint and never the secret.
func checkError(t *testing.T, err error, op string, kind error, hint string) {
	t.Helper()
	var be *backends.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v (%T) is not a *backends.Error", err, err)
	}
	if be.Op != op || be.Remote != "test" {
		t.Errorf("Op %q Remote %q, want %q and \"test\"", be.Op, be.Remote, op)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %v is not %v", err, kind)
	}
	for _, other := range []error{backends.ErrNotExist, backends.ErrPermission, backends.ErrUnauthenticated, backends.ErrStale, backends.ErrThrottled, backends.ErrUnavailable} {
		if other != kind && errors.Is(err, other) {
			t.Errorf("error %v is also %v", err, other)
		}
	}
	if !strings.Contains(be.Hint, hint) || !strings.Contains(err.Error(), be.Hint) {
		t.Errorf("hint %q (message %q), want it to contain %q", be.Hint, err.Error(), hint)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Errorf("message %q contains the secret", err.Error())
	}
}

func TestErrorClassification(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		code      string
		anonymous bool
		kind      error // nil: no kind fits
		hint      string
	}{
		{"no such key", 404, "NoSuchKey", false, backends.ErrNotExist, ""},
		{"no such bucket", 404, "NoSuchBucket", false, backends.ErrNotExist, `bucket "b"`},
		{"plain 404", 404, "Whatever", false, backends.ErrNotExist, ""},
		{"access denied", 403, "AccessDenied", false, backends.ErrPermission, "not allowed"},
		{"access denied anonymous", 403, "AccessDenied", true, backends.ErrPermission, "anonymous access may not allow"},
		{"invalid key id", 403, "InvalidAccessKeyId", false, backends.ErrUnauthenticated, "check access_key_id/secret_access_key or profile"},
		{"versitygw unknown key", 404, "XAdminUserNotFound", false, backends.ErrUnauthenticated, "check access_key_id"},
		{"signature mismatch", 403, "SignatureDoesNotMatch", false, backends.ErrUnauthenticated, "check access_key_id"},
		{"expired token", 400, "ExpiredToken", false, backends.ErrUnauthenticated, "check access_key_id"},
		{"clock skew", 403, "RequestTimeTooSkewed", false, backends.ErrUnauthenticated, "clock"},
		{"plain 401", 401, "Unauthorized", false, backends.ErrUnauthenticated, "access keys from config"},
		{"precondition", 412, "PreconditionFailed", false, backends.ErrStale, ""},
		{"slow down", 503, "SlowDown", false, backends.ErrThrottled, "slow down"},
		{"too many requests", 429, "TooManyRequests", false, backends.ErrThrottled, "slow down"},
		{"internal error", 500, "InternalError", false, backends.ErrUnavailable, "check endpoint:"},
		{"bad gateway", 502, "BadGateway", false, backends.ErrUnavailable, "check endpoint:"},
		{"other 4xx", 400, "InvalidArgument", false, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isolateAWS(t)
			f := newFakeS3(t, "b")
			f.put("b", "k", []byte("data"))
			f.fail = func(*http.Request) (int, string) { return c.status, c.code }
			st := newTestStore(t, f, func(cfg *Config) {
				if c.anonymous {
					cfg.AccessKeyID, cfg.SecretAccessKey, cfg.Anonymous = "", "", true
				}
			})
			n, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "b/k", Version: "v", Size: 4}, make([]byte, 4), 0)
			if n != 0 {
				t.Errorf("ReadAt returned %d bytes", n)
			}
			checkError(t, err, "read", c.kind, c.hint)
			_, err = st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
			checkError(t, err, "list", c.kind, c.hint)
		})
	}
}

// TestStatusOnlyErrors covers HEAD, whose errors have a status but no body.
func TestStatusOnlyErrors(t *testing.T) {
	for _, c := range []struct {
		status int
		kind   error
	}{
		{404, backends.ErrNotExist},
		{403, backends.ErrPermission},
		{401, backends.ErrUnauthenticated},
		{503, backends.ErrThrottled},
		{500, backends.ErrUnavailable},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			isolateAWS(t)
			f := newFakeS3(t, "b")
			f.fail = func(*http.Request) (int, string) { return c.status, "" }
			_, err := newTestStore(t, f, nil).Stat(t.Context(), "b/k")
			checkError(t, err, "stat", c.kind, "")
		})
	}
}

// TestUnreachableEndpoint checks that a wrong endpoint fails fast, with the
// default retries, and names the endpoint.
func TestUnreachableEndpoint(t *testing.T) {
	isolateAWS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	st, err := New(t.Context(), Config{Remote: "test", Endpoint: endpoint, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
	checkError(t, err, "list", backends.ErrUnavailable, endpoint)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failing took %v", d)
	}
}
