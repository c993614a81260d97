// Package keystoneemu emulates the parts of OpenStack Keystone v3 that
// earthmount uses, in front of a real Swift: OS-FEDERATION login with an
// OIDC bearer token, password and application-credential logins,
// rescoping to a project, the service catalog, the project list and the
// OS-EC2 credentials API. Its project-scoped tokens are the real Swift's
// tempauth tokens (it logs in to Swift with v1 auth), so that Swift accepts
// them; their expires_at is the emulator's own. The EC2 keys it hands out
// are the ones Swift's s3api accepts with tempauth. For tests only:
// nothing outside integration/ may import it.
//
// It imports only the standard library.
package keystoneemu
