// Package auth holds credential and token sources that the backends
// consume, and the Secret type that keeps them out of logs. Sources are
// lazy: nothing is contacted before the first access that needs them.
//
// The pangeo-eosc chain: OIDC (an access token, renewed from a refresh
// token at the issuer's token endpoint or by oidc-agent) feeds Keystone
// (federated login, project scope, catalog), whose tokens Cached keeps,
// refreshes ahead of expiry, logs in for once per refused token (Reject)
// unless the storage refuses every fresh token (Accepted tells them apart)
// and does not retry while a failure is fresh. Keystone also does password
// and application-credential logins; SwiftV1 and Static cover Swift's own
// auth and pre-issued tokens; EC2 finds or creates S3 keys. Identity
// requests are retried when the failure may heal (no answer, a broken or
// truncated body, 429, 5xx), never after a refusal (http.go); ExchangeOf
// tells a transport which request it carries, for metrics. Every failure
// is a *StepError naming the step and what to do, of kind ErrRejected or
// ErrUnreachable.
//
// auth imports no backend and no storage SDK (only the standard library and
// x/sync); tokens, passwords and keys are Secrets and are never logged.
package auth
