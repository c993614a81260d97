package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// openLogFile opens --log-file for appending, readable only by its owner
// (logs name buckets and keys). The file is created when missing; an
// existing file keeps its mode but a warning says when others can read it.
func openLogFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--log-file: %w", err)
	}
	return f, nil
}

// logWriter returns where the log goes: the --log-file, else stderr. The
// returned close func closes the file.
func logWriter(stderr io.Writer, path string) (io.Writer, func() error, error) {
	if path == "" {
		return stderr, func() error { return nil }, nil
	}
	f, err := openLogFile(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// forgetter is a metadata cache that SIGHUP empties; *cache.Meta is one.
type forgetter interface{ Forget() }

// onHangup drops every metadata cache on SIGHUP (the next ls or stat asks
// the stores again), until ctx ends. SIGHUP no longer ends the process.
func onHangup(ctx context.Context, log *slog.Logger, metas []forgetter) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				for _, m := range metas {
					m.Forget()
				}
				log.Info("SIGHUP: dropped the metadata caches", "remotes", len(metas))
			}
		}
	}()
}
