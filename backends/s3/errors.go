package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/earthmount/earthmount/backends"
)

// kindOfCode maps an S3 error code to a kind, or nil.
func kindOfCode(code string) error {
	switch code {
	case "NoSuchKey", "NotFound", "NoSuchBucket":
		return backends.ErrNotExist
	case "AccessDenied", "AllAccessDisabled", "Forbidden":
		return backends.ErrPermission
	// versitygw answers an unknown access key with 404 XAdminUserNotFound.
	case "InvalidAccessKeyId", "XAdminUserNotFound", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
		"AuthorizationHeaderMalformed", "RequestTimeTooSkewed", "MissingSecurityHeader":
		return backends.ErrUnauthenticated
	case "PreconditionFailed":
		return backends.ErrStale
	case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
		"TooManyRequestsException", "ServiceUnavailable":
		return backends.ErrThrottled
	case "InternalError":
		return backends.ErrUnavailable
	}
	return nil
}

// errorCode returns the S3 error code and HTTP status of an SDK error;
// either may be empty or 0.
func errorCode(err error) (code string, status int) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	// *awshttp.ResponseError embeds *smithyhttp.ResponseError; both have
	// this method, so one interface covers either.
	var resp interface{ HTTPStatusCode() int }
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	return code, status
}

// classify returns the backends kind of an SDK error, or nil when none fits.
func classify(err error) error {
	code, status := errorCode(err)
	// The code decides before the status: HEAD responses carry a status
	// but no code, and a 403 may mean bad keys or no permission.
	if kind := kindOfCode(code); kind != nil {
		return kind
	}
	switch {
	case status == 404:
		return backends.ErrNotExist
	case status == 401:
		return backends.ErrUnauthenticated
	case status == 403:
		return backends.ErrPermission
	case status == 412:
		return backends.ErrStale
	case status == 429 || status == 503:
		return backends.ErrThrottled
	case status >= 500:
		return backends.ErrUnavailable
	}
	// No response at all: refused, reset, DNS, TLS, timeouts.
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	if errors.As(err, &sendErr) || errors.As(err, &netErr) {
		return backends.ErrUnavailable
	}
	return nil
}

// fail turns an error of an operation on key into the *backends.Error the
// Store returns: classified, with a hint where the user can act. The
// caller's cancellation stays recognisable as context.Canceled or
// context.DeadlineExceeded.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: err}
	}
	short := &sdkError{msg: describe(err), err: err}
	kind := classify(err)
	if kind == nil {
		return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: short}
	}
	return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: backends.Kind(kind, short), Hint: s.hint(kind, err, key)}
}

// sdkError keeps an SDK error in the chain under a shorter message.
type sdkError struct {
	msg string
	err error
}

func (e *sdkError) Error() string { return e.msg }
func (e *sdkError) Unwrap() error { return e.err }

// describe says what went wrong in one line, without the SDK's request
// and host IDs: "ListObjectsV2: HTTP 403 AccessDenied: Access Denied."
func describe(err error) string {
	op := "S3"
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) {
		op = "S3 " + opErr.OperationName
	}
	var apiErr smithy.APIError
	var sendErr *smithyhttp.RequestSendError
	_, status := errorCode(err)
	var msg string
	switch {
	case errors.As(err, &apiErr) && status != 0:
		msg = fmt.Sprintf("%s: HTTP %d %s", op, status, apiErr.ErrorCode())
		if m := apiErr.ErrorMessage(); m != "" {
			msg += ": " + m
		}
	case errors.As(err, &sendErr) && sendErr.Err != nil:
		msg = fmt.Sprintf("%s: %v", op, sendErr.Err)
	default:
		return err.Error()
	}
	var maxErr *retry.MaxAttemptsError
	if errors.As(err, &maxErr) && maxErr.Attempt > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", maxErr.Attempt)
	}
	return msg
}

func (s *Store) hint(kind, err error, key string) string {
	code, _ := errorCode(err)
	switch {
	case code == "NoSuchBucket":
		bucket, _, _ := strings.Cut(key, "/")
		return s.noBucketHint(bucket)
	case code == "RequestTimeTooSkewed":
		return "the system clock differs too much from the server's; check the clock"
	case code == "AuthorizationHeaderMalformed":
		return "the server rejected the request signature; check region: in the config"
	case kind == backends.ErrPermission && s.anonymous:
		return "anonymous access may not allow this (listing is often refused); configure access_key_id/secret_access_key or a profile"
	case kind == backends.ErrPermission:
		return "the credentials (" + s.source + ") are not allowed to do this"
	case kind == backends.ErrUnauthenticated:
		return "check access_key_id/secret_access_key or profile; credentials: " + s.source
	case kind == backends.ErrThrottled:
		return fmt.Sprintf("the server at %s asked to slow down; gave up after %d attempts", s.endpoint, s.attempts)
	case kind == backends.ErrUnavailable:
		return "cannot get an answer from " + s.endpoint + "; check endpoint: in the config and the network"
	}
	return ""
}

// bucketNotExist reports a bucket that is not configured or not on the
// server.
func (s *Store) bucketNotExist(op, key, bucket string, cause error) error {
	err := backends.ErrNotExist
	if cause != nil {
		err = backends.Kind(backends.ErrNotExist, &sdkError{msg: describe(cause), err: cause})
	}
	return &backends.Error{Op: op, Remote: s.remote, Key: key, Err: err, Hint: s.noBucketHint(bucket)}
}

func (s *Store) noBucketHint(bucket string) string {
	return fmt.Sprintf("no bucket %q at %s; check buckets: in the config", bucket, s.endpoint)
}

// badCertificate stops the SDK's retries of a TLS verification failure:
// no retry heals an untrusted or mismatched certificate, and five
// handshakes only delay the error that says what to fix.
func badCertificate(err error) aws.Ternary {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}
