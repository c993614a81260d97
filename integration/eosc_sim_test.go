package integration

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/integration/keystoneemu"
	"github.com/earthmount/earthmount/integration/oidcemu"
)

// simClock is the simulation's clock, shared by earthmount's auth chain and
// the emulators.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestEOSCTwoHourRun simulates two hours of reading, one storage request
// every 10 s, with one-hour OIDC and Keystone tokens, on a fake clock: the
// auth chain earthmount builds for the pangeo-eosc route (OIDC access token
// from the environment plus a refresh token → Keystone federated login →
// project scope) against the emulators. It counts the identity requests
// (the closing note's figure) and checks that every request had a valid
// token.
func TestEOSCTwoHourRun(t *testing.T) {
	clock := &simClock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	tempauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Auth-Token", "AUTH_tk-sim")
		w.Header().Set("X-Storage-Url", "http://"+r.Host+"/v1/AUTH_test")
	}))
	defer tempauth.Close()
	iss, err := oidcemu.Start(oidcemu.Options{Lifetime: time.Hour, Now: clock.Now})
	need(t, err)
	defer iss.Close()
	ks, err := keystoneemu.Start(keystoneemu.Options{
		Bearer: iss.Valid, ProjectID: eoscProject, UserID: eoscUser, TokenLifetime: time.Hour, Now: clock.Now,
		SwiftAuthURL: tempauth.URL + "/auth/v1.0", SwiftUser: "test:tester", SwiftKey: "testing",
	})
	need(t, err)
	defer ks.Close()

	oidc := auth.NewOIDC(auth.OIDCOptions{
		AccessToken: auth.Secret(iss.AccessToken()), AccessTokenFrom: "OS_ACCESS_TOKEN",
		RefreshToken: auth.Secret(iss.RefreshToken()), Issuer: iss.URL, Now: clock.Now,
	})
	keystone, err := auth.NewKeystone(auth.KeystoneOptions{
		AuthURL: ks.URL, ProjectID: eoscProject,
		Federated: &auth.Federated{IdentityProvider: "egi.eu", Protocol: "openid", Bearer: oidc},
	})
	need(t, err)
	chain := auth.NewCached(keystone, auth.CachedOptions{Name: "eosc", Now: clock.Now})

	const step = 10 * time.Second
	start := clock.Now()
	for clock.Now().Sub(start) <= 2*time.Hour {
		tok, err := chain.Token(t.Context())
		if err != nil {
			t.Fatalf("at %v: %v", clock.Now().Sub(start), err)
		}
		if !tok.Valid(clock.Now(), step) {
			t.Fatalf("at %v: the token expires at %v, during the next request", clock.Now().Sub(start), tok.Expiry.Sub(start))
		}
		clock.Advance(step)
	}
	o, k := iss.Counts(), ks.Counts()
	total := o["discovery"] + o["refresh"] + o["refused"] + k["federated"] + k["scope"] + k["federated_refused"] + k["scope_refused"]
	t.Logf("2 h with 1 h tokens, a request every %v: %d identity requests (OIDC %v, Keystone %v), %d logins", step, total, o, k, chain.Logins())
	// Logins at 0, 55 min and 110 min (5 min ahead of each expiry); the
	// OIDC token from the environment covers the first two, a refresh the
	// third: 3 federated logins, 3 scopings, 1 discovery, 1 refresh.
	if k["federated"] != 3 || k["scope"] != 3 || o["discovery"] != 1 || o["refresh"] != 1 || total != 8 {
		t.Errorf("identity requests: OIDC %v, Keystone %v; want 3 federated, 3 scope, 1 discovery, 1 refresh", o, k)
	}
}
