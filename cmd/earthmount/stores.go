package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/s3"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// builtStore is a store made from one remote's config.
type builtStore struct {
	store       backends.Store
	credentials string     // which credential source it uses, never a secret
	logins      func() int // logins run so far (metrics); nil when unknown
}

// newStore builds the store for r. It sends no request: logins and
// connections happen on first access.
func newStore(ctx context.Context, r *config.Remote, log *slog.Logger) (*builtStore, error) {
	return newObservedStore(ctx, r, log, nil)
}

// newObservedStore is newStore with its HTTP requests, retries and logins
// counted in met (nil: not counted).
func newObservedStore(ctx context.Context, r *config.Remote, log *slog.Logger, met *metrics) (*builtStore, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch r.Type {
	case "s3":
		if r.S3.CredentialsFrom != "" {
			return newS3FromSwift(ctx, r, log, met)
		}
		c := r.S3
		roots, err := loadCABundle(c.CABundle)
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", r.Name, err)
		}
		st, err := s3.New(ctx, s3.Config{
			RootCAs:         roots,
			Remote:          r.Name,
			Endpoint:        c.Endpoint,
			Region:          c.Region,
			Buckets:         c.Buckets,
			Profile:         c.Profile,
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey.Reveal(),
			Anonymous:       c.Anonymous,
			OnRetry:         met.onRetry(r.Name),
			OnHTTP:          met.onHTTP(r.Name),
			Logger:          log.With("remote", r.Name),
		})
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", r.Name, err)
		}
		return &builtStore{store: st, credentials: st.CredentialSource()}, nil
	case "swift":
		return newSwiftStore(ctx, r, log, met)
	case "icos":
		return newICOSStore(ctx, r, log, met)
	default:
		return nil, fmt.Errorf("remote %s: unknown type %q", r.Name, r.Type)
	}
}
