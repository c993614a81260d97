package auth

import (
	"testing"
	"time"
)

// TestTwoHourRun: two hours of requests every 10 s with one-hour OIDC and
// Keystone tokens, on a fake clock, through the pangeo-eosc chain (access
// token from the environment plus a refresh token → federated login →
// project scope). The figure: 8 identity requests (3 federated logins, 3
// scopings, 1 discovery, 1 refresh). integration/eosc_sim_test.go runs the
// same against the Keystone and OIDC emulators.
func TestTwoHourRun(t *testing.T) {
	clock := newFakeClock()
	f := newFakeIdP(t, clock)
	oidc := NewOIDC(OIDCOptions{AccessToken: Secret(f.accessToken(time.Hour)), RefreshToken: "rt-1", Issuer: f.srv.URL + "/oidc", Now: clock.Now})
	k, err := NewKeystone(KeystoneOptions{AuthURL: f.srv.URL, ProjectID: "p1", Federated: &Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: oidc}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCached(k, CachedOptions{Now: clock.Now})
	start := clock.Now()
	for clock.Now().Sub(start) <= 2*time.Hour {
		tok, err := c.Token(t.Context())
		if err != nil || !tok.Valid(clock.Now(), 10*time.Second) {
			t.Fatalf("at %v: %+v, %v", clock.Now().Sub(start), tok, err)
		}
		clock.Advance(10 * time.Second)
	}
	got := map[string]int{}
	for _, k := range []string{"federated", "tokens", "discovery", "refresh"} {
		got[k] = f.count(k)
	}
	if got["federated"] != 3 || got["tokens"] != 3 || got["discovery"] != 1 || got["refresh"] != 1 {
		t.Errorf("identity requests %v, want 3 federated, 3 scopings, 1 discovery, 1 refresh", got)
	}
}
