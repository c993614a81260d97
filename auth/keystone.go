package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// KeystoneOptions configures a Keystone v3 login. Exactly one of
// Federated, Password and AppCredential is set.
type KeystoneOptions struct {
	// AuthURL is the identity endpoint; "/v3" is appended when missing,
	// as keystoneauth does.
	AuthURL       string
	Federated     *Federated
	Password      *Password
	AppCredential *AppCredential
	// The project to scope to (not for application credentials, which
	// carry theirs): ProjectID, or ProjectName in ProjectDomainName
	// ("Default" when empty). Federated logins with neither use the one
	// project the user has, if there is exactly one.
	ProjectID, ProjectName, ProjectDomainName string
	// StorageURL, when set, replaces the catalog's endpoint.
	StorageURL string
	// Region selects among the catalog's endpoints ("" accepts any).
	Region string
	// ServiceType is the catalog entry to use; "" means "object-store".
	ServiceType string
	HTTPClient  *http.Client
}

// Federated is Keystone's OS-FEDERATION login with an OIDC access token
// (keystoneauth's v3oidcaccesstoken).
type Federated struct {
	IdentityProvider string // e.g. "egi.eu"
	Protocol         string // e.g. "openid"
	Bearer           Source // the OIDC access token
}

// Password is the password method.
type Password struct {
	Username, UserDomainName string // UserDomainName "" means "Default"
	Password                 Secret
}

// AppCredential is the application_credential method.
type AppCredential struct {
	ID     string
	Secret Secret
}

// Keystone logs in to Keystone v3 and returns a project-scoped token with
// the storage endpoint, user and project.
type Keystone struct {
	opts KeystoneOptions
	v3   string // AuthURL ending in /v3, no trailing slash
}

// NewKeystone checks opts; it contacts nothing.
func NewKeystone(opts KeystoneOptions) (*Keystone, error) {
	n := 0
	for _, set := range []bool{opts.Federated != nil, opts.Password != nil, opts.AppCredential != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("keystone: exactly one login method is needed")
	}
	u, err := url.Parse(opts.AuthURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("keystone: auth URL %q is not an http(s) URL", opts.AuthURL)
	}
	if opts.ServiceType == "" {
		opts.ServiceType = "object-store"
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Keystone{opts: opts, v3: V3URL(opts.AuthURL)}, nil
}

// V3URL returns the identity v3 base: authURL with "/v3" appended unless
// it already ends in it.
func V3URL(authURL string) string {
	u := strings.TrimRight(authURL, "/")
	if !strings.HasSuffix(u, "/v3") {
		u += "/v3"
	}
	return u
}

// Token logs in and scopes the token.
func (k *Keystone) Token(ctx context.Context) (Token, error) {
	o := k.opts
	switch {
	case o.Federated != nil:
		unscoped, err := k.federated(ctx)
		if err != nil {
			return Token{}, err
		}
		scope, err := k.scope(ctx, unscoped)
		if err != nil {
			return Token{}, err
		}
		return k.issue(ctx, "Keystone project scope", "keystone_scope", map[string]any{
			"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": unscoped.Reveal()}},
			"scope":    scope,
		}, "the federated user may not use this project; check project_id (openstack project list) and your VO membership")
	case o.Password != nil:
		p := o.Password
		user := map[string]any{"name": p.Username, "domain": map[string]any{"name": orDefault(p.UserDomainName)}, "password": p.Password.Reveal()}
		auth := map[string]any{"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": user}}}
		if s := k.namedScope(); s != nil {
			auth["scope"] = s
		}
		return k.issue(ctx, "Keystone password login", "keystone_password", auth, "check username, password, user_domain_name and the project")
	default:
		a := o.AppCredential
		return k.issue(ctx, "Keystone application credential login", "keystone_appcred", map[string]any{
			"identity": map[string]any{"methods": []string{"application_credential"},
				"application_credential": map[string]any{"id": a.ID, "secret": a.Secret.Reveal()}},
		}, "check application_credential_id and application_credential_secret (openstack application credential list); it may have expired")
	}
}

// federated trades the OIDC access token for an unscoped Keystone token.
func (k *Keystone) federated(ctx context.Context) (Secret, error) {
	f := k.opts.Federated
	bearer, err := f.Bearer.Token(ctx)
	if err != nil {
		return "", err
	}
	u := fmt.Sprintf("%s/OS-FEDERATION/identity_providers/%s/protocols/%s/auth", k.v3, url.PathEscape(f.IdentityProvider), url.PathEscape(f.Protocol))
	h, _, err := do(ctx, k.opts.HTTPClient, call{
		step: "Keystone federated login", kind: "keystone_federated", method: http.MethodPost, url: u,
		header: map[string]string{"Authorization": "Bearer " + bearer.Value.Reveal()},
		ok:     []int{http.StatusCreated, http.StatusOK},
		hint: fmt.Sprintf("Keystone refused the OIDC access token for identity provider %q, protocol %q: the token may be expired or lack the eduperson_entitlement scope, or you are not a member of the VO; check identity_provider and protocol",
			f.IdentityProvider, f.Protocol),
	})
	if err != nil {
		// Keystone may refuse a token whose exp still looks fine here (clock
		// skew, revocation): let the source renew it next time.
		if r, ok := f.Bearer.(interface{ Rejected(Secret) }); ok && errors.Is(err, ErrRejected) {
			r.Rejected(bearer.Value)
		}
		return "", err
	}
	tok := h.Get("X-Subject-Token")
	if tok == "" {
		return "", &StepError{Step: "Keystone federated login", Err: fmt.Errorf("%w: no X-Subject-Token in the answer", ErrUnreachable)}
	}
	return Secret(tok), nil
}

