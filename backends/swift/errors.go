package swift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/backends"
)

// kinds returns the backends kinds, in the order classify tests them on
// errors that already carry one (from the Connect hook or re-auth).
func kinds() []error {
	return []error{
		backends.ErrUnauthenticated, backends.ErrPermission, backends.ErrNotExist, backends.ErrStale,
		backends.ErrThrottled, backends.ErrUnavailable, backends.ErrNotSupported,
	}
}

// statusOf returns the HTTP status of a gophercloud error, or 0.
func statusOf(err error) int {
	var v gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &v) {
		return v.Actual
	}
	var p *gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &p) && p != nil {
		return p.Actual
	}
	return 0
}

// kindOfStatus maps an HTTP status to a kind, or nil.
func kindOfStatus(status int) error {
	switch {
	case status == 404:
		return backends.ErrNotExist
	case status == 401:
		return backends.ErrUnauthenticated
	case status == 403:
		return backends.ErrPermission
	case status == 412:
		return backends.ErrStale
	case status == 429 || status == 498 || status == 503:
		return backends.ErrThrottled
	case status >= 500:
		return backends.ErrUnavailable
	}
	return nil
}

// classify returns the backends kind of an error, or nil when none fits.
func classify(err error) error {
	if re, ok := asReauth(err); ok {
		return reauthKind(re.ErrReauth)
	}
	if kind := kindOfStatus(statusOf(err)); kind != nil {
		return kind
	}
	for _, k := range kinds() {
		if errors.Is(err, k) {
			return k
		}
	}
	// No response at all: refused, reset, DNS, TLS, timeouts. A JSON
	// answer (a listing) cut short or truncated is the same.
	var netErr net.Error
	var urlErr *url.Error
	var syntaxErr *json.SyntaxError
	if errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntaxErr) {
		return backends.ErrUnavailable
	}
	return nil
}

// reauthKind is the kind of a failed re-authentication after a 401: the
// kind the token source gave it, else ErrUnauthenticated.
func reauthKind(err error) error {
	for _, k := range kinds() {
		if errors.Is(err, k) {
			return k
		}
	}
	return backends.ErrUnauthenticated
}

// fail turns an error of an operation on key into the *backends.Error the
// Store returns: classified, described in one line, with a hint where the
// user can act. The caller's cancellation stays recognisable.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	var be *backends.Error
	if errors.As(err, &be) && be.Remote == s.remote {
		return err // already ours
	}
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: err}
	}
	short := &apiError{msg: describe(err), err: err}
	kind := classify(err)
	if kind == nil {
		return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: short}
	}
	return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: backends.Kind(kind, short), Hint: s.hint(kind, err)}
}

// apiError keeps a gophercloud error in the chain under a shorter message.
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// describe says what went wrong in one line: "Swift GET: HTTP 404".
// gophercloud's own text holds the whole response body; it is left out.
// Request headers (the token) never appear in either. A failed login
// after a 401 is told with the login's own error, which says which step
// failed.
func describe(err error) string {
	if re, ok := asReauth(err); ok {
		return fmt.Sprintf("%s, and logging in again failed: %v", describe(re.ErrOriginal), re.ErrReauth)
	}
	var v gophercloud.ErrUnexpectedResponseCode
	var p *gophercloud.ErrUnexpectedResponseCode
	switch {
	case errors.As(err, &v):
	case errors.As(err, &p) && p != nil:
		v = *p
	default:
		return err.Error()
	}
	msg := fmt.Sprintf("Swift %s: HTTP %d", v.Method, v.Actual)
	if id := v.ResponseHeader.Get("X-Trans-Id"); id != "" {
		msg += " (trans id " + id + ")"
	}
	return msg
}

// asReauth finds gophercloud's failed re-authentication, which does not
// unwrap.
func asReauth(err error) (gophercloud.ErrUnableToReauthenticate, bool) {
	var v gophercloud.ErrUnableToReauthenticate
	if errors.As(err, &v) {
		return v, true
	}
	var p *gophercloud.ErrUnableToReauthenticate
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	return v, false
}

func (s *Store) hint(kind, err error) string {
	var after *gophercloud.ErrErrorAfterReauthentication
	_, reauthFailed := asReauth(err)
	switch {
	case kind == backends.ErrUnauthenticated && reauthFailed:
		return "" // the login's error says what to do
	case kind == backends.ErrUnauthenticated && errors.As(err, &after):
		return "Swift refused a fresh token too; the login may not grant access to this storage URL"
	}
	switch kind {
	case backends.ErrUnauthenticated:
		return "Swift refused the token; check the remote's credentials"
	case backends.ErrPermission:
		return "the account or token is not allowed to read this"
	case backends.ErrThrottled:
		return fmt.Sprintf("Swift asked to slow down; gave up after %d attempts", s.attempts)
	case backends.ErrUnavailable:
		return "cannot get an answer from the object store; check the storage URL and the network"
	}
	return ""
}

// containerNotExist reports a container that is not configured or not in
// the account.
func (s *Store) containerNotExist(op, key, container string, cause error) error {
	err := backends.ErrNotExist
	if cause != nil {
		err = backends.Kind(backends.ErrNotExist, &apiError{msg: describe(cause), err: cause})
	}
	hint := fmt.Sprintf("no container %q in the account; check containers: in the config", container)
	if s.containers != nil {
		hint = fmt.Sprintf("container %q is not among the configured containers", container)
	}
	return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: err, Hint: hint}
}

// badResponse reports a response that breaks the protocol.
func (s *Store) badResponse(op, key, what string) error {
	return &backends.Error{Op: op, Remote: s.remote, Key: key,
		Err: backends.Kind(backends.ErrUnavailable, errors.New(what))}
}
