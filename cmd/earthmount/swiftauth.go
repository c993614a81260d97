package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// swiftAuth is a swift remote's login chain, built without contacting
// anything.
type swiftAuth struct {
	cached   *auth.Cached
	route    string         // how it logs in, for `earthmount remotes`; never a secret
	keystone bool           // the route goes through Keystone (EC2 credentials possible)
	roots    *x509.CertPool // ca_bundle added to the system's CAs; nil: none
}

// Defaults of federated logins, as fedcloudclient's for EGI Check-in.
const (
	defaultIdentityProvider = "egi.eu"
	defaultProtocol         = "openid"
)

func newSwiftAuth(name string, sw *config.Swift, log *slog.Logger, met *metrics) (*swiftAuth, error) {
	if err := sw.Check(); err != nil {
		return nil, err
	}
	method, _ := sw.Method()
	roots, err := loadCABundle(sw.CABundle)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: time.Minute, Transport: met.transport(name, "identity", tlsTransport(roots))}
	from := func(key string) string { return sw.From[key] }
	a := &swiftAuth{keystone: true, roots: roots}
	var src auth.Source
	ks := auth.KeystoneOptions{
		AuthURL: sw.AuthURL, ProjectID: sw.ProjectID, ProjectName: sw.ProjectName, ProjectDomainName: sw.ProjectDomainName,
		StorageURL: sw.StorageURL, Region: sw.Region, HTTPClient: client,
	}
	switch method {
	case config.AuthOIDC:
		idp, proto := orString(sw.IdentityProvider, defaultIdentityProvider), orString(sw.Protocol, defaultProtocol)
		var agent auth.Source
		if sw.OIDCSocket != "" {
			agent = &auth.OIDCAgent{Socket: sw.OIDCSocket, Account: sw.OIDCAgentAccount, Issuer: orString(sw.OIDCIssuer, auth.DefaultIssuer)}
		}
		oidc := auth.NewOIDC(auth.OIDCOptions{
			Agent:       agent,
			AccessToken: sw.AccessToken, AccessTokenFrom: describeFrom(from("access_token")),
			RefreshToken: sw.RefreshToken, RefreshTokenFrom: describeFrom(from("refresh_token")),
			Issuer: sw.OIDCIssuer, ClientID: sw.ClientID, ClientSecret: sw.ClientSecret,
			HTTPClient: client, Logger: log.With("remote", name),
		})
		ks.Federated = &auth.Federated{IdentityProvider: idp, Protocol: proto, Bearer: oidc}
		src, err = auth.NewKeystone(ks)
		token := "OIDC token from " + describeFrom(from("access_token"))
		if sw.AccessToken == "" {
			token = "no OIDC token given"
		}
		refresh := "no"
		switch {
		case sw.RefreshToken != "":
			refresh = "yes (" + describeFrom(from("refresh_token")) + ", issuer " + orString(sw.OIDCIssuer, auth.DefaultIssuer) + ")"
		case agent != nil:
			refresh = "no, oidc-agent (" + describeFrom(from("oidc_socket")) + ") renews it"
		}
		a.route = fmt.Sprintf("keystone federated (%s/%s), %s, refresh token: %s", idp, proto, token, refresh)
	case config.AuthPassword:
		ks.Password = &auth.Password{Username: sw.Username, UserDomainName: sw.UserDomainName, Password: sw.Password}
		src, err = auth.NewKeystone(ks)
		a.route = fmt.Sprintf("keystone password (user %s from %s)", sw.Username, describeFrom(from("username")))
	case config.AuthAppCredential:
		ks.AppCredential = &auth.AppCredential{ID: sw.ApplicationCredentialID, Secret: sw.ApplicationCredentialSecret}
		src, err = auth.NewKeystone(ks)
		a.route = fmt.Sprintf("keystone application credential %s (from %s)", sw.ApplicationCredentialID, describeFrom(from("application_credential_id")))
	case config.AuthToken:
		src = auth.NewStatic(auth.Token{Value: sw.AuthToken, Endpoint: sw.StorageURL}, describeFrom(from("auth_token")))
		a.route, a.keystone = fmt.Sprintf("pre-issued token from %s (not renewable)", describeFrom(from("auth_token"))), false
	case config.AuthV1:
		src = &auth.SwiftV1{AuthURL: sw.AuthURL, User: sw.Username, Key: sw.Password, StorageURL: sw.StorageURL, HTTPClient: client}
		a.route, a.keystone = fmt.Sprintf("swift v1 auth (user %s)", sw.Username), false
	}
	if err != nil {
		return nil, err
	}
	if a.keystone {
		if sw.ProjectID != "" {
			a.route += ", project " + sw.ProjectID
		} else if sw.ProjectName != "" {
			a.route += ", project " + sw.ProjectName
		}
	}
	if sw.StorageURL != "" {
		a.route += ", storage URL from " + describeFrom(from("storage_url"))
	} else if a.keystone {
		a.route += ", storage URL from the catalog"
	}
	a.cached = auth.NewCached(src, auth.CachedOptions{Name: name, Logger: log})
	return a, nil
}

// describeFrom turns a From entry into text: the environment variable's
// name, or "the config".
func describeFrom(f string) string {
	switch f {
	case "config":
		return "the config"
	case "":
		return "nowhere"
	}
	return f
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// acceptTransport tells the cached login which tokens Swift accepted, so
// that its guard against a storage refusing every fresh token is not
// tripped by 401s that come at random.
type acceptTransport struct {
	next   http.RoundTripper
	cached *auth.Cached
}

func (t acceptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		if tok := req.Header.Get("X-Auth-Token"); tok != "" {
			t.cached.Accepted(auth.Secret(tok))
		}
	}
	return resp, err
}
