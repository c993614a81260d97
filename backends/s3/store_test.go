package s3

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/storetest"
)

const (
	testKeyID  = "AKIDEARTHMOUNTTEST"
	testSecret = "earthmount-test-secret-do-not-log"
)

// isolateAWS clears every AWS setting of the environment and points HOME
// at an empty directory, so that tests see only what they set.
func isolateAWS(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_EC2_METADATA_DISABLED",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_DEFAULTS_MODE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS",
		"AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION"} {
		t.Setenv(v, "")
	}
	return home
}

// newTestStore builds a Store with test keys against f; edit adjusts cfg.
func newTestStore(t *testing.T, f *fakeS3, edit func(*Config)) *Store {
	t.Helper()
	cfg := Config{Remote: "test", Endpoint: f.srv.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret, MaxAttempts: 1}
	if edit != nil {
		edit(&cfg)
	}
	st, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return st
}

func TestContract(t *testing.T) {
	for _, c := range []struct {
		name    string
		buckets []string
	}{
		{"configured buckets", []string{"fixture", "other-a", "zz"}},
		{"ListBuckets", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			isolateAWS(t)
			f := newFakeS3(t, "fixture", "other-a", "zz")
			f.put("other-a", "x/y", []byte("other"))
			f.put("zz", "last", []byte("last"))
			storetest.Run(t, storetest.Factory{
				Root:         "fixture/",
				Capabilities: storetest.Capabilities{Buckets: true},
				New: func(t *testing.T, fixture []storetest.Object) backends.Store {
					for _, o := range fixture {
						bucket, key, _ := strings.Cut(o.Key, "/")
						f.put(bucket, key, o.Data)
					}
					return newTestStore(t, f, func(cfg *Config) { cfg.Buckets = c.buckets })
				},
				Overwrite: func(_ context.Context, key string, data []byte) error {
					bucket, object, _ := strings.Cut(key, "/")
					f.put(bucket, object, data)
					return nil
				},
			})
			checkRequests(t, f.recorded(), true)
		})
	}
}

// checkRequests fails on checksum trailers or aws-chunked bodies (Ceph RGW
// rejects them) and on signing that does not match signed.
func checkRequests(t *testing.T, reqs []*http.Request, signed bool) {
	t.Helper()
	if len(reqs) == 0 {
		t.Fatal("the server saw no requests")
	}
	for _, r := range reqs {
		for name := range r.Header {
			if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum") || l == "x-amz-trailer" || l == "x-amz-sdk-checksum-algorithm" {
				t.Errorf("%s %s sent header %s", r.Method, r.URL, name)
			}
		}
		if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
			t.Errorf("%s %s sent an aws-chunked body", r.Method, r.URL)
		}
		auth := r.Header.Get("Authorization")
		if signed != strings.Contains(auth, "Credential="+testKeyID+"/") {
			t.Errorf("%s %s: Authorization %q, want signed=%v with the test key", r.Method, r.URL, auth, signed)
		}
		if strings.Contains(auth, testSecret) {
			t.Errorf("%s %s: the secret key is in a header", r.Method, r.URL)
		}
	}
}

func TestReadAtSendsRangeAndIfMatch(t *testing.T) {
	isolateAWS(t)
	f := newFakeS3(t, "b")
	f.put("b", "k", []byte("0123456789"))
	st := newTestStore(t, f, nil)
	info, err := st.Stat(t.Context(), "b/k")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 4)
	if n, err := st.ReadAt(t.Context(), info.Ref(), p, 3); n != 4 || err != nil || string(p) != "3456" {
		t.Fatalf("ReadAt = %d, %v, %q; want 4, nil, \"3456\"", n, err, p)
	}
	reqs := f.recorded()
	get := reqs[len(reqs)-1]
	if got := get.Header.Get("Range"); got != "bytes=3-6" {
		t.Errorf("Range = %q, want bytes=3-6", got)
	}
	if got := get.Header.Get("If-Match"); got != `"`+info.Version+`"` {
		t.Errorf("If-Match = %q, want the quoted ETag %q", got, info.Version)
	}
	// The range is clamped to the known size.
	if n, err := st.ReadAt(t.Context(), info.Ref(), make([]byte, 100), 8); n != 2 || err != io.EOF {
		t.Errorf("ReadAt across the end = %d, %v; want 2, io.EOF", n, err)
	}
	reqs = f.recorded()
	if got := reqs[len(reqs)-1].Header.Get("Range"); got != "bytes=8-9" {
		t.Errorf("Range = %q, want bytes=8-9", got)
	}
	checkRequests(t, reqs, true)
}

func TestAnonymousRequestsAreUnsigned(t *testing.T) {
	isolateAWS(t)
	f := newFakeS3(t, "b")
	f.put("b", "k", []byte("data"))
	st := newTestStore(t, f, func(c *Config) { c.AccessKeyID, c.SecretAccessKey, c.Anonymous = "", "", true })
	if _, err := st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "b/k", Size: -1}, make([]byte, 4), 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.recorded() {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("%s %s: anonymous request carries Authorization %q", r.Method, r.URL, a)
		}
	}
	checkRequests(t, f.recorded(), false)
}

// TestClientOptions pins the settings that matter for non-AWS servers.
func TestClientOptions(t *testing.T) {
	isolateAWS(t)
	f := newFakeS3(t, "b")
	st := newTestStore(t, f, func(cfg *Config) { cfg.MaxAttempts = 0 })
	o := st.client.Options()
	if o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired || o.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenRequired {
		t.Errorf("checksum calculation %v, validation %v; want both when-required", o.RequestChecksumCalculation, o.ResponseChecksumValidation)
	}
	if !o.UsePathStyle || aws.ToString(o.BaseEndpoint) != f.srv.URL || o.Region != DefaultRegion {
		t.Errorf("path style %v, endpoint %q, region %q", o.UsePathStyle, aws.ToString(o.BaseEndpoint), o.Region)
	}
	if got := o.Retryer.MaxAttempts(); got != DefaultMaxAttempts {
		t.Errorf("MaxAttempts %d, want %d", got, DefaultMaxAttempts)
	}
	if _, ok := o.Credentials.(*aws.CredentialsCache); !ok {
		t.Errorf("credentials %T, want *aws.CredentialsCache", o.Credentials)
	}
	bc, ok := o.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTP client %T, want the tuned *awshttp.BuildableClient", o.HTTPClient)
	}
	tr := bc.GetTransport()
	if tr.MaxIdleConnsPerHost < 64 || tr.ResponseHeaderTimeout == 0 || tr.TLSHandshakeTimeout == 0 || bc.GetDialer().Timeout == 0 {
		t.Errorf("transport: idle per host %d, header timeout %v, TLS timeout %v, dial timeout %v",
			tr.MaxIdleConnsPerHost, tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout, bc.GetDialer().Timeout)
	}
}
