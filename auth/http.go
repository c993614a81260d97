package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// call is one HTTP exchange of a login step.
type call struct {
	step   string
	method string
	url    string
	header map[string]string
	body   io.Reader // JSON unless header says otherwise
	ok     []int     // accepted statuses
	hint   string    // what to do when the server refuses (401/403/400)
}

// maxBody bounds what is read of an identity answer (a catalog is a few
// kB; a huge answer is an error, not a reason to run out of memory).
const maxBody = 4 << 20

// do runs c and returns the response headers and body. A refusal (400,
// 401, 403, 404) is ErrRejected with c.hint; anything else unexpected is
// ErrUnreachable.
func do(ctx context.Context, client *http.Client, c call) (http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, c.body)
	if err != nil {
		return nil, nil, &StepError{Step: c.step, Err: fmt.Errorf("%w: %w", ErrUnreachable, err)}
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
		return nil, nil, unreachable(c.step, "check the URL and the network", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, unreachable(c.step, "", err)
	}
	for _, s := range c.ok {
		if resp.StatusCode == s {
			return resp.Header, body, nil
		}
	}
	detail := fmt.Sprintf("%s %s: HTTP %d%s", c.method, redactURL(c.url), resp.StatusCode, serverMessage(body))
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return nil, nil, rejected(c.step, c.hint, "%s", detail)
	}
	return nil, nil, unreachable(c.step, "the server failed; try again later", errors.New(detail))
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
