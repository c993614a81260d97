package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// EGI Check-in, the defaults of OIDCOptions.
const (
	DefaultIssuer   = "https://aai.egi.eu/auth/realms/egi"
	DefaultClientID = "token-portal" // the public client of EGI's token portal: no secret
	// minValid is how long an access token must still be valid to be handed
	// to Keystone (fedcloudclient uses 30 s); a shorter-lived token needs a
	// fifth of its life left.
	minValid = 30 * time.Second
)

// OIDCOptions configures an OIDC access-token source.
type OIDCOptions struct {
	// AccessToken is a token the user already has (OS_ACCESS_TOKEN, ...);
	// it is used until shortly before its JWT exp.
	AccessToken     Secret
	AccessTokenFrom string // where it came from, for messages: "OS_ACCESS_TOKEN", "access_token in the config"
	// RefreshToken, when set, renews the access token at the issuer's token
	// endpoint (grant_type=refresh_token).
	RefreshToken     Secret
	RefreshTokenFrom string
	// Issuer is the OIDC issuer whose discovery document names the token
	// endpoint; "" means DefaultIssuer.
	Issuer string
	// ClientID and ClientSecret identify the client the refresh token was
	// issued to; "" means DefaultClientID with no secret.
	ClientID     string
	ClientSecret Secret
	Scope        string // optional scope for the refresh request
	// Agent, when set and there is no refresh token, renews the access
	// token instead (oidc-agent).
	Agent      Source
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// OIDC yields OIDC access tokens: the given one while it is valid, then
// fresh ones from the refresh token. It keeps the newest refresh token when
// the issuer rotates it.
type OIDC struct {
	opts OIDCOptions

	mu       sync.Mutex
	cur      Token
	life     time.Duration // cur's lifetime when known
	refresh  Secret
	tokenURL string // discovered once
}

// NewOIDC builds the source; it contacts nothing.
func NewOIDC(opts OIDCOptions) *OIDC {
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	opts.Issuer = strings.TrimRight(opts.Issuer, "/")
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.AccessTokenFrom == "" {
		opts.AccessTokenFrom = "access_token"
	}
	if opts.RefreshTokenFrom == "" {
		opts.RefreshTokenFrom = "refresh_token"
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	o := &OIDC{opts: opts, refresh: opts.RefreshToken}
	if opts.AccessToken != "" {
		exp, iat, err := jwtTimes(opts.AccessToken.Reveal())
		if err == nil && !iat.IsZero() {
			o.life = exp.Sub(iat)
		}
		o.cur = Token{Value: opts.AccessToken, Expiry: exp}
	}
	return o
}

// Rejected drops the current access token after a server refused it, when
// it can be renewed (otherwise the error keeps naming the given token).
func (o *OIDC) Rejected(v Secret) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if v == o.cur.Value && (o.refresh != "" || o.opts.Agent != nil) {
		o.cur = Token{}
	}
}

// Refreshable reports whether the source can renew tokens.
func (o *OIDC) Refreshable() bool { return o.opts.RefreshToken != "" || o.opts.Agent != nil }

// Token returns an access token valid for a while yet.
func (o *OIDC) Token(ctx context.Context) (Token, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.opts.Now()
	need := minValid
	if o.life > 0 && o.life/5 < need {
		need = o.life / 5
	}
	if o.cur.Valid(now, need) {
		return o.cur, nil
	}
	if o.refresh != "" {
		tok, err := o.renew(ctx)
		if err != nil && o.cur.Valid(now, 0) {
			o.opts.Logger.Warn("OIDC refresh failed; using the current access token until it expires", "err", err)
			return o.cur, nil
		}
		return tok, err
	}
	if o.opts.Agent != nil {
		tok, err := o.opts.Agent.Token(ctx)
		switch {
		case err == nil:
			o.cur, o.life = tok, 0
			if !tok.Expiry.IsZero() {
				o.life = tok.Expiry.Sub(now)
			}
			return tok, nil
		case o.cur.Valid(now, 0):
			o.opts.Logger.Warn("oidc-agent failed; using the current access token until it expires", "err", err)
			return o.cur, nil
		}
		return Token{}, err
	}
	if o.cur.Valid(now, 0) {
		return o.cur, nil
	}
	if o.cur.Value == "" {
		return Token{}, rejected("OIDC access token", "export OS_ACCESS_TOKEN (or OIDC_ACCESS_TOKEN) with a token from https://aai.egi.eu/token, or set OIDC_REFRESH_TOKEN so that earthmount gets its own",
			"no access token and no refresh token")
	}
	return Token{}, rejected("OIDC access token",
		"get a new access token (https://aai.egi.eu/token, or oidc-token) and restart earthmount, or set OIDC_REFRESH_TOKEN (refresh_token:) so that earthmount renews it itself",
		"the access token from %s expired at %s and there is no refresh token", o.opts.AccessTokenFrom, o.cur.Expiry.Format(time.RFC3339))
}

// renew exchanges the refresh token for an access token.
func (o *OIDC) renew(ctx context.Context) (Token, error) {
	if o.tokenURL == "" {
		u, err := o.discover(ctx)
		if err != nil {
			return Token{}, err
		}
		o.tokenURL = u
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {o.refresh.Reveal()},
		"client_id":     {o.opts.ClientID},
	}
	if o.opts.ClientSecret != "" {
		form.Set("client_secret", o.opts.ClientSecret.Reveal())
	}
	if o.opts.Scope != "" {
		form.Set("scope", o.opts.Scope)
	}
	step := "OIDC refresh at " + o.tokenURL
	_, body, err := do(ctx, o.opts.HTTPClient, call{
		step: step, kind: "oidc_refresh", method: http.MethodPost, url: o.tokenURL, body: strings.NewReader(form.Encode()),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		ok:     []int{http.StatusOK},
		hint: fmt.Sprintf("the refresh token from %s was refused (expired, revoked, or issued to another client than %q): create a new one (https://aai.egi.eu/token for EGI Check-in) and set OIDC_REFRESH_TOKEN",
			o.opts.RefreshTokenFrom, o.opts.ClientID),
	})
	if err != nil {
		return Token{}, err
	}
	var r struct {
		AccessToken  string  `json:"access_token"`
		ExpiresIn    float64 `json:"expires_in"`
		RefreshToken string  `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.AccessToken == "" {
		return Token{}, &StepError{Step: step, Err: fmt.Errorf("%w: the answer has no access_token", ErrUnreachable)}
	}
	now := o.opts.Now()
	tok := Token{Value: Secret(r.AccessToken)}
	if exp, err := JWTExpiry(r.AccessToken); err == nil {
		tok.Expiry = exp
	} else if r.ExpiresIn > 0 {
		tok.Expiry = now.Add(time.Duration(r.ExpiresIn * float64(time.Second)))
	}
	o.life = 0
	if r.ExpiresIn > 0 {
		o.life = time.Duration(r.ExpiresIn * float64(time.Second))
	}
	if r.RefreshToken != "" {
		o.refresh = Secret(r.RefreshToken)
	}
	o.cur = tok
	o.opts.Logger.Debug("OIDC access token renewed", "expires", tok.Expiry)
	return tok, nil
}

// discover reads the token endpoint from the issuer's discovery document.
func (o *OIDC) discover(ctx context.Context) (string, error) {
	u := o.opts.Issuer + "/.well-known/openid-configuration"
	step := "OIDC discovery at " + u
	_, body, err := do(ctx, o.opts.HTTPClient, call{
		step: step, kind: "oidc_discovery", method: http.MethodGet, url: u, ok: []int{http.StatusOK},
		hint: "check oidc_issuer (default " + DefaultIssuer + ")",
	})
	if err != nil {
		return "", err
	}
	var d struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.TokenEndpoint == "" {
		return "", &StepError{Step: step, Err: fmt.Errorf("%w: no token_endpoint in the discovery document", ErrUnreachable), Hint: "check oidc_issuer"}
	}
	return d.TokenEndpoint, nil
}
