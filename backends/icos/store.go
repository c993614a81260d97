package icos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/backends"
)

// The real portal.
const (
	DefaultMetaURL = "https://meta.icos-cp.eu"
	DefaultDataURL = "https://data.icos-cp.eu"
	DefaultAuthURL = "https://cpauth.icos-cp.eu"
)

// Defaults of Config.
const (
	DefaultMetaTTL    = 10 * time.Minute
	DefaultPageSize   = 10000 // rows per SPARQL page (icoscp_core's maximum)
	DefaultRetryBase  = 2 * time.Second
	DefaultMaxRetries = 4
	DefaultDiskBudget = 4 << 30
	DefaultRefusalTTL = 30 * time.Second
	// DefaultStallTimeout is far above a healthy gap between packets and
	// far below the minutes a hung download would otherwise cost.
	DefaultStallTimeout = 20 * time.Second
)

// Authenticator hands out cpauth cookies; *auth.ICOSSource is one.
type Authenticator interface {
	// Cookie returns the Cookie header to send, "" when anonymous.
	Cookie(ctx context.Context) (auth.Secret, error)
	// Renew logs in again after a server refused used.
	Renew(ctx context.Context, used auth.Secret) (auth.Secret, error)
	// CanRenew reports whether Renew can log in at all.
	CanRenew() bool
	// Describe names the credentials, never a secret.
	Describe() string
}

// Config configures a Store. Zero values take the defaults above.
type Config struct {
	Remote  string // remote name, for errors and logs
	MetaURL string // meta host; SPARQL at MetaURL/sparql
	DataURL string // data host; objects at DataURL/objects/<id>
	AuthURL string // cpauth host, named in licence messages
	// Auth supplies the login cookie; nil reads anonymously.
	Auth           Authenticator
	ShowDeprecated bool
	HTTPClient     *http.Client // redirects are never followed
	Logger         *slog.Logger
	// MetaTTL is how long a SPARQL listing is trusted.
	MetaTTL time.Duration
	// PageSize is the LIMIT of one SPARQL page.
	PageSize int
	// RetryBase and MaxRetries shape the backoff on 503 and network
	// errors: RetryBase, doubled each time, MaxRetries times.
	RetryBase  time.Duration
	MaxRetries int
	// OnRetry, when set, hears of every attempt beyond the first
	// ("sparql", "download"), for metrics.
	OnRetry func(op string)
	// DiskBudget bounds the downloaded objects kept in temporary files
	// (an object larger than it is still downloaded, alone).
	DiskBudget int64
	// TempDir holds the (unlinked) download files; "" is
	// $XDG_CACHE_HOME/earthmount/icos (~/.cache/...: /tmp is often RAM),
	// else os.TempDir().
	TempDir string
	// RefusalTTL is how long a refused download (licence, not
	// distributed) is remembered, so that retries send no new GET.
	RefusalTTL time.Duration
	// StallTimeout gives up a download whose body sends nothing for this
	// long; it is resumed like one that broke off.
	StallTimeout time.Duration
	Now          func() time.Time
}

// Store is the ICOS portal as a read-only backends.Store.
type Store struct {
	cfg     Config
	log     *slog.Logger
	client  *http.Client
	ctx     context.Context // owns shared fetches; cancelled by Close
	cancel  context.CancelFunc
	queries atomic.Int64
	gets    atomic.Int64
	sem     chan struct{} // concurrent SPARQL queries

	types memo[[]string]
	trees memo[*tree]
	byID  memo[*file]
	blobs *blobs

	mu           sync.Mutex
	deniedCookie auth.Secret // a renewed cookie the licence check still refused
	pauseUntil   time.Time   // no SPARQL query before (quota)
	told         map[string]bool
}

var _ backends.Store = (*Store)(nil)

// New checks cfg and returns a Store. It sends no request.
func New(cfg Config) (*Store, error) {
	if cfg.MetaURL == "" {
		cfg.MetaURL = DefaultMetaURL
	}
	if cfg.DataURL == "" {
		cfg.DataURL = DefaultDataURL
	}
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	for _, u := range []*string{&cfg.MetaURL, &cfg.DataURL, &cfg.AuthURL} {
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("icos: %q is not an http(s) URL", *u)
		}
		*u = strings.TrimRight(*u, "/")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MetaTTL <= 0 {
		cfg.MetaTTL = DefaultMetaTTL
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.DiskBudget <= 0 {
		cfg.DiskBudget = DefaultDiskBudget
	}
	if cfg.RefusalTTL <= 0 {
		cfg.RefusalTTL = DefaultRefusalTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TempDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cfg.TempDir = filepath.Join(dir, "earthmount", "icos")
		}
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	client := *base
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := &Store{cfg: cfg, log: cfg.Logger, client: &client, sem: make(chan struct{}, 2), told: map[string]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.types.init(1)
	s.trees.init(256)
	s.byID.init(4096)
	s.blobs = newBlobs(s)
	return s, nil
}

// Close stops downloads and queries in flight and frees the temporary
// files.
func (s *Store) Close() error {
	s.cancel()
	s.blobs.close()
	return nil
}

// CredentialSource names the credentials in use, never a secret.
func (s *Store) CredentialSource() string {
	if s.cfg.Auth == nil {
		return "anonymous"
	}
	return s.cfg.Auth.Describe()
}

// Stats counts requests: SPARQL queries and object GETs sent.
type Stats struct {
	Queries   int64
	Downloads int64
}

// Stats returns the request counters.
func (s *Store) Stats() Stats {
	return Stats{Queries: s.queries.Load(), Downloads: s.gets.Load()}
}

// fail wraps a cause of the given kind into a *backends.Error.
func (s *Store) fail(op, key string, kind, cause error, hint string) error {
	return &backends.Error{Op: op, Remote: s.cfg.Remote, Key: key, Err: backends.Kind(kind, cause), Hint: hint}
}

// tellOnce logs a message once per key (a refused object, a licence).
func (s *Store) tellOnce(key string, fn func()) {
	s.mu.Lock()
	seen := s.told[key]
	if len(s.told) > 10000 {
		clear(s.told) // bounded: at worst a message repeats
	}
	s.told[key] = true
	s.mu.Unlock()
	if !seen {
		fn()
	}
}

// errClosed is the error of a request after Close.
var errClosed = errors.New("icos: store closed")
