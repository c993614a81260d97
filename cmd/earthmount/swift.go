package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/s3"
	"github.com/earthmount/earthmount/backends/swift"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// newSwiftStore builds a swift remote: its login chain (nothing contacted
// yet) and an object-store client that logs in on the first request.
func newSwiftStore(ctx context.Context, r *config.Remote, log *slog.Logger, met *metrics) (*builtStore, error) {
	a, err := newSwiftAuth(r.Name, r.Swift, log, met)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	sess := newSwiftSession(a.cached, r.Swift.StorageURL, a.roots)
	sess.provider.HTTPClient.Transport = met.transport(r.Name, "storage", sess.provider.HTTPClient.Transport)
	st, err := swift.New(ctx, swift.Config{
		Remote:     r.Name,
		Containers: r.Swift.Containers,
		Client:     sess.client,
		Connect:    sess.connect,
		OnRetry:    met.onRetry(r.Name),
		Logger:     log.With("remote", r.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	return &builtStore{store: st, credentials: a.route, logins: a.cached.Logins}, nil
}

// newS3FromSwift builds an s3 remote whose keys are the EC2 credentials
// of a swift remote's Keystone login, fetched (or created) on first use.
func newS3FromSwift(ctx context.Context, r *config.Remote, log *slog.Logger, met *metrics) (*builtStore, error) {
	c := r.S3
	if c.CredentialsSwift == nil {
		return nil, fmt.Errorf("remote %s: credentials_from %q is not a swift remote", r.Name, c.CredentialsFrom)
	}
	a, err := newSwiftAuth(c.CredentialsFrom, c.CredentialsSwift, log, met)
	if err != nil {
		return nil, fmt.Errorf("remote %s: credentials_from %s: %w", r.Name, c.CredentialsFrom, err)
	}
	if !a.keystone {
		return nil, fmt.Errorf("remote %s: credentials_from %s: its login (%s) has no Keystone, so no EC2 credentials; use auth_type v3oidcaccesstoken, password or v3applicationcredential",
			r.Name, c.CredentialsFrom, a.route)
	}
	ec2 := auth.NewEC2(auth.EC2Options{AuthURL: c.CredentialsSwift.AuthURL, Keystone: a.cached, Logger: log.With("remote", r.Name)})
	source := fmt.Sprintf("EC2 credentials (listed, or created once) from Keystone through remote %s's login", c.CredentialsFrom)
	roots, err := loadCABundle(c.CABundle)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	st, err := s3.New(ctx, s3.Config{
		RootCAs:           roots,
		OnRetry:           met.onRetry(r.Name),
		OnHTTP:            met.onHTTP(r.Name),
		Remote:            r.Name,
		Endpoint:          c.Endpoint,
		Region:            c.Region,
		Buckets:           c.Buckets,
		Credentials:       ec2Provider{ec2: ec2},
		CredentialsSource: source,
		Logger:            log.With("remote", r.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	return &builtStore{store: st, credentials: st.CredentialSource()}, nil
}

// ec2Provider gives the S3 store the EC2 keys; the SDK caches them.
type ec2Provider struct{ ec2 *auth.EC2 }

func (p ec2Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.ec2.Credentials(ctx)
	if err != nil {
		return aws.Credentials{}, authKind(err)
	}
	return aws.Credentials{AccessKeyID: c.Access, SecretAccessKey: c.Secret.Reveal(), Source: "keystone OS-EC2"}, nil
}

// authKind gives a login error the stores' kind: refused or missing
// credentials are ErrUnauthenticated (EACCES), an identity service that
// cannot be reached is ErrUnavailable (EIO).
func authKind(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, auth.ErrUnreachable):
		return err
	case errors.Is(err, auth.ErrUnreachable):
		return backends.Kind(backends.ErrUnavailable, err)
	}
	return backends.Kind(backends.ErrUnauthenticated, err)
}

// swiftSession is the object-store client of one swift remote. The token
// and the storage URL come from the cached login: connect puts a fresh
// token into the provider before each request (logging in the first time,
// or ahead of expiry), and the provider's ReauthFunc runs the login again
// once when Swift answers 401.
type swiftSession struct {
	cached   *auth.Cached
	provider *gophercloud.ProviderClient
	client   *gophercloud.ServiceClient
	mu       sync.Mutex // guards the one write of client.Endpoint
}

func newSwiftSession(cached *auth.Cached, storageURL string, roots *x509.CertPool) *swiftSession {
	tr := tlsTransport(roots)
	tr.MaxIdleConnsPerHost = 64 // many parallel ranged GETs to one host
	// A hung server costs this per attempt; opDeadline bounds the sum.
	tr.ResponseHeaderTimeout = 15 * time.Second
	p := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: acceptTransport{next: tr, cached: cached}}}
	p.UseTokenLock()
	p.UserAgent.Prepend("earthmount/" + version)
	s := &swiftSession{cached: cached, provider: p, client: &gophercloud.ServiceClient{ProviderClient: p, Type: "object-store"}}
	if storageURL != "" {
		s.client.Endpoint = withSlash(storageURL)
	}
	p.ReauthFunc = s.reauth
	return s
}

// connect makes sure the provider holds a valid token and the client an
// endpoint.
func (s *swiftSession) connect(ctx context.Context) error {
	tok, err := s.cached.Token(ctx)
	if err != nil {
		return authKind(err)
	}
	return s.use(tok)
}

// reauth is gophercloud's ReauthFunc: the token in the provider was
// refused, so drop it and log in again. gophercloud calls it once per
// refused token, however many requests saw the 401, and replays the request
// once.
func (s *swiftSession) reauth(ctx context.Context) error {
	s.cached.Reject(auth.Secret(s.provider.Token()))
	tok, err := s.cached.Token(ctx)
	if err != nil {
		return authKind(err)
	}
	return s.use(tok)
}

func (s *swiftSession) use(tok auth.Token) error {
	if v := tok.Value.Reveal(); s.provider.Token() != v {
		if err := s.provider.SetTokenAndAuthResult(tokenResult(v)); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client.Endpoint == "" {
		if tok.Endpoint == "" {
			return backends.Kind(backends.ErrUnauthenticated, errors.New("the login gave no storage URL; set storage_url (OS_STORAGE_URL)"))
		}
		s.client.Endpoint = withSlash(tok.Endpoint)
	}
	return nil
}

// tokenResult is a gophercloud.AuthResult for a token obtained elsewhere.
type tokenResult string

func (t tokenResult) ExtractTokenID() (string, error) { return string(t), nil }

func withSlash(u string) string { return strings.TrimRight(u, "/") + "/" }
