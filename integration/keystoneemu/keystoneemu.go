package keystoneemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Keystone emulator.
type Options struct {
	// Bearer checks an OIDC access token (the site's introspection).
	Bearer func(token string) bool
	// IdentityProvider and Protocol of the federation route; "" means
	// "egi.eu" and "openid".
	IdentityProvider, Protocol string
	// ProjectID and ProjectName of the one project; UserID of the user.
	ProjectID, ProjectName, UserID string
	// Users maps password-login user names to passwords; AppCredentials
	// application credential ids to secrets.
	Users, AppCredentials map[string]string
	// SwiftAuthURL, SwiftUser and SwiftKey log in to the real Swift (v1).
	SwiftAuthURL, SwiftUser, SwiftKey string
	// CatalogURL rewrites Swift's X-Storage-Url for the catalog (to route
	// through a proxy); nil keeps it.
	CatalogURL func(storageURL string) string
	// Region of the catalog endpoint; "" means "RegionOne".
	Region string
	// TokenLifetime sets expires_at of the tokens; 0 means one hour.
	TokenLifetime time.Duration
	// EC2Access and EC2Secret are the keys OS-EC2 create returns.
	EC2Access, EC2Secret string
	Now                  func() time.Time
}

// Keystone is a running emulator on 127.0.0.1.
type Keystone struct {
	URL  string // the auth URL, ending in /v3
	opts Options
	srv  *http.Server

	mu       sync.Mutex
	unscoped map[string]time.Time // token -> expiry
	scoped   map[string]time.Time // token (a Swift token) -> expiry
	ec2      []map[string]string
	counts   map[string]int
	client   *http.Client
}

// Start listens on a free port of 127.0.0.1.
func Start(opts Options) (*Keystone, error) {
	if opts.IdentityProvider == "" {
		opts.IdentityProvider = "egi.eu"
	}
	if opts.Protocol == "" {
		opts.Protocol = "openid"
	}
	if opts.Region == "" {
		opts.Region = "RegionOne"
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Bearer == nil {
		opts.Bearer = func(string) bool { return false }
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("keystoneemu: %w", err)
	}
	k := &Keystone{
		URL: "http://" + ln.Addr().String() + "/v3", opts: opts,
		unscoped: map[string]time.Time{}, scoped: map[string]time.Time{}, counts: map[string]int{},
		client: &http.Client{Timeout: 30 * time.Second},
	}
	mux := http.NewServeMux()
	fed := "/v3/OS-FEDERATION/identity_providers/{idp}/protocols/{proto}/auth"
	mux.HandleFunc("POST "+fed, k.federated)
	mux.HandleFunc("GET "+fed, k.federated)
	mux.HandleFunc("POST /v3/auth/tokens", k.tokens)
	mux.HandleFunc("GET /v3/auth/projects", k.projects)
	mux.HandleFunc("GET /v3/users/{uid}/credentials/OS-EC2", k.ec2List)
	mux.HandleFunc("POST /v3/users/{uid}/credentials/OS-EC2", k.ec2Create)
	k.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go k.srv.Serve(ln)
	return k, nil
}

// Close stops the server.
func (k *Keystone) Close() error { return k.srv.Close() }

// Counts returns the requests served by kind: "federated", "scope",
// "password", "appcred", "projects", "ec2_list", "ec2_create",
// "swift_login", each refused one as "<kind>_refused".
func (k *Keystone) Counts() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]int{}
	for key, v := range k.counts {
		out[key] = v
	}
	return out
}

// EC2Credentials returns how many EC2 credentials exist.
func (k *Keystone) EC2Credentials() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.ec2)
}

func (k *Keystone) count(kind string) {
	k.mu.Lock()
	k.counts[kind]++
	k.mu.Unlock()
}

// unauthorized answers as Keystone does.
func (k *Keystone) unauthorized(w http.ResponseWriter, kind, msg string) {
	k.count(kind + "_refused")
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized", "message": msg}})
}

