package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeIdP is a small OIDC issuer plus Keystone for the unit tests (the
// full emulators live in integration/ and may not be imported here).
type fakeIdP struct {
	t     *testing.T
	clock *fakeClock
	srv   *httptest.Server

	mu          sync.Mutex
	requests    map[string]int
	refresh     string // the valid refresh token
	rotate      bool
	oidcLife    time.Duration
	ksLife      time.Duration
	projects    []string
	catalog     []map[string]any
	ec2         []map[string]string
	refuseEC2   bool
	lastBearer  string
	lastRefresh string
}

func newFakeIdP(t *testing.T, clock *fakeClock) *fakeIdP {
	f := &fakeIdP{t: t, clock: clock, requests: map[string]int{}, refresh: "rt-1", oidcLife: time.Hour, ksLife: time.Hour, projects: []string{"p1"}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.catalog = []map[string]any{{"type": "object-store", "endpoints": []map[string]any{
		{"interface": "internal", "region": "Brno1", "url": "http://internal.invalid/"},
		{"interface": "public", "region": "Brno1", "region_id": "Brno1", "url": f.srv.URL + "/swift/v1/KEY_p1"},
	}}}
	return f
}

func (f *fakeIdP) count(k string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[k]
}

func (f *fakeIdP) accessToken(life time.Duration) string {
	return f.accessTokenIssued(0, life)
}

// accessTokenIssued mints a token issued at now+issued that expires life
// after now.
func (f *fakeIdP) accessTokenIssued(issued, life time.Duration) string {
	now := f.clock.Now()
	return jwtWith(fmt.Sprintf(`{"iat":%d,"exp":%d}`, now.Add(issued).Unix(), now.Add(life).Unix()))
}

func (f *fakeIdP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	exp := f.clock.Now().Add(f.ksLife).UTC().Format("2006-01-02T15:04:05.000000Z")
	switch {
	case r.URL.Path == "/oidc/.well-known/openid-configuration":
		f.requests["discovery"]++
		reply(200, map[string]string{"token_endpoint": f.srv.URL + "/oidc/token"})
	case r.URL.Path == "/oidc/token":
		f.requests["refresh"]++
		r.ParseForm()
		f.lastRefresh = r.PostForm.Get("refresh_token")
		if f.lastRefresh != f.refresh || r.PostForm.Get("client_id") != "token-portal" || r.PostForm.Get("grant_type") != "refresh_token" {
			reply(400, map[string]string{"error": "invalid_grant", "error_description": "Token is not active"})
			return
		}
		resp := map[string]any{"access_token": f.accessToken(f.oidcLife), "expires_in": int(f.oidcLife.Seconds())}
		if f.rotate {
			f.refresh += "+"
			resp["refresh_token"] = f.refresh
		}
		reply(200, resp)
	case strings.HasPrefix(r.URL.Path, "/v3/OS-FEDERATION/identity_providers/egi.eu/protocols/openid/auth"):
		f.requests["federated"]++
		bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.lastBearer = bearer
		if exp, err := JWTExpiry(bearer); err != nil || !f.clock.Now().Before(exp) {
			reply(401, map[string]any{"error": map[string]any{"code": 401, "message": "The request you have made requires authentication."}})
			return
		}
		w.Header().Set("X-Subject-Token", "unscoped")
		reply(201, map[string]any{"token": map[string]any{"expires_at": exp}})
	case r.URL.Path == "/v3/auth/projects":
		f.requests["projects"]++
		var ps []map[string]string
		for _, p := range f.projects {
			ps = append(ps, map[string]string{"id": p, "name": "name-" + p})
		}
		reply(200, map[string]any{"projects": ps})
	case r.URL.Path == "/v3/auth/tokens":
		f.requests["tokens"]++
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		raw, _ := json.Marshal(body)
		if strings.Contains(string(raw), `"wrong"`) {
			reply(401, map[string]any{"error": map[string]any{"code": 401, "message": "The request you have made requires authentication."}})
			return
		}
		w.Header().Set("X-Subject-Token", fmt.Sprintf("scoped-%d", f.requests["tokens"]))
		reply(201, map[string]any{"token": map[string]any{"expires_at": exp, "user": map[string]string{"id": "u1"},
			"project": map[string]string{"id": "p1"}, "catalog": f.catalog, "request": string(raw)}})
	case r.URL.Path == "/v3/users/u1/credentials/OS-EC2":
		if r.Header.Get("X-Auth-Token") == "" || f.refuseEC2 {
			f.requests["ec2_refused"]++
			reply(403, map[string]any{"error": map[string]any{"code": 403, "message": "You are not authorized to perform the requested action."}})
			return
		}
		if r.Method == http.MethodGet {
			f.requests["ec2_list"]++
			reply(200, map[string]any{"credentials": f.ec2})
			return
		}
		f.requests["ec2_create"]++
		c := map[string]string{"access": "AK-new", "secret": "SK-new-secret", "tenant_id": "p1", "user_id": "u1"}
		f.ec2 = append(f.ec2, c)
		reply(201, map[string]any{"credential": c})
	case r.URL.Path == "/auth/v1.0":
		f.requests["v1"]++
		if r.Header.Get("X-Auth-Key") != "testing" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("X-Auth-Token", "AUTH_tk1")
		w.Header().Set("X-Storage-Url", f.srv.URL+"/v1/AUTH_test")
		w.Header().Set("X-Auth-Token-Expires", "3600")
		w.WriteHeader(200)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(404)
	}
}
