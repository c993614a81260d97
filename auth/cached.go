package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults for CachedOptions.
const (
	DefaultSkew    = 5 * time.Minute
	DefaultBackoff = 30 * time.Second
	DefaultTimeout = time.Minute
	// DefaultFreshRefusals: this many tokens in a row refused before the
	// storage accepted them means the storage refuses fresh tokens. With
	// random 401s on 10% of requests a run of six happens about once in a
	// million tokens; a store that refuses every token costs six logins.
	DefaultFreshRefusals = 6
)

// CachedOptions configures a Cached source.
type CachedOptions struct {
	// Name says whose login this is in log lines ("remote eosc").
	Name string
	// Skew: refresh this long before the token expires; 0 means
	// DefaultSkew. A token that lives less than 5*Skew is refreshed when a
	// fifth of its life is left instead, so short test tokens work too.
	Skew time.Duration
	// Backoff: how long a failed login is remembered and answered without
	// asking the server again; 0 means DefaultBackoff.
	Backoff time.Duration
	// Timeout bounds one login; 0 means DefaultTimeout.
	Timeout time.Duration
	// FreshRefusals: after this many tokens in a row were refused (Reject)
	// without being accepted once (Accepted), each within Backoff of the
	// previous refusal, the storage is taken to refuse fresh tokens and
	// Token fails for Backoff; 0 means DefaultFreshRefusals.
	FreshRefusals int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Cached makes a Source lazy (nothing happens before the first Token),
// reuses its token until shortly before expiry, runs one login at a time
// for all callers, and remembers a failure for a back-off period so that a
// refused login is not retried by every file access.
type Cached struct {
	src  Source
	opts CachedOptions

	mu        sync.Mutex
	tok       Token
	got       time.Time     // when tok was obtained
	inflight  chan struct{} // closed when the running login ends
	failErr   error
	failUntil time.Time
	failing   bool      // in a failure episode (logged once)
	accepted  bool      // a server accepted tok (Accepted)
	refusals  int       // tokens in a row refused before being accepted
	lastDrop  time.Time // when Reject last dropped a token
	logins    int
}

// NewCached wraps src.
func NewCached(src Source, opts CachedOptions) *Cached {
	if opts.Skew <= 0 {
		opts.Skew = DefaultSkew
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.FreshRefusals <= 0 {
		opts.FreshRefusals = DefaultFreshRefusals
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cached{src: src, opts: opts}
}

// skew is how long before expiry tok is refreshed.
func (c *Cached) skew(tok Token, got time.Time) time.Duration {
	if tok.Expiry.IsZero() {
		return 0
	}
	if life := tok.Expiry.Sub(got); life < 5*c.opts.Skew {
		return life / 5
	}
	return c.opts.Skew
}

// Token returns a token that is valid for a while yet, logging in when
// there is none, when it is about to expire, or after Invalidate. While a
// refresh ahead of expiry fails, the old token is returned as long as it is
// still valid.
func (c *Cached) Token(ctx context.Context) (Token, error) {
	for {
		c.mu.Lock()
		now := c.opts.Now()
		if c.tok.Valid(now, c.skew(c.tok, c.got)) {
			tok := c.tok
			c.mu.Unlock()
			return tok, nil
		}
		if c.failErr != nil && now.Before(c.failUntil) {
			tok, err := c.tok, c.failErr
			c.mu.Unlock()
			if tok.Valid(now, 0) {
				return tok, nil
			}
			return Token{}, err
		}
		wait := c.inflight
		if wait == nil {
			c.inflight = make(chan struct{})
			c.mu.Unlock()
			return c.login(ctx)
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
}

// login runs the source once under its own timeout, so that a caller that
// gives up does not fail the others waiting for the same login.
func (c *Cached) login(ctx context.Context) (Token, error) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	tok, err := c.src.Token(lctx)
	c.mu.Lock()
	now := c.opts.Now()
	switch {
	case err != nil:
	case tok.Value == "":
		err = &StepError{Step: "login", Err: fmt.Errorf("%w: the server returned an empty token", ErrUnreachable)}
	case !tok.Valid(now, 0):
		// Using it would log in again at once, for every caller.
		err = &StepError{Step: "login", Err: fmt.Errorf("%w: the new token expired at %s, before it arrived", ErrRejected, tok.Expiry.Format(time.RFC3339)),
			Hint: "check the system clock"}
	}
	defer func() {
		close(c.inflight)
		c.inflight = nil
		c.mu.Unlock()
	}()
	c.logins++
	if err != nil {
		c.failErr, c.failUntil = err, now.Add(c.opts.Backoff)
		if !c.failing {
			c.failing = true
			c.opts.Logger.Error("login failed; file access under this remote fails with EACCES until it works",
				"remote", c.opts.Name, "err", err, "retry_after", c.opts.Backoff)
		} else {
			c.opts.Logger.Debug("login failed again", "remote", c.opts.Name, "err", err)
		}
		if c.tok.Valid(now, 0) {
			return c.tok, nil // refreshing ahead failed; the old token still works
		}
		return Token{}, err
	}
	if c.failing {
		c.opts.Logger.Info("login works again", "remote", c.opts.Name)
	}
	c.failing, c.failErr = false, nil
	c.tok, c.got, c.accepted = tok, now, false
	c.opts.Logger.Debug("logged in", "remote", c.opts.Name, "expires", tok.Expiry)
	return tok, nil
}

// Invalidate drops the current token and any remembered failure: the next
// Token logs in again.
func (c *Cached) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tok, c.failErr, c.failUntil = Token{}, nil, time.Time{}
}

// Accepted reports that a server accepted value (answered a request made
// with it other than with a refusal). It tells a token refused at random
// from a storage that refuses every fresh token; it is cheap enough to
// call for every response.
func (c *Cached) Accepted(value Secret) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if value != "" && c.tok.Value == value && !c.accepted {
		c.accepted, c.refusals = true, 0
	}
}

// Reject reports that a server refused value. When value is still the
// current token it is dropped, so that the next Token logs in again, and
// the source hears of it (a pre-issued token cannot be renewed and turns
// into an error). When FreshRefusals tokens in a row were refused before
// any was accepted, even fresh tokens are refused: that is remembered as a
// failure instead of logging in for every request. A token refused after
// it worked (a revocation, or a refusal at random) starts the count anew.
// Reject reports whether it dropped the token.
func (c *Cached) Reject(value Secret) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if value == "" || c.tok.Value != value {
		return false
	}
	now := c.opts.Now()
	if r, ok := c.src.(interface{ Rejected(Secret) }); ok {
		r.Rejected(value)
	}
	switch {
	case c.accepted:
		c.refusals = 0
	case !c.lastDrop.IsZero() && now.Sub(c.lastDrop) >= c.opts.Backoff:
		c.refusals = 1
	default:
		c.refusals++
	}
	c.tok, c.accepted = Token{}, false
	if c.refusals >= c.opts.FreshRefusals {
		c.failErr = &StepError{Step: "storage request", Err: fmt.Errorf("%w: the storage service refused %d tokens in a row that were just issued", ErrRejected, c.refusals),
			Hint: "the account may lack a role on this project or the storage URL may belong to another project; check project_id and storage_url"}
		c.failUntil = now.Add(c.opts.Backoff)
		if !c.failing {
			c.failing = true
			c.opts.Logger.Error("storage refuses fresh tokens; file access fails with EACCES", "remote", c.opts.Name, "err", c.failErr, "retry_after", c.opts.Backoff)
		}
	}
	c.lastDrop = now
	return true
}

// Logins is how many logins ran (successful or not), for tests and stats.
func (c *Cached) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}
