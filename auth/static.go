package auth

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Static is a pre-issued token (OS_AUTH_TOKEN with OS_STORAGE_URL). It
// cannot be renewed: once the server has refused it, Token says so.
type Static struct {
	tok  Token
	from string // "OS_AUTH_TOKEN", "auth_token in the config"

	mu      sync.Mutex
	refused bool
}

// NewStatic returns a source that yields tok until it is refused.
func NewStatic(tok Token, from string) *Static { return &Static{tok: tok, from: from} }

// Token returns the token, or an error once it was refused.
func (s *Static) Token(context.Context) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused {
		return Token{}, rejected("pre-issued token", "issue a new one (openstack token issue) and restart earthmount with it",
			"the token from %s was refused by the storage service: it has expired or was revoked", s.from)
	}
	return s.tok, nil
}

// Rejected is called by Cached when the server refused the token.
func (s *Static) Rejected(v Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v == s.tok.Value {
		s.refused = true
	}
}

// SwiftV1 is Swift's own v1.0 authentication (tempauth, swauth and many
// Swift clusters): GET auth_url with X-Auth-User and X-Auth-Key.
type SwiftV1 struct {
	AuthURL    string
	User       string // "account:user" for tempauth
	Key        Secret
	StorageURL string // optional: replaces X-Storage-Url
	HTTPClient *http.Client
	Now        func() time.Time
}

// Token logs in.
func (s *SwiftV1) Token(ctx context.Context) (Token, error) {
	client := s.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	const step = "Swift v1 login"
	h, _, err := do(ctx, client, call{
		step: step, kind: "swift_v1_login", method: http.MethodGet, url: s.AuthURL,
		header: map[string]string{"X-Auth-User": s.User, "X-Auth-Key": s.Key.Reveal()},
		ok:     []int{http.StatusOK, http.StatusNoContent},
		hint:   "check auth_url, username (account:user for tempauth) and password",
	})
	if err != nil {
		return Token{}, err
	}
	tok := Token{Value: Secret(h.Get("X-Auth-Token")), Endpoint: h.Get("X-Storage-Url")}
	if s.StorageURL != "" {
		tok.Endpoint = s.StorageURL
	}
	if tok.Value == "" || tok.Endpoint == "" {
		return Token{}, &StepError{Step: step, Err: fmt.Errorf("%w: the answer lacks X-Auth-Token or X-Storage-Url", ErrUnreachable),
			Hint: "is auth_url a Swift v1 auth URL (such as https://host/auth/v1.0)?"}
	}
	if secs, err := strconv.ParseFloat(h.Get("X-Auth-Token-Expires"), 64); err == nil && secs > 0 {
		tok.Expiry = now().Add(time.Duration(secs * float64(time.Second)))
	}
	return tok, nil
}
