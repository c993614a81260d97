package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestKeystoneRoutes(t *testing.T) {
	tests := []struct {
		name     string
		opts     func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions)
		wantErr  []string
		endpoint string // suffix of the storage URL
		requests map[string]int
	}{
		{name: "federated, project id", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			o.Federated = &Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: NewOIDC(OIDCOptions{AccessToken: Secret(f.accessToken(time.Hour)), Now: clock.Now})}
			o.ProjectID = "p1"
		}, endpoint: "/swift/v1/KEY_p1", requests: map[string]int{"federated": 1, "tokens": 1, "projects": 0}},
		{name: "federated, the one project found", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			o.Federated = &Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: NewOIDC(OIDCOptions{AccessToken: Secret(f.accessToken(time.Hour)), Now: clock.Now})}
		}, endpoint: "/swift/v1/KEY_p1", requests: map[string]int{"federated": 1, "projects": 1, "tokens": 1}},
		{name: "federated, several projects and none configured", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			f.projects = []string{"p1", "p2"}
			o.Federated = &Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: NewOIDC(OIDCOptions{AccessToken: Secret(f.accessToken(time.Hour)), Now: clock.Now})}
		}, wantErr: []string{"Keystone project lookup", "p1 (name-p1), p2 (name-p2)", "OS_PROJECT_ID"}},
		{name: "password with storage_url", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			o.Password = &Password{Username: "alice", Password: "pw"}
			o.ProjectName, o.StorageURL = "demo", "https://swift.example.org/v1/AUTH_x"
		}, endpoint: "https://swift.example.org/v1/AUTH_x", requests: map[string]int{"tokens": 1}},
		{name: "wrong password", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			o.Password = &Password{Username: "alice", Password: "wrong"}
		}, wantErr: []string{"Keystone password login", "HTTP 401", "requires authentication", "check username"}},
		{name: "application credential", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			o.AppCredential = &AppCredential{ID: "ac1", Secret: "s"}
		}, endpoint: "/swift/v1/KEY_p1", requests: map[string]int{"tokens": 1}},
		{name: "no object-store in the region", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			o.AppCredential = &AppCredential{ID: "ac1", Secret: "s"}
			o.Region = "Ostrava"
		}, wantErr: []string{"object-store endpoint", `region "Ostrava"`, "Brno1", "storage_url"}},
		{name: "no object-store at all", opts: func(f *fakeIdP, clock *fakeClock, o *KeystoneOptions) {
			f.catalog = nil
			o.AppCredential = &AppCredential{ID: "ac1", Secret: "s"}
		}, wantErr: []string{"no public object-store endpoint in the catalog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			f := newFakeIdP(t, clock)
			o := KeystoneOptions{AuthURL: f.srv.URL + "/"}
			tt.opts(f, clock, &o)
			k, err := NewKeystone(o)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := k.Token(t.Context())
			if tt.wantErr != nil {
				if !errors.Is(err, ErrRejected) {
					t.Fatalf("error %v, want ErrRejected", err)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(tok.Endpoint, tt.endpoint) || tok.UserID != "u1" || tok.ProjectID != "p1" || tok.Expiry.IsZero() {
				t.Errorf("token %+v", tok)
			}
			for k, n := range tt.requests {
				if f.count(k) != n {
					t.Errorf("%s requests %d, want %d", k, f.count(k), n)
				}
			}
		})
	}
}

func TestKeystoneRefusedBearer(t *testing.T) {
	clock := newFakeClock()
	f := newFakeIdP(t, clock)
	// The token is valid by its exp for earthmount but not for the server,
	// whose clock is ahead.
	bearer := f.accessToken(time.Hour)
	clock.Advance(2 * time.Hour)
	k, _ := NewKeystone(KeystoneOptions{AuthURL: f.srv.URL + "/v3", ProjectID: "p1",
		Federated: &Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: SourceFunc(func(ctx context.Context) (Token, error) { return Token{Value: Secret(bearer)}, nil })}})
	_, err := k.Token(t.Context())
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "Keystone federated login") || !strings.Contains(err.Error(), "eduperson_entitlement") {
		t.Errorf("error %v", err)
	}
	if strings.Contains(err.Error(), bearer) {
		t.Errorf("the error shows the access token")
	}
}

func TestNewKeystoneChecks(t *testing.T) {
	if _, err := NewKeystone(KeystoneOptions{AuthURL: "http://127.0.0.1:1"}); err == nil {
		t.Error("no method accepted")
	}
	if _, err := NewKeystone(KeystoneOptions{AuthURL: "identity.example.org", Password: &Password{}}); err == nil {
		t.Error("a URL without scheme accepted")
	}
	for in, want := range map[string]string{"https://h/v3": "https://h/v3", "https://h/v3/": "https://h/v3", "https://h/identity": "https://h/identity/v3"} {
		if got := V3URL(in); got != want {
			t.Errorf("V3URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSwiftV1(t *testing.T) {
	clock := newFakeClock()
	f := newFakeIdP(t, clock)
	tok, err := (&SwiftV1{AuthURL: f.srv.URL + "/auth/v1.0", User: "test:tester", Key: "testing", Now: clock.Now}).Token(t.Context())
	if err != nil || tok.Value != "AUTH_tk1" || !strings.HasSuffix(tok.Endpoint, "/v1/AUTH_test") || !tok.Expiry.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("token %+v, %v", tok, err)
	}
	_, err = (&SwiftV1{AuthURL: f.srv.URL + "/auth/v1.0", User: "test:tester", Key: "nope"}).Token(t.Context())
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "Swift v1 login") {
		t.Errorf("wrong key: %v", err)
	}
}

func TestKeystoneRefusedBearerIsRenewed(t *testing.T) {
	clock := newFakeClock()
	f := newFakeIdP(t, clock)
	// The server's clock is ahead: it refuses a token earthmount thinks
	// valid; with a refresh token the next login renews it first.
	bearer := f.accessToken(time.Hour)
	o := NewOIDC(OIDCOptions{AccessToken: Secret(bearer), RefreshToken: "rt-1", Issuer: f.srv.URL + "/oidc", Now: clock.Now})
	k, _ := NewKeystone(KeystoneOptions{AuthURL: f.srv.URL, ProjectID: "p1", Federated: &Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: o}})
	serverAhead := func() { clock.Advance(2 * time.Hour) }
	serverAhead()
	o.cur.Expiry = clock.Now().Add(time.Hour) // earthmount's view: still valid
	if _, err := k.Token(t.Context()); !errors.Is(err, ErrRejected) {
		t.Fatalf("first login: %v, want a refusal", err)
	}
	if _, err := k.Token(t.Context()); err != nil || f.count("refresh") != 1 {
		t.Errorf("second login: %v after %d refreshes; want it to renew the token first", err, f.count("refresh"))
	}
}
