package icos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// binding is one row of SPARQL JSON results: variable -> value (unbound
// optional variables are missing).
type binding map[string]string

// query runs one SPARQL SELECT, POSTed as text like icoscp_core does.
// The first line of q is a "# fuse:<name>" comment, which the portal
// ignores and an emulator may dispatch on. 503 (query quota), 429, 5xx
// and network errors are retried with exponential backoff; a 503 that
// persists is ErrThrottled.
func (s *Store) query(ctx context.Context, q string) ([]binding, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	if until := s.throttledUntil(); until.After(s.cfg.Now()) {
		return nil, backends.Kind(backends.ErrThrottled, fmt.Errorf("SPARQL: the portal refused queries; not asking again before %s", until.Format(time.TimeOnly)))
	}
	wait := s.cfg.RetryBase
	for attempt := 0; ; attempt++ {
		rows, retryAfter, err := s.queryOnce(ctx, q)
		if errors.Is(err, backends.ErrThrottled) && attempt >= s.cfg.MaxRetries {
			// Still over quota after the backoff: pause all queries for a
			// while (the portal bans clients that keep asking).
			s.mu.Lock()
			s.pauseUntil = s.cfg.Now().Add(throttlePause)
			s.mu.Unlock()
		}
		if err == nil || !transient(err) || attempt >= s.cfg.MaxRetries {
			return rows, err
		}
		d := max(wait, retryAfter)
		s.log.Debug("SPARQL query failed; retrying", "in", d, "err", err)
		if s.cfg.OnRetry != nil {
			s.cfg.OnRetry("sparql")
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (after: %v)", ctx.Err(), err)
		}
		wait *= 2
	}
}

// throttlePause is how long no query is sent after the retries of one
// ran into the quota: the portal's quota is per minute.
const throttlePause = time.Minute

func (s *Store) throttledUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pauseUntil
}

func (s *Store) queryOnce(ctx context.Context, q string) ([]binding, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.MetaURL+"/sparql", strings.NewReader(q))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Accept", "application/sparql-results+json")
	s.queries.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if certificateError(err) {
			return nil, 0, fmt.Errorf("SPARQL: %w (%s)", err, certificateHint) // not transient: no retry
		}
		return nil, 0, backends.Kind(backends.ErrUnavailable, fmt.Errorf("SPARQL: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		cause := fmt.Errorf("SPARQL: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		retryAfter := time.Duration(0)
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			retryAfter = min(time.Duration(n)*time.Second, 2*time.Minute)
		}
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests:
			return nil, retryAfter, backends.Kind(backends.ErrThrottled, cause)
		case resp.StatusCode >= 500:
			return nil, retryAfter, backends.Kind(backends.ErrUnavailable, cause)
		default:
			return nil, 0, cause
		}
	}
	var doc struct {
		Results struct {
			Bindings []map[string]struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"bindings"`
		} `json:"results"`
	}
	// A failure after streaming began appends text to a 200 body: the
	// JSON then fails to parse, which is an outage, not an empty result.
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, 0, backends.Kind(backends.ErrUnavailable, fmt.Errorf("SPARQL: unreadable results: %w", err))
	}
	rows := make([]binding, len(doc.Results.Bindings))
	for i, b := range doc.Results.Bindings {
		r := make(binding, len(b))
		for k, v := range b {
			r[k] = v.Value
		}
		rows[i] = r
	}
	return rows, 0, nil
}
