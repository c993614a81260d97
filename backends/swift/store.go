package swift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/backends"
)

// Defaults of a Store.
const (
	defaultAttempts = 4   // tries of one idempotent request
	headParallel    = 8   // concurrent HEADs that check 0-byte listing entries
	maxAccountPages = 100 // bounds the account listing against a server that never ends it
)

// Config configures a Store.
type Config struct {
	// Remote is the remote's name, for errors and logs.
	Remote string
	// Containers, when set, are the only containers the Store shows, and
	// the account is never listed. Otherwise List("", "/") lists the
	// account's containers.
	Containers []string
	// Client is an object-store client: its Endpoint is the storage URL
	// (".../v1/AUTH_project") and its ProviderClient carries the token and
	// the re-authentication hook. Required.
	Client *gophercloud.ServiceClient
	// Connect, when set, runs before every request. A lazy token source
	// logs in there on first use and fills Client.Endpoint; it must be
	// cheap once done and safe for concurrent use. Its errors are reported
	// as they are classified (use backends' kinds).
	Connect func(ctx context.Context) error
	// MaxAttempts bounds the tries of one read-only request that failed
	// with a throttling, server or network error; 0 means 4.
	MaxAttempts int
	// StallTimeout gives up a response body that sends nothing for this
	// long and reads on with a new request; 0 means DefaultStallTimeout.
	StallTimeout time.Duration
	// Logger receives warnings (retries); nil discards them.
	Logger *slog.Logger
	// OnRetry, when set, hears of every attempt beyond the first, by
	// operation ("list", "stat", "read", ...), for metrics.
	OnRetry func(op string)
}

// Store is a backends.Store over one Swift account. It is safe for
// concurrent use.
type Store struct {
	client     *gophercloud.ServiceClient
	connect    func(ctx context.Context) error
	remote     string
	containers []string // configured containers in prefix order; nil: list the account
	attempts   int
	stall      time.Duration // body silence after which a read starts over
	onRetry    func(op string)
	log        *slog.Logger
}

// DefaultStallTimeout is far above a healthy gap between packets and far
// below the minutes a hung connection would otherwise cost.
const DefaultStallTimeout = 20 * time.Second

var _ backends.Store = (*Store)(nil)

// New validates cfg and returns a Store. It sends nothing over the
// network: the first request waits for the first List, Stat or ReadAt.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Client == nil || cfg.Client.ProviderClient == nil {
		return nil, fmt.Errorf("swift remote %q: no object-store client", cfg.Remote)
	}
	for _, c := range cfg.Containers {
		if c == "" || strings.Contains(c, "/") {
			return nil, fmt.Errorf("swift remote %q: invalid container name %q (empty or with a /)", cfg.Remote, c)
		}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = defaultAttempts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	var containers []string
	if cfg.Containers != nil {
		containers = sortContainers(slices.Clone(cfg.Containers))
	}
	return &Store{
		client:     cfg.Client,
		connect:    cfg.Connect,
		remote:     cfg.Remote,
		containers: containers,
		attempts:   cfg.MaxAttempts,
		stall:      cfg.StallTimeout,
		onRetry:    cfg.OnRetry,
		log:        cfg.Logger.With("store", cfg.Remote),
	}, nil
}

// splitKey splits a store key into container and object name. ok is false
// when the key names no object inside a container ("", "c", "c/").
func splitKey(key string) (container, object string, ok bool) {
	container, object, _ = strings.Cut(key, "/")
	return container, object, container != "" && object != ""
}

// sortContainers sorts names in the order of their prefixes ("a-b/" <
// "a/"), which is the order keys have across containers, and drops
// duplicates.
func sortContainers(names []string) []string {
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(a+"/", b+"/") })
	return slices.Compact(names)
}

// containerURL is the URL of a container, with a query if q is not nil.
func (s *Store) containerURL(container string, q url.Values) string {
	u := s.client.ServiceURL(url.PathEscape(container))
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// ready runs the Connect hook, if any.
func (s *Store) ready(ctx context.Context, op, key string) error {
	if s.connect == nil {
		return nil
	}
	err := s.connect(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return s.fail(ctx, op, key, err)
	}
	// The login's error names the failed step and what to do: no hint.
	if kind := classify(err); kind != nil {
		err = backends.Kind(kind, err)
	}
	return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: err}
}

// containerNames returns the configured containers, or lists the
// account, in prefix order.
func (s *Store) containerNames(ctx context.Context) ([]string, error) {
	if s.containers != nil {
		return s.containers, nil
	}
	var names []string
	marker := ""
	for range maxAccountPages {
		var page []listEntry
		q := url.Values{"format": {"json"}, "limit": {fmt.Sprint(maxListing)}}
		if marker != "" {
			q.Set("marker", marker)
		}
		u := s.client.ServiceURL()
		err := s.retry(ctx, "list", "", func() error {
			page = nil
			_, err := s.client.Get(ctx, u+"?"+q.Encode(), &page, &gophercloud.RequestOpts{OkCodes: []int{200, 204}})
			return err
		})
		if err != nil {
			err = s.fail(ctx, "list", "", err)
			var be *backends.Error
			if errors.Is(err, backends.ErrPermission) && errors.As(err, &be) {
				be.Hint = "this login may not list the account; name the containers in containers: in the config"
			}
			return nil, err
		}
		if len(page) == 0 {
			return sortContainers(names), nil
		}
		for _, e := range page {
			names = append(names, e.Name)
		}
		marker = page[len(page)-1].Name
	}
	return nil, &backends.Error{Op: "list", Remote: s.remote,
		Err: backends.Kind(backends.ErrUnavailable, errors.New("the account listing does not end"))}
}

// knownContainer reports a container that is not among the configured
// ones without asking the server.
func (s *Store) knownContainer(op, key, container string) error {
	if s.containers == nil || slices.Contains(s.containers, container) {
		return nil
	}
	return s.containerNotExist(op, key, container, nil)
}
