package auth

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingSource hands out numbered tokens that live life, or fails.
type countingSource struct {
	clock *fakeClock
	life  time.Duration
	calls atomic.Int32
	fail  atomic.Bool
	gate  chan struct{} // when set, each call waits for it
}

func (s *countingSource) Token(ctx context.Context) (Token, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
	if s.fail.Load() {
		return Token{}, rejected("test login", "fix it", "refused #%d", n)
	}
	tok := Token{Value: Secret("tok-" + string(rune('0'+n)))}
	if s.life != 0 {
		tok.Expiry = s.clock.Now().Add(s.life)
	}
	return tok, nil
}

func TestCachedLazyReuseAndRefreshAhead(t *testing.T) {
	tests := []struct {
		name       string
		life, skew time.Duration
		noRefresh  time.Duration // still the first token at this age
		refreshAt  time.Duration // a new one at this age
	}{
		{name: "hour tokens, 5 min skew", life: time.Hour, skew: 5 * time.Minute, noRefresh: 54 * time.Minute, refreshAt: 56 * time.Minute},
		{name: "short tokens refresh with a fifth of life left", life: 10 * time.Second, skew: 5 * time.Minute, noRefresh: 7900 * time.Millisecond, refreshAt: 8100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			src := &countingSource{clock: clock, life: tt.life}
			c := NewCached(src, CachedOptions{Skew: tt.skew, Now: clock.Now})
			if src.calls.Load() != 0 {
				t.Fatal("NewCached logged in")
			}
			first, err := c.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.noRefresh)
			if tok, _ := c.Token(t.Context()); tok.Value != first.Value || src.calls.Load() != 1 {
				t.Errorf("at %v: refreshed too early (%d logins)", tt.noRefresh, src.calls.Load())
			}
			clock.Advance(tt.refreshAt - tt.noRefresh)
			if tok, _ := c.Token(t.Context()); tok.Value == first.Value || src.calls.Load() != 2 {
				t.Errorf("at %v: not refreshed (%d logins)", tt.refreshAt, src.calls.Load())
			}
		})
	}
}

func TestCachedSingleFlight(t *testing.T) {
	clock := newFakeClock()
	src := &countingSource{clock: clock, life: time.Hour, gate: make(chan struct{})}
	c := NewCached(src, CachedOptions{Now: clock.Now})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := c.Token(t.Context()); err != nil {
				errs <- err
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); src.calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no login started")
		}
		time.Sleep(time.Millisecond) // polling for the login to start
	}
	// A caller that gives up does not cancel the login for the others.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	close(src.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d logins for 21 concurrent callers, want 1", n)
	}
}

