package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// call is one HTTP exchange of a login step.
type call struct {
	step   string
	kind   string // short name of the exchange for metrics (Exchange.Kind)
	method string
	url    string
	header map[string]string
	body   io.Reader // JSON unless header says otherwise
	ok     []int     // accepted statuses
	hint   string    // what to do when the server refuses (401/403/400/404)
	once   bool      // not idempotent (it creates something): never sent twice
}

// maxBody bounds what is read of an identity answer (a catalog is a few
// kB; a huge answer is an error, not a reason to run out of memory).
const maxBody = 4 << 20

// Retries of identity requests that failed in a way that heals: no answer,
// a body cut short, 429 or 5xx. A refusal is never retried (a wrong
// password tried again only locks accounts).
const (
	loginAttempts   = 4
	loginRetryBase  = 200 * time.Millisecond
	loginRetryMax   = 3 * time.Second
	loginRetryAfter = 10 * time.Second // longest Retry-After honoured
)

// do runs c, retrying what heals, and returns the response headers and
// body. A refusal (400, 401, 403, 404) is ErrRejected with c.hint;
// anything else unexpected is ErrUnreachable.
func do(ctx context.Context, client *http.Client, c call) (http.Header, []byte, error) {
	var payload []byte
	if c.body != nil {
		var err error
		if payload, err = io.ReadAll(c.body); err != nil {
			return nil, nil, &StepError{Step: c.step, Err: fmt.Errorf("%w: %w", ErrUnreachable, err)}
		}
	}
	var err error
	for attempt := 1; ; attempt++ {
		var h http.Header
		var body []byte
		var wait time.Duration
		h, body, wait, err = doOnce(withExchange(ctx, c.kind, attempt), client, c, payload)
		if wait < 0 || c.once || attempt >= loginAttempts || ctx.Err() != nil {
			return h, body, err
		}
		if wait == 0 {
			wait = loginBackoff(attempt)
		}
		if serr := sleepCtx(ctx, wait); serr != nil {
			return nil, nil, err
		}
	}
}

// doOnce sends c once. wait < 0 means the outcome is final (success or a
// refusal); otherwise the failure may heal and wait is the server's
// Retry-After (0: none given).
func doOnce(ctx context.Context, client *http.Client, c call, payload []byte) (http.Header, []byte, time.Duration, error) {
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, rd)
	if err != nil {
		return nil, nil, -1, &StepError{Step: c.step, Err: fmt.Errorf("%w: %w", ErrUnreachable, err)}
	}
	req.Header.Set("Accept", "application/json")
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, 0, unreachable(c.step, "check the URL and the network", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, 0, unreachable(c.step, "", err)
	}
	for _, s := range c.ok {
		if resp.StatusCode != s {
			continue
		}
		if jsonAnswer(resp.Header) && len(body) > 0 && !json.Valid(body) {
			// A well-framed but truncated answer: the same as a cut one.
			return nil, nil, 0, unreachable(c.step, "", fmt.Errorf("%s %s: HTTP %d with an incomplete JSON body (%d bytes)",
				c.method, redactURL(c.url), resp.StatusCode, len(body)))
		}
		return resp.Header, body, -1, nil
	}
	detail := fmt.Sprintf("%s %s: HTTP %d%s", c.method, redactURL(c.url), resp.StatusCode, serverMessage(body))
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return nil, nil, -1, rejected(c.step, c.hint, "%s", detail)
	}
	err = unreachable(c.step, "the server failed; try again later", errors.New(detail))
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		return nil, nil, -1, err
	}
	return nil, nil, retryAfter(resp.Header), err
}

// jsonAnswer reports whether a response says its body is JSON.
func jsonAnswer(h http.Header) bool {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// retryAfter reads a Retry-After in seconds, capped; 0 when absent.
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, loginRetryAfter)
}

// loginBackoff is a jittered exponential delay before another attempt.
func loginBackoff(attempt int) time.Duration {
	d := min(loginRetryBase<<min(attempt-1, 8), loginRetryMax)
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serverMessage extracts a short error text from an OpenStack or OAuth
// error body, never echoing anything long.
func serverMessage(body []byte) string {
	var e struct {
		Error any    `json:"error"`
		Desc  string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := ""
	switch v := e.Error.(type) {
	case string:
		msg = v
	case map[string]any:
		if m, ok := v["message"].(string); ok {
			msg = m
		}
	}
	if e.Desc != "" {
		msg += ": " + e.Desc
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		return ""
	}
	return " (" + strings.TrimSpace(msg) + ")"
}

// redactURL drops a URL's query, which may carry credentials.
func redactURL(u string) string {
	u, _, _ = strings.Cut(u, "?")
	return u
}

// Exchange tells an HTTP transport which identity request it carries, so
// that metrics can count logins and renewals by kind and the retries of
// each: Kind is "oidc_refresh", "oidc_discovery", "keystone_federated",
// "keystone_scope", "keystone_password", "keystone_appcred",
// "keystone_projects", "ec2_list", "ec2_create", "swift_v1_login" or
// "icos_login"; Attempt counts from 1.
type Exchange struct {
	Kind    string
	Attempt int
}

type exchangeKey struct{}

func withExchange(ctx context.Context, kind string, attempt int) context.Context {
	return context.WithValue(ctx, exchangeKey{}, Exchange{Kind: kind, Attempt: attempt})
}

// ExchangeOf returns the identity request a request's context is for.
func ExchangeOf(ctx context.Context) (Exchange, bool) {
	e, ok := ctx.Value(exchangeKey{}).(Exchange)
	return e, ok
}
