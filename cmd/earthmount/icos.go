package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/backends/icos"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// newICOSStore builds an icos remote: its credential source (icoscp_core's
// order; nothing read or contacted yet) and the portal store.
func newICOSStore(_ context.Context, r *config.Remote, log *slog.Logger, met *metrics) (*builtStore, error) {
	c := r.ICOS
	path, err := icosCredentialsPath(c.CredentialsFile, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	log = log.With("remote", r.Name)
	roots, err := loadCABundle(c.CABundle)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	tr := tlsTransport(roots)
	src, err := auth.NewICOSSource(auth.ICOSOptions{
		HTTPClient:      &http.Client{Timeout: time.Minute, Transport: met.transport(r.Name, "identity", tr)},
		AuthURL:         c.AuthURL,
		CookieToken:     c.CookieToken,
		Getenv:          os.Getenv,
		CredentialsFile: path,
		Username:        c.Username,
		Password:        c.Password,
		Logger:          log,
	})
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	st, err := icos.New(icos.Config{
		Remote:         r.Name,
		MetaURL:        c.MetaURL,
		DataURL:        c.DataURL,
		AuthURL:        c.AuthURL,
		Auth:           src,
		ShowDeprecated: c.ShowDeprecated,
		HTTPClient:     &http.Client{Transport: met.transport(r.Name, "storage", tr)},
		OnRetry:        met.onRetry(r.Name),
		Logger:         log,
	})
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.Name, err)
	}
	return &builtStore{store: st, credentials: st.CredentialSource()}, nil
}

// icosCredentialsPath resolves a credentials_file setting: "" is
// icoscp_core's default below HOME, and "~/" is expanded.
func icosCredentialsPath(setting string, getenv func(string) string) (string, error) {
	home := getenv("HOME")
	switch {
	case setting == "" || setting == "~" || strings.HasPrefix(setting, "~/"):
		if home == "" {
			if setting == "" {
				return "", nil // no home: no default file
			}
			return "", fmt.Errorf("credentials_file %q: HOME is not set", setting)
		}
		if setting == "" {
			return filepath.Join(home, auth.ICOSDefaultCredentialsFile), nil
		}
		return filepath.Join(home, strings.TrimPrefix(setting, "~")), nil
	}
	return setting, nil
}