func TestCachedFailureBackoff(t *testing.T) {
	clock := newFakeClock()
	src := &countingSource{clock: clock, life: time.Hour}
	src.fail.Store(true)
	logs, log := newLogBuffer()
	c := NewCached(src, CachedOptions{Name: "eosc", Backoff: 30 * time.Second, Now: clock.Now, Logger: log})
	for range 10 {
		_, err := c.Token(t.Context())
		var se *StepError
		if !errors.Is(err, ErrRejected) || !errors.As(err, &se) || se.Step != "test login" {
			t.Fatalf("error %v, want the source's StepError", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d logins within the back-off, want 1", n)
	}
	clock.Advance(31 * time.Second)
	c.Token(t.Context())
	if n := src.calls.Load(); n != 2 {
		t.Errorf("%d logins after the back-off, want 2", n)
	}
	if n := logs.count("login failed;"); n != 1 {
		t.Errorf("%d error lines for one failure episode, want 1:\n%s", n, logs)
	}
	src.fail.Store(false)
	clock.Advance(31 * time.Second)
	if _, err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "login works again") {
		t.Errorf("no recovery line:\n%s", logs)
	}
}

func TestCachedRefreshFailureKeepsValidToken(t *testing.T) {
	clock := newFakeClock()
	src := &countingSource{clock: clock, life: time.Hour}
	c := NewCached(src, CachedOptions{Now: clock.Now})
	first, _ := c.Token(t.Context())
	src.fail.Store(true)
	clock.Advance(58 * time.Minute) // in the refresh window, still valid
	tok, err := c.Token(t.Context())
	if err != nil || tok.Value != first.Value {
		t.Errorf("got %v, %v; want the old token while it is valid", tok.Value, err)
	}
	clock.Advance(3 * time.Minute) // expired; the back-off has passed too
	if _, err := c.Token(t.Context()); !errors.Is(err, ErrRejected) {
		t.Errorf("after expiry: %v, want the login error", err)
	}
}

func TestCachedReject(t *testing.T) {
	clock := newFakeClock()
	src := &countingSource{clock: clock, life: time.Hour}
	c := NewCached(src, CachedOptions{Backoff: 30 * time.Second, Now: clock.Now})
	first, _ := c.Token(t.Context())
	if c.Reject("someone-else") {
		t.Error("rejecting another token dropped the current one")
	}
	if !c.Reject(first.Value) {
		t.Fatal("Reject of the current token did nothing")
	}
	second, err := c.Token(t.Context())
	if err != nil || second.Value == first.Value || src.calls.Load() != 2 {
		t.Fatalf("after Reject: %v, %v, %d logins", second.Value, err, src.calls.Load())
	}
	if c.Reject(first.Value) {
		t.Error("a late refusal of the old token dropped the new one")
	}
}

// TestCachedFreshRefusals tells a storage that refuses every fresh token
// (stop logging in, EACCES for the back-off) from one that refuses tokens
// at random or now and then (log in again every time).
func TestCachedFreshRefusals(t *testing.T) {
	// Each step uses the current token: 'r' refused before any success,
	// 'a' accepted then refused, 'w' wait 31 s then refused at once.
	tests := []struct {
		name   string
		steps  string
		trips  bool
		logins int32
	}{
		{name: "every fresh token refused", steps: "rrrrrr", trips: true, logins: 6},
		{name: "five are not enough", steps: "rrrrr", logins: 6},
		{name: "a token that worked starts the count anew", steps: "rrrrrarrrrr", logins: 12},
		{name: "refusals far apart", steps: "rrrrwrwrwr", logins: 11},
		{name: "tokens refused after they worked", steps: "aaaaaaaaaa", logins: 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			src := &countingSource{clock: clock, life: time.Hour}
			logs, log := newLogBuffer()
			c := NewCached(src, CachedOptions{Backoff: 30 * time.Second, Now: clock.Now, Logger: log})
			var err error
			for i, step := range tt.steps {
				var tok Token
				if tok, err = c.Token(t.Context()); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				switch step {
				case 'a':
					c.Accepted(tok.Value)
				case 'w':
					clock.Advance(31 * time.Second)
				}
				c.Reject(tok.Value)
			}
			_, err = c.Token(t.Context())
			if tt.trips != (err != nil) {
				t.Errorf("after %q: %v; want a failure: %v", tt.steps, err, tt.trips)
			}
			if tt.trips && (!errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "refused 6 tokens in a row") || logs.count("storage refuses fresh tokens") != 1) {
				t.Errorf("error %v; log:\n%s", err, logs)
			}
			c.Token(t.Context())
			if n := src.calls.Load(); n != tt.logins {
				t.Errorf("%d logins, want %d", n, tt.logins)
			}
			if tt.trips {
				clock.Advance(31 * time.Second)
				if _, err := c.Token(t.Context()); err != nil {
					t.Errorf("after the back-off: %v", err)
				}
			}
		})
	}
}

// TestCachedRandomRefusals runs 20,000 requests of which 10% are refused
// at random, 8 at a time: the guard must never trip.
func TestCachedRandomRefusals(t *testing.T) {
	clock := newFakeClock()
	src := &countingSource{clock: clock, life: time.Hour}
	c := NewCached(src, CachedOptions{Backoff: 30 * time.Second, Now: clock.Now})
	rng := rand.New(rand.NewPCG(6, 10))
	refused := 0
	for i := range 20000 / 8 {
		// 8 requests in flight with the same token; they answer in turn.
		tok, err := c.Token(t.Context())
		if err != nil {
			t.Fatalf("after %d requests (%d refused): %v", i*8, refused, err)
		}
		for range 8 {
			if rng.Float64() < 0.1 {
				refused++
				c.Reject(tok.Value)
			} else {
				c.Accepted(tok.Value)
			}
		}
		clock.Advance(10 * time.Millisecond)
	}
	if refused < 1500 {
		t.Errorf("only %d refusals", refused)
	}
}

func TestStaticRejected(t *testing.T) {
	s := NewStatic(Token{Value: "pre-issued", Endpoint: "http://127.0.0.1:1/v1/AUTH_x"}, "OS_AUTH_TOKEN")
	c := NewCached(s, CachedOptions{})
	tok, err := c.Token(t.Context())
	if err != nil || tok.Value != "pre-issued" {
		t.Fatal(tok, err)
	}
	c.Reject(tok.Value)
	_, err = c.Token(t.Context())
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "OS_AUTH_TOKEN") || !strings.Contains(err.Error(), "openstack token issue") {
		t.Errorf("after refusal: %v", err)
	}
}

func TestCachedExpiredOnArrival(t *testing.T) {
	clock := newFakeClock()
	src := &countingSource{clock: clock, life: -time.Second}
	c := NewCached(src, CachedOptions{Now: clock.Now})
	for range 3 {
		if _, err := c.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "system clock") {
			t.Fatalf("error %v, want one about the clock", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
}
