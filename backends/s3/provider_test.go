package s3

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/earthmount/earthmount/backends"
)

// countingProvider hands out fixed keys, or fails, and counts the calls.
type countingProvider struct {
	calls atomic.Int32
	err   error
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.calls.Add(1)
	if p.err != nil {
		return aws.Credentials{}, p.err
	}
	return aws.Credentials{AccessKeyID: "AKIDPROVIDED", SecretAccessKey: "secret-provided"}, nil
}

// TestCredentialsProvider checks that a configured provider is the only
// source of keys, is asked on the first request and not in New, once for
// many requests, and that an error it tags with a kind keeps that kind.
func TestCredentialsProvider(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV") // must not win over the provider
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-env")
	tests := []struct {
		name     string
		err      error
		wantKind error
	}{
		{name: "keys", err: nil},
		{name: "refused", err: backends.Kind(backends.ErrUnauthenticated, errors.New("keystone said no")), wantKind: backends.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(t, "b")
			p := &countingProvider{err: tt.err}
			st, err := New(t.Context(), Config{Remote: "t", Endpoint: f.srv.URL, MaxAttempts: 1, Credentials: p, CredentialsSource: "EC2 credentials from remote eosc"})
			if err != nil {
				t.Fatal(err)
			}
			if p.calls.Load() != 0 || len(f.recorded()) != 0 {
				t.Fatalf("New asked the provider %d times and sent %d requests", p.calls.Load(), len(f.recorded()))
			}
			if got := st.CredentialSource(); got != "EC2 credentials from remote eosc" {
				t.Errorf("CredentialSource() = %q", got)
			}
			for range 3 {
				_, err = st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
			}
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("List error %v, want kind %v", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := p.calls.Load(); n != 1 {
				t.Errorf("provider asked %d times for 3 requests, want 1 (cached)", n)
			}
			if auth := f.recorded()[0].Header.Get("Authorization"); !strings.Contains(auth, "Credential=AKIDPROVIDED/") {
				t.Errorf("Authorization %q, want signed with the provider's key", auth)
			}
		})
	}
	if _, err := New(t.Context(), Config{Remote: "t", Endpoint: "http://127.0.0.1:1", Credentials: &countingProvider{}, Anonymous: true}); err == nil {
		t.Errorf("a provider with anonymous must be refused")
	}
}
