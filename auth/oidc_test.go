package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOIDC(t *testing.T) {
	tests := []struct {
		name        string
		access      func(f *fakeIdP) string
		refresh     string
		wantErr     []string // substrings of the error; nil means success
		wantRefresh int
	}{
		{name: "valid access token is used as is", access: func(f *fakeIdP) string { return f.accessToken(time.Hour) }},
		{name: "expired, no refresh token", access: func(f *fakeIdP) string { return f.accessToken(-time.Minute) },
			wantErr: []string{"OIDC access token", "OS_ACCESS_TOKEN", "expired", "OIDC_REFRESH_TOKEN"}},
		{name: "a short-lived token is used while a fifth of it is left", access: func(f *fakeIdP) string { return f.accessToken(10 * time.Second) }, refresh: "rt-1"},
		{name: "nothing at all", access: func(*fakeIdP) string { return "" }, wantErr: []string{"no access token and no refresh token"}},
		{name: "expired, renewed from the refresh token", access: func(f *fakeIdP) string { return f.accessToken(-time.Minute) }, refresh: "rt-1", wantRefresh: 1},
		{name: "an hour token about to expire, renewed ahead", access: func(f *fakeIdP) string { return f.accessTokenIssued(-time.Hour, 10*time.Second) }, refresh: "rt-1", wantRefresh: 1},
		{name: "revoked refresh token", access: func(f *fakeIdP) string { return f.accessToken(-time.Minute) }, refresh: "rt-revoked",
			wantErr: []string{"OIDC refresh at", "invalid_grant", "OIDC_REFRESH_TOKEN", "token-portal"}, wantRefresh: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			f := newFakeIdP(t, clock)
			o := NewOIDC(OIDCOptions{
				AccessToken: Secret(tt.access(f)), AccessTokenFrom: "OS_ACCESS_TOKEN",
				RefreshToken: Secret(tt.refresh), RefreshTokenFrom: "OIDC_REFRESH_TOKEN",
				Issuer: f.srv.URL + "/oidc/", Now: clock.Now,
			})
			tok, err := o.Token(t.Context())
			if tt.wantErr == nil && (err != nil || tok.Value == "" || !tok.Valid(clock.Now(), 0)) {
				t.Fatalf("Token = %v, %v", tok, err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, ErrRejected) {
					t.Fatalf("error %v, want ErrRejected", err)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				if tt.refresh != "" && strings.Contains(err.Error(), tt.refresh) {
					t.Errorf("error shows the refresh token")
				}
			}
			if got := f.count("refresh"); got != tt.wantRefresh {
				t.Errorf("%d refresh requests, want %d", got, tt.wantRefresh)
			}
		})
	}
}

func TestOIDCRotationAndReuse(t *testing.T) {
	clock := newFakeClock()
	f := newFakeIdP(t, clock)
	f.rotate = true
	o := NewOIDC(OIDCOptions{RefreshToken: "rt-1", Issuer: f.srv.URL + "/oidc", Now: clock.Now})
	for i := range 3 {
		if _, err := o.Token(t.Context()); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		o.Token(t.Context()) // reused: still valid
		clock.Advance(time.Hour)
	}
	if f.count("refresh") != 3 || f.count("discovery") != 1 {
		t.Errorf("refresh %d, discovery %d; want 3 and 1", f.count("refresh"), f.count("discovery"))
	}
	if f.lastRefresh != "rt-1++" {
		t.Errorf("last refresh used %q, want the rotated rt-1++", f.lastRefresh)
	}
}
