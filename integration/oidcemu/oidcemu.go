package oidcemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures an Issuer.
type Options struct {
	// Lifetime of the access tokens it issues; 0 means one hour.
	Lifetime time.Duration
	// ClientID the refresh grant must name; "" means "token-portal".
	ClientID string
	// Rotate makes every refresh return a new refresh token and retire the
	// old one, as Keycloak can be configured to.
	Rotate bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Issuer is a running emulated OIDC provider on 127.0.0.1.
type Issuer struct {
	URL  string // the issuer URL (discovery at URL/.well-known/openid-configuration)
	opts Options
	srv  *http.Server
	ln   net.Listener

	mu      sync.Mutex
	refresh map[string]bool      // refresh token -> usable
	access  map[string]time.Time // access token -> expiry
	counts  map[string]int
}

// Start listens on a free port of 127.0.0.1.
func Start(opts Options) (*Issuer, error) {
	if opts.Lifetime == 0 {
		opts.Lifetime = time.Hour
	}
	if opts.ClientID == "" {
		opts.ClientID = "token-portal"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("oidcemu: %w", err)
	}
	i := &Issuer{
		URL: "http://" + ln.Addr().String() + "/auth/realms/egi", opts: opts, ln: ln,
		refresh: map[string]bool{}, access: map[string]time.Time{}, counts: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/realms/egi/.well-known/openid-configuration", i.discovery)
	mux.HandleFunc("POST /auth/realms/egi/protocol/openid-connect/token", i.token)
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go i.srv.Serve(ln)
	return i, nil
}

// Close stops the server.
func (i *Issuer) Close() error { return i.srv.Close() }

// AccessToken mints an access token that lives opts.Lifetime from now.
func (i *Issuer) AccessToken() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.mintLocked()
}

// ExpiredAccessToken mints an access token that expired a minute ago.
func (i *Issuer) ExpiredAccessToken() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.opts.Now()
	return i.jwtLocked(now.Add(-time.Hour), now.Add(-time.Minute))
}

// RefreshToken mints a usable refresh token.
func (i *Issuer) RefreshToken() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	rt := "rt-" + randomHex(16)
	i.refresh[rt] = true
	return rt
}

// Revoke makes a refresh token unusable (invalid_grant from now on).
func (i *Issuer) Revoke(rt string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.refresh[rt] = false
}

// Valid reports whether an access token was issued here and has not
// expired: what the site's token introspection tells Keystone.
func (i *Issuer) Valid(access string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	exp, ok := i.access[access]
	return ok && i.opts.Now().Before(exp)
}

// Counts returns the requests served, by kind: "discovery", "refresh"
// (granted) and "refused".
func (i *Issuer) Counts() map[string]int {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := map[string]int{}
	for k, v := range i.counts {
		out[k] = v
	}
	return out
}

func (i *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	i.counts["discovery"]++
	i.mu.Unlock()
	// Endpoints on the host that was asked, so that a proxy in front of
	// the issuer stays in front of its token endpoint.
	base := i.URL
	if _, path, ok := strings.Cut(strings.TrimPrefix(i.URL, "http://"), "/"); ok && r.Host != "" {
		base = "http://" + r.Host + "/" + path
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 base,
		"token_endpoint":         base + "/protocol/openid-connect/token",
		"authorization_endpoint": base + "/protocol/openid-connect/auth",
		"grant_types_supported":  []string{"refresh_token", "authorization_code"},
	})
}

// token serves the refresh_token grant as Keycloak does: 400 with
// invalid_grant for an unknown, revoked or rotated-out token, 401
// invalid_client for another client.
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		i.counts["refused"]++
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if r.PostForm.Get("client_id") != i.opts.ClientID {
		i.counts["refused"]++
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Invalid client credentials"})
		return
	}
	rt := r.PostForm.Get("refresh_token")
	if !i.refresh[rt] {
		i.counts["refused"]++
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Token is not active"})
		return
	}
	i.counts["refresh"]++
	resp := map[string]any{
		"access_token": i.mintLocked(), "expires_in": int(i.opts.Lifetime / time.Second),
		"token_type": "Bearer", "scope": "openid email profile eduperson_entitlement",
	}
	if i.opts.Rotate {
		i.refresh[rt] = false
		nrt := "rt-" + randomHex(16)
		i.refresh[nrt] = true
		resp["refresh_token"] = nrt
	}
	writeJSON(w, http.StatusOK, resp)
}

func (i *Issuer) mintLocked() string {
	now := i.opts.Now()
	return i.jwtLocked(now, now.Add(i.opts.Lifetime))
}

func (i *Issuer) jwtLocked(iat, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"iss": i.URL, "sub": "user@egi.eu", "iat": iat.Unix(), "exp": exp.Unix(), "jti": randomHex(8),
		"eduperson_entitlement": []string{"urn:mace:egi.eu:group:vo.pangeo.eu:role=member#aai.egi.eu"},
	})
	tok := header + "." + enc.EncodeToString(claims) + "."
	i.access[tok] = exp
	return tok
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
