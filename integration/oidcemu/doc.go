// Package oidcemu emulates the parts of an OIDC provider (EGI Check-in)
// that earthmount uses: the discovery document and the token endpoint's
// refresh_token grant, with JWT access tokens whose lifetime the test sets,
// refresh tokens that can be revoked, and request counts. It is for tests
// only: nothing outside integration/ may import it.
//
// Tokens are unsigned JWTs (alg "none"): earthmount reads exp without
// verifying, and the Keystone emulator asks Valid instead of checking a
// signature.
//
// It imports only the standard library.
package oidcemu