func (k *Keystone) federated(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("idp") != k.opts.IdentityProvider || r.PathValue("proto") != k.opts.Protocol {
		k.count("federated_refused")
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": 404, "title": "Not Found", "message": "Could not find Identity Provider or protocol."}})
		return
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !k.opts.Bearer(bearer) {
		k.unauthorized(w, "federated", "The request you have made requires authentication.")
		return
	}
	k.count("federated")
	id := "unscoped-" + randomHex(16)
	exp := k.opts.Now().Add(k.opts.TokenLifetime)
	k.mu.Lock()
	k.unscoped[id] = exp
	k.mu.Unlock()
	w.Header().Set("X-Subject-Token", id)
	writeJSON(w, http.StatusCreated, map[string]any{"token": map[string]any{
		"methods": []string{"mapped"}, "expires_at": isotime(exp),
		"user": map[string]any{"id": k.opts.UserID, "name": "egi-user", "OS-FEDERATION": map[string]any{
			"identity_provider": map[string]any{"id": k.opts.IdentityProvider}, "protocol": map[string]any{"id": k.opts.Protocol}}},
	}})
}

// projects lists the one project for an unscoped token.
func (k *Keystone) projects(w http.ResponseWriter, r *http.Request) {
	if !k.valid(k.unscoped, r.Header.Get("X-Auth-Token")) {
		k.unauthorized(w, "projects", "The request you have made requires authentication.")
		return
	}
	k.count("projects")
	writeJSON(w, http.StatusOK, map[string]any{"projects": []map[string]any{{"id": k.opts.ProjectID, "name": k.opts.ProjectName, "enabled": true}}})
}

func (k *Keystone) valid(m map[string]time.Time, tok string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	exp, ok := m[tok]
	return ok && k.opts.Now().Before(exp)
}

// tokenRequest is the body of POST /v3/auth/tokens.
type tokenRequest struct {
	Auth struct {
		Identity struct {
			Methods []string `json:"methods"`
			Token   struct {
				ID string `json:"id"`
			} `json:"token"`
			Password struct {
				User struct {
					Name     string `json:"name"`
					Password string `json:"password"`
				} `json:"user"`
			} `json:"password"`
			AppCred struct {
				ID     string `json:"id"`
				Secret string `json:"secret"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope struct {
			Project struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

// tokens issues project-scoped tokens: the token method inherits the
// unscoped token's expiry, as Keystone does.
func (k *Keystone) tokens(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Auth.Identity.Methods) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400, "message": "Expecting to find auth in request body."}})
		return
	}
	id := req.Auth.Identity
	kind := id.Methods[0]
	exp := k.opts.Now().Add(k.opts.TokenLifetime)
	switch kind {
	case "token":
		kind = "scope"
		k.mu.Lock()
		e, ok := k.unscoped[id.Token.ID]
		k.mu.Unlock()
		if !ok || !k.opts.Now().Before(e) {
			k.unauthorized(w, kind, "The request you have made requires authentication.")
			return
		}
		exp = e
	case "password":
		if pw, ok := k.opts.Users[id.Password.User.Name]; !ok || pw != id.Password.User.Password {
			k.unauthorized(w, kind, "The request you have made requires authentication.")
			return
		}
	case "application_credential":
		kind = "appcred"
		if s, ok := k.opts.AppCredentials[id.AppCred.ID]; !ok || s != id.AppCred.Secret {
			k.unauthorized(w, kind, "The request you have made requires authentication.")
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400, "message": "unsupported method"}})
		return
	}
	p := req.Auth.Scope.Project
	if kind != "appcred" && p.ID != k.opts.ProjectID && p.Name != k.opts.ProjectName {
		k.unauthorized(w, kind, "You are not authorized for this project.")
		return
	}
	token, storage, err := k.swiftLogin()
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]any{"code": 503, "message": err.Error()}})
		return
	}
	k.count(kind)
	k.mu.Lock()
	k.scoped[token] = exp
	k.mu.Unlock()
	if k.opts.CatalogURL != nil {
		storage = k.opts.CatalogURL(storage)
	}
	w.Header().Set("X-Subject-Token", token)
	writeJSON(w, http.StatusCreated, map[string]any{"token": map[string]any{
		"methods": id.Methods, "expires_at": isotime(exp), "issued_at": isotime(k.opts.Now()),
		"user":    map[string]any{"id": k.opts.UserID, "name": "egi-user"},
		"project": map[string]any{"id": k.opts.ProjectID, "name": k.opts.ProjectName, "domain": map[string]any{"id": "default", "name": "Default"}},
		"roles":   []map[string]any{{"id": "r1", "name": "member"}},
		"catalog": []map[string]any{
			{"type": "identity", "name": "keystone", "endpoints": []map[string]any{{"interface": "public", "region": k.opts.Region, "region_id": k.opts.Region, "url": k.URL}}},
			{"type": "object-store", "name": "swift", "endpoints": []map[string]any{
				{"interface": "internal", "region": k.opts.Region, "region_id": k.opts.Region, "url": "http://192.0.2.1/never-used"},
				{"interface": "public", "region": k.opts.Region, "region_id": k.opts.Region, "url": storage},
			}},
		},
	}})
}

// swiftLogin gets the real Swift's tempauth token and storage URL.
func (k *Keystone) swiftLogin() (token, storage string, err error) {
	req, err := http.NewRequest(http.MethodGet, k.opts.SwiftAuthURL, nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("X-Auth-User", k.opts.SwiftUser)
	req.Header.Set("X-Auth-Key", k.opts.SwiftKey)
	resp, err := k.client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("swift login: %w", err)
	}
	resp.Body.Close()
	k.count("swift_login")
	token, storage = resp.Header.Get("X-Auth-Token"), resp.Header.Get("X-Storage-Url")
	if resp.StatusCode/100 != 2 || token == "" || storage == "" {
		return "", "", fmt.Errorf("swift login: HTTP %d", resp.StatusCode)
	}
	return token, storage, nil
}

// ec2Auth checks the scoped token of an OS-EC2 request.
func (k *Keystone) ec2Auth(w http.ResponseWriter, r *http.Request, kind string) bool {
	if !k.valid(k.scoped, r.Header.Get("X-Auth-Token")) || r.PathValue("uid") != k.opts.UserID {
		k.unauthorized(w, kind, "The request you have made requires authentication.")
		return false
	}
	k.count(kind)
	return true
}

func (k *Keystone) ec2List(w http.ResponseWriter, r *http.Request) {
	if !k.ec2Auth(w, r, "ec2_list") {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	creds := append([]map[string]string{}, k.ec2...)
	writeJSON(w, http.StatusOK, map[string]any{"credentials": creds, "links": map[string]any{"self": k.URL + r.URL.Path}})
}

func (k *Keystone) ec2Create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TenantID string `json:"tenant_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.TenantID != k.opts.ProjectID {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400, "message": "tenant_id"}})
		return
	}
	if !k.ec2Auth(w, r, "ec2_create") {
		return
	}
	c := map[string]string{"access": k.opts.EC2Access, "secret": k.opts.EC2Secret, "tenant_id": body.TenantID, "user_id": k.opts.UserID, "trust_id": ""}
	k.mu.Lock()
	k.ec2 = append(k.ec2, c)
	k.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"credential": c})
}

// isotime formats as Keystone: UTC with microseconds and a Z.
func isotime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

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
