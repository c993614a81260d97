package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrICOSLoginRefused is a login that cpauth refused (403: wrong user
// name or password). It is remembered: the same credentials are not
// tried again until the credentials file changes.
var ErrICOSLoginRefused = errors.New("ICOS login refused")

// ErrICOSTokenExpired is a configured cookie token that has expired (or
// will within ten seconds); such a token cannot be renewed.
var ErrICOSTokenExpired = errors.New("ICOS cookie token expired")

// Margins of icoscp_core: a token is renewed once less than the freshness
// margin remains; a fixed cookie token is refused within the expiry margin.
const (
	ICOSFreshnessMargin = time.Hour
	icosExpiryMargin    = 10 * time.Second
)

// ICOSOptions configures an ICOSSource. The credentials are tried in
// icoscp_core's order: CookieToken, then $ICOS_COOKIE_TOKEN, then the
// CredentialsFile (if it exists), then Username and Password; with none
// of them the source is anonymous.
type ICOSOptions struct {
	AuthURL         string // cpauth base URL, e.g. https://cpauth.icos-cp.eu
	CookieToken     Secret
	Getenv          func(string) string // nil: the environment is not read
	CredentialsFile string              // icoscp_core's JSON file; "" for none
	Username        string
	Password        Secret
	HTTPClient      *http.Client
	Logger          *slog.Logger
	Now             func() time.Time
	// FreshnessMargin: renew when less than this remains; 0 means
	// ICOSFreshnessMargin (tests with short-lived tokens lower it).
	FreshnessMargin time.Duration
}

type icosKind int

const (
	icosAnonymous icosKind = iota
	icosCookieConfig
	icosCookieEnv
	icosFile
	icosPassword
)

// ICOSSource hands out cpauth cookies, logging in lazily with
// POST /password/login and again when the held token has less than the
// freshness margin left. With a credentials file it reads the cached
// cookie from it and writes every new one back, as icoscp_core does.
// Safe for concurrent use; one login at a time.
type ICOSSource struct {
	opts ICOSOptions
	kind icosKind
	log  *slog.Logger

	mu      sync.Mutex // held across a login, so concurrent callers share it
	tok     ICOSToken
	creds   ICOSCredentials
	loaded  bool
	failed  error     // sticky login failure
	fileMod time.Time // credentials file mtime when read
	logins  int
}

// NewICOSSource decides which credentials to use. It reads no file and
// contacts nothing, except for checking whether the credentials file
// exists.
func NewICOSSource(opts ICOSOptions) (*ICOSSource, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FreshnessMargin <= 0 {
		opts.FreshnessMargin = ICOSFreshnessMargin
	}
	s := &ICOSSource{opts: opts, log: opts.Logger}
	env := ""
	if opts.Getenv != nil {
		env = opts.Getenv("ICOS_COOKIE_TOKEN")
	}
	switch {
	case opts.CookieToken != "":
		s.kind = icosCookieConfig
		return s, s.setCookie(opts.CookieToken.Reveal(), "cookie_token")
	case env != "":
		s.kind = icosCookieEnv
		return s, s.setCookie(env, "ICOS_COOKIE_TOKEN")
	case opts.CredentialsFile != "" && icosFileExists(opts.CredentialsFile):
		s.kind = icosFile
	case opts.Username != "" || opts.Password != "":
		if opts.Username == "" || opts.Password == "" {
			return nil, errors.New("icos: username and password go together")
		}
		s.kind = icosPassword
		s.creds = ICOSCredentials{User: opts.Username, Password: opts.Password}
		s.loaded = true
	}
	if s.kind != icosAnonymous && s.kind != icosCookieConfig && s.kind != icosCookieEnv && opts.AuthURL == "" {
		return nil, errors.New("icos: an auth URL is needed to log in")
	}
	return s, nil
}

func (s *ICOSSource) setCookie(v, where string) error {
	t, err := ParseICOSCookie(v)
	if err != nil {
		return fmt.Errorf("icos %s: %w", where, err)
	}
	s.tok = t
	return nil
}

func icosFileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Describe says which credentials the source uses, never a secret.
func (s *ICOSSource) Describe() string {
	switch s.kind {
	case icosCookieConfig:
		return "cookie token from config"
	case icosCookieEnv:
		return "cookie token from ICOS_COOKIE_TOKEN"
	case icosFile:
		return "icoscp_core credentials file " + s.opts.CredentialsFile
	case icosPassword:
		return "user and password from config (" + s.opts.Username + ")"
	}
	return "anonymous (no ICOS credentials; licensed data cannot be read)"
}

// Anonymous reports whether the source has no credentials at all.
func (s *ICOSSource) Anonymous() bool { return s.kind == icosAnonymous }

// CanRenew reports whether the source can log in again (it has a user
// and a password, directly or in the credentials file).
func (s *ICOSSource) CanRenew() bool { return s.kind == icosFile || s.kind == icosPassword }

// Logins counts the logins this source made.
func (s *ICOSSource) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Cookie returns the Cookie header value to send: "" when anonymous, the
// held token while it is fresh, else one from a new login.
func (s *ICOSSource) Cookie(ctx context.Context) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	switch s.kind {
	case icosAnonymous:
		return "", nil
	case icosCookieConfig, icosCookieEnv:
		if s.tok.Expiry.Sub(now) < icosExpiryMargin {
			return "", fmt.Errorf("%w at %s (%s); set a new one", ErrICOSTokenExpired, s.tok.Expiry.UTC().Format(time.RFC3339), s.Describe())
		}
		return s.tok.Cookie, nil
	}
	if err := s.loadLocked(); err != nil {
		return "", err
	}
	if s.tok.Cookie != "" && s.tok.Expiry.Sub(now) > s.opts.FreshnessMargin {
		return s.tok.Cookie, nil
	}
	return s.loginLocked(ctx)
}

