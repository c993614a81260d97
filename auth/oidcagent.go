package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// OIDCAgent asks a running oidc-agent for access tokens over its UNIX
// socket (the path in OIDC_SOCK), as `oidc-token` does: one JSON request,
// one JSON answer per connection.
type OIDCAgent struct {
	Socket string
	// Account is the oidc-agent account short name (OIDC_AGENT_ACCOUNT);
	// when empty the agent picks the account of Issuer.
	Account string
	Issuer  string
	// MinValid asks for a token valid at least this long; 0 means 5 min.
	MinValid time.Duration
}

// Token asks the agent.
func (a *OIDCAgent) Token(ctx context.Context) (Token, error) {
	const step = "oidc-agent"
	hint := "is oidc-agent running (OIDC_SOCK) with the account loaded? try `oidc-token " + a.Account + "`; or set OIDC_REFRESH_TOKEN"
	minValid := a.MinValid
	if minValid == 0 {
		minValid = 5 * time.Minute
	}
	req := map[string]any{"request": "access_token", "min_valid_period": int(minValid.Seconds()), "application_hint": "earthmount"}
	if a.Account != "" {
		req["account"] = a.Account
	} else {
		req["issuer"] = a.Issuer
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", a.Socket)
	if err != nil {
		return Token{}, unreachable(step, hint, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(time.Minute)) // the agent may ask the user to unlock
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return Token{}, unreachable(step, hint, err)
	}
	var resp struct {
		Status      string `json:"status"`
		AccessToken string `json:"access_token"`
		ExpiresAt   int64  `json:"expires_at"`
		Error       string `json:"error"`
		Info        string `json:"info"`
	}
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return Token{}, unreachable(step, hint, fmt.Errorf("reading the answer: %w", err))
	}
	if resp.Status != "success" || resp.AccessToken == "" {
		msg := resp.Error
		if resp.Info != "" {
			msg += ": " + resp.Info
		}
		return Token{}, rejected(step, hint, "the agent said %q", msg)
	}
	tok := Token{Value: Secret(resp.AccessToken)}
	if resp.ExpiresAt > 0 {
		tok.Expiry = time.Unix(resp.ExpiresAt, 0).UTC()
	} else if exp, err := JWTExpiry(resp.AccessToken); err == nil {
		tok.Expiry = exp
	}
	return tok, nil
}
