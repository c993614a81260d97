package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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

// opDeadline bounds one listing page or stat of an s3 or swift remote,
// retries included: a server that takes connections and never answers
// gives EIO after this long, not after every attempt's full timeout.
// ICOS is left alone: its quota backoff may rightly wait longer.
const opDeadline = 30 * time.Second

// withDeadline puts opDeadline on the metadata operations of an s3 or
// swift store.
func withDeadline(typ string, st backends.Store) backends.Store {
	if typ != "s3" && typ != "swift" {
		return st
	}
	return &deadlineStore{Store: st, d: opDeadline}
}

type deadlineStore struct {
	backends.Store
	d time.Duration
}

func (s *deadlineStore) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	dctx, cancel := context.WithTimeout(ctx, s.d)
	defer cancel()
	p, err := s.Store.List(dctx, req)
	return p, s.timedOut(ctx, dctx, err)
}

func (s *deadlineStore) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	dctx, cancel := context.WithTimeout(ctx, s.d)
	defer cancel()
	info, err := s.Store.Stat(dctx, key)
	return info, s.timedOut(ctx, dctx, err)
}

// timedOut turns the deadline's own expiry into ErrUnavailable (EIO, with
// a message), leaving the caller's cancellation as it is.
func (s *deadlineStore) timedOut(ctx, dctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(dctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return backends.Kind(backends.ErrUnavailable, fmt.Errorf("no answer within %v, retries included: %w", s.d, err))
}

// LookupOnly passes the optional interface on.
func (s *deadlineStore) LookupOnly(prefix string) bool {
	lo, ok := s.Store.(interface{ LookupOnly(string) bool })
	return ok && lo.LookupOnly(prefix)
}
