package icos

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// certificateError reports whether err is a failed TLS certificate check,
// which no retry heals: it must fail at once, not after the backoff.
func certificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &host) || errors.As(err, &invalid)
}

// certificateHint is the Hint of a certificate error.
const certificateHint = "the server's TLS certificate is not trusted; for a private CA point SSL_CERT_FILE at its bundle"
