package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Token is a credential with its lifetime, plus what the login that issued
// it learnt on the way (the storage URL, the user and project), which the
// consumers need and must not ask for again.
type Token struct {
	Value Secret
	// Expiry is when the server stops accepting Value; zero means unknown
	// (the token is used until it is refused).
	Expiry time.Time
	// Endpoint is the storage URL that came with the token: the catalog's
	// object-store endpoint, Swift v1's X-Storage-Url, or the configured one.
	Endpoint string
	// UserID and ProjectID are the Keystone user and project the token is
	// for (EC2 credentials are listed per user and made per project).
	UserID, ProjectID string
}

// Valid reports whether t can still be used at now for at least skew.
func (t Token) Valid(now time.Time, skew time.Duration) bool {
	return t.Value != "" && (t.Expiry.IsZero() || now.Add(skew).Before(t.Expiry))
}

// Source yields a token. Implementations may contact a server; Cached adds
// laziness, reuse, refresh ahead of expiry and failure back-off.
type Source interface {
	Token(ctx context.Context) (Token, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Token, error)

// Token calls f.
func (f SourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// The kinds of failure; StepErrors wrap one so that the composition root
// can map them to the stores' error kinds with errors.Is.
var (
	// ErrRejected: a server refused the credentials (401, 403, or an OAuth
	// invalid_grant), or they are missing or expired.
	ErrRejected = errors.New("credentials refused")
	// ErrUnreachable: no usable answer from an identity server (network,
	// 5xx, a malformed answer).
	ErrUnreachable = errors.New("identity service unavailable")
)

// StepError says which step of a login failed and what the user can do.
type StepError struct {
	Step string // "OIDC refresh at https://...", "Keystone federated login", ...
	Err  error  // wraps ErrRejected or ErrUnreachable
	Hint string // what to do; may be empty
}

func (e *StepError) Error() string {
	msg := e.Step + ": " + e.Err.Error()
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// rejected builds a StepError of kind ErrRejected.
func rejected(step, hint, format string, args ...any) error {
	return &StepError{Step: step, Err: fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...)), Hint: hint}
}

// unreachable builds a StepError of kind ErrUnreachable around cause.
func unreachable(step, hint string, cause error) error {
	return &StepError{Step: step, Err: fmt.Errorf("%w: %w", ErrUnreachable, cause), Hint: hint}
}