// Renew logs in again if the held token is still used, the one a server
// just refused; a caller that lost the race gets the newer token. Fixed
// cookie tokens cannot be renewed: it returns used again.
func (s *ICOSSource) Renew(ctx context.Context, used Secret) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.CanRenew() {
		return used, nil
	}
	if err := s.loadLocked(); err != nil {
		return "", err
	}
	if s.tok.Cookie != "" && s.tok.Cookie != used {
		return s.tok.Cookie, nil
	}
	return s.loginLocked(ctx)
}

// loadLocked reads the credentials file once, and again after a failed
// login if the file changed since (the user ran a new login).
// LOCKS_REQUIRED(s.mu)
func (s *ICOSSource) loadLocked() error {
	if s.kind != icosFile {
		if s.failed != nil {
			return s.failed
		}
		return nil
	}
	fi, err := os.Stat(s.opts.CredentialsFile)
	if s.loaded && (s.failed == nil || err != nil || fi.ModTime().Equal(s.fileMod)) {
		return s.failed
	}
	if err != nil {
		return fmt.Errorf("icos: %w", err)
	}
	c, err := ReadICOSCredentials(s.opts.CredentialsFile)
	if err != nil {
		return err
	}
	s.creds, s.loaded, s.failed, s.fileMod = c, true, nil, fi.ModTime()
	s.tok = ICOSToken{}
	if c.Cookie != "" {
		if t, err := ParseICOSCookie(c.Cookie.Reveal()); err == nil {
			s.tok = t
		} else {
			s.log.Warn("ignoring the unreadable cached ICOS token", "file", s.opts.CredentialsFile, "err", err)
		}
	}
	return nil
}

// loginLocked logs in with the held user and password and keeps the new
// token; with a credentials file it writes the token back.
// LOCKS_REQUIRED(s.mu)
func (s *ICOSSource) loginLocked(ctx context.Context) (Secret, error) {
	if s.failed != nil {
		return "", s.failed
	}
	tok, err := ICOSLogin(ctx, s.opts.HTTPClient, s.opts.AuthURL, s.creds.User, s.creds.Password)
	s.logins++
	if err != nil {
		if errors.Is(err, ErrICOSLoginRefused) {
			s.failed = err
			s.log.Error("ICOS login refused; fix the credentials (earthmount login icos) and remount",
				"user", s.creds.User, "credentials", s.Describe(), "err", err)
		}
		return "", err
	}
	s.tok = tok
	s.log.Info("logged in to ICOS", "user", tok.User, "expires", tok.Expiry.UTC().Format(time.RFC3339))
	if s.kind == icosFile {
		c := s.creds
		c.Cookie = tok.Cookie
		if err := WriteICOSCredentials(s.opts.CredentialsFile, c); err != nil {
			s.log.Warn("could not update the ICOS credentials file", "err", err)
		} else if fi, err := os.Stat(s.opts.CredentialsFile); err == nil {
			s.creds, s.fileMod = c, fi.ModTime()
		}
	}
	return tok.Cookie, nil
}

// ICOSLogin posts user and password to authURL/password/login and returns
// the token of the cpauthToken cookie, kept as icoscp_core keeps it (the
// Set-Cookie text up to the first whitespace). A 403 is
// ErrICOSLoginRefused and is not retried; no answer, 429 and 5xx are
// retried with backoff.
func ICOSLogin(ctx context.Context, client *http.Client, authURL, user string, password Secret) (ICOSToken, error) {
	for attempt := 1; ; attempt++ {
		tok, wait, err := icosLoginOnce(withExchange(ctx, "icos_login", attempt), client, authURL, user, password)
		if wait < 0 || attempt >= loginAttempts || ctx.Err() != nil {
			return tok, err
		}
		if wait == 0 {
			wait = loginBackoff(attempt)
		}
		if sleepCtx(ctx, wait) != nil {
			return tok, err
		}
	}
}

// icosLoginOnce tries once; wait < 0 means the outcome is final, else it
// is the server's Retry-After (0: none).
func icosLoginOnce(ctx context.Context, client *http.Client, authURL, user string, password Secret) (ICOSToken, time.Duration, error) {
	form := url.Values{"mail": {user}, "password": {password.Reveal()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(authURL, "/")+"/password/login", strings.NewReader(form.Encode()))
	if err != nil {
		return ICOSToken{}, -1, fmt.Errorf("icos login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return ICOSToken{}, 0, fmt.Errorf("icos login: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return ICOSToken{}, -1, fmt.Errorf("%w for %s: %s", ErrICOSLoginRefused, user, strings.TrimSpace(string(body)))
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return ICOSToken{}, retryAfter(resp.Header), fmt.Errorf("icos login: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	case resp.StatusCode != http.StatusOK:
		return ICOSToken{}, -1, fmt.Errorf("icos login: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, ICOSCookieName+"=") {
			tok, err := ParseICOSCookie(icosSetCookieValue(h))
			return tok, -1, err
		}
	}
	return ICOSToken{}, -1, errors.New("icos login: no cpauthToken cookie in the answer")
}
