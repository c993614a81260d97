// Command earthmount mounts object stores for earth-science data (OSN S3
// buckets today; pangeo-eosc Swift and the ICOS Carbon Portal next) as one
// read-only directory tree.
//
// This package is the composition root: the only place that knows every
// concrete type. It reads the config, builds stores, caches and the FUSE
// layer, and wires them together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is the release this source tree is.
const version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(os.Stdout, os.Stderr, os.Getenv)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "earthmount:", err)
		os.Exit(1)
	}
}

// env is what the commands read from the process environment, injected so
// that tests can run them without touching the real one.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func newRootCmd(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	root := &cobra.Command{
		Use:           "earthmount",
		Short:         "Mount earth-science object stores (OSN S3, ...) as a read-only directory tree",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newMountCmd(e), newRemotesCmd(e), newVersionCmd(e), newLoginCmd(e), newWarmCmd(e))
	return root
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(e.stdout, "earthmount %s\n", version)
			return err
		},
	}
}

// newLogger builds the process logger: slog text to w at the named level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, errors.New("--log-level: use debug, info, warn or error")
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