// scope returns the scope object for the token method, finding the
// project when none is configured.
func (k *Keystone) scope(ctx context.Context, unscoped Secret) (map[string]any, error) {
	if s := k.namedScope(); s != nil {
		return s, nil
	}
	const step = "Keystone project lookup"
	_, body, err := do(ctx, k.opts.HTTPClient, call{
		step: step, kind: "keystone_projects", method: http.MethodGet, url: k.v3 + "/auth/projects",
		header: map[string]string{"X-Auth-Token": unscoped.Reveal()}, ok: []int{http.StatusOK},
		hint: "set project_id (OS_PROJECT_ID)",
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Projects []struct{ ID, Name string } `json:"projects"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, unreachable(step, "set project_id (OS_PROJECT_ID)", err)
	}
	if len(r.Projects) == 1 {
		return map[string]any{"project": map[string]any{"id": r.Projects[0].ID}}, nil
	}
	var names []string
	for _, p := range r.Projects {
		names = append(names, p.ID+" ("+p.Name+")")
	}
	if len(names) == 0 {
		return nil, rejected(step, "ask your VO manager for access to a project", "the federated user has no project")
	}
	return nil, rejected(step, "set project_id (OS_PROJECT_ID) to one of: "+strings.Join(names, ", "), "no project configured and the user has %d", len(names))
}

// namedScope is the configured project scope, or nil.
func (k *Keystone) namedScope() map[string]any {
	o := k.opts
	switch {
	case o.ProjectID != "":
		return map[string]any{"project": map[string]any{"id": o.ProjectID}}
	case o.ProjectName != "":
		return map[string]any{"project": map[string]any{"name": o.ProjectName, "domain": map[string]any{"name": orDefault(o.ProjectDomainName)}}}
	}
	return nil
}

func orDefault(domain string) string {
	if domain == "" {
		return "Default"
	}
	return domain
}

// issue posts to /v3/auth/tokens and reads the token, its expiry, user,
// project and storage endpoint.
func (k *Keystone) issue(ctx context.Context, step, kind string, auth map[string]any, hint string) (Token, error) {
	b, err := json.Marshal(map[string]any{"auth": auth})
	if err != nil {
		return Token{}, &StepError{Step: step, Err: fmt.Errorf("%w: %w", ErrUnreachable, err)}
	}
	h, body, err := do(ctx, k.opts.HTTPClient, call{
		step: step, kind: kind, method: http.MethodPost, url: k.v3 + "/auth/tokens", body: bytes.NewReader(b),
		ok: []int{http.StatusCreated, http.StatusOK}, hint: hint,
	})
	if err != nil {
		return Token{}, err
	}
	var r tokenBody
	if err := json.Unmarshal(body, &r); err != nil {
		return Token{}, unreachable(step, "", fmt.Errorf("reading the token: %w", err))
	}
	tok := Token{Value: Secret(h.Get("X-Subject-Token")), UserID: r.Token.User.ID}
	if tok.Value == "" {
		return Token{}, &StepError{Step: step, Err: fmt.Errorf("%w: no X-Subject-Token in the answer", ErrUnreachable)}
	}
	if r.Token.Project != nil {
		tok.ProjectID = r.Token.Project.ID
	}
	tok.Expiry, _ = parseKeystoneTime(r.Token.ExpiresAt)
	if tok.Endpoint, err = k.endpoint(r); err != nil {
		return Token{}, err
	}
	return tok, nil
}

type tokenBody struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		Project *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"project"`
		Catalog []struct {
			Type      string `json:"type"`
			Endpoints []struct {
				Interface string `json:"interface"`
				Region    string `json:"region"`
				RegionID  string `json:"region_id"`
				URL       string `json:"url"`
			} `json:"endpoints"`
		} `json:"catalog"`
	} `json:"token"`
}

// endpoint picks the public endpoint of the service type in the region.
func (k *Keystone) endpoint(r tokenBody) (string, error) {
	o := k.opts
	if o.StorageURL != "" {
		return o.StorageURL, nil
	}
	var regions []string
	for _, s := range r.Token.Catalog {
		if s.Type != o.ServiceType {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Interface != "public" {
				continue
			}
			if o.Region == "" || e.Region == o.Region || e.RegionID == o.Region {
				return e.URL, nil
			}
			regions = append(regions, e.Region)
		}
	}
	where := ""
	if o.Region != "" {
		where = fmt.Sprintf(" in region %q (the catalog has it in: %s)", o.Region, strings.Join(regions, ", "))
	}
	return "", rejected("object-store endpoint", "set storage_url (OS_STORAGE_URL) to the Swift URL, or region_name to one the catalog has",
		"no public %s endpoint in the catalog%s", o.ServiceType, where)
}

// parseKeystoneTime reads Keystone's ISO 8601 times, with or without a
// zone (without one they are UTC).
func parseKeystoneTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999", s)
}
