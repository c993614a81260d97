package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/earthmount/earthmount/cache"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
	"github.com/earthmount/earthmount/fs"
)

type mountFlags struct {
	config      string
	cacheMemory string
	logLevel    string
	allowOther  bool
	debugFUSE   bool
	logFile     string
	metricsAddr string
}

func newMountCmd(e *env) *cobra.Command {
	var f mountFlags
	cmd := &cobra.Command{
		Use:   "mount [REMOTE[:PATH]] MOUNTPOINT",
		Short: "Mount every configured remote, or one remote's subtree, on MOUNTPOINT (foreground)",
		Long: `Mount every configured remote as a top-level directory of MOUNTPOINT, or, with
REMOTE[:PATH], only that remote (or that path inside it). earthmount stays in the
foreground until the filesystem is unmounted (fusermount3 -u MOUNTPOINT) or it
receives SIGINT or SIGTERM, and then unmounts cleanly.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMount(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "config file (default $EARTHMOUNT_CONFIG, else $XDG_CONFIG_HOME/earthmount/config.yaml)")
	fl.StringVar(&f.cacheMemory, "cache-memory", "", "byte budget for cached chunks plus read-ahead, e.g. 512MiB (default: config cache.memory, else 512MiB)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.BoolVar(&f.allowOther, "allow-other", false, "let other users access the mount (needs user_allow_other in /etc/fuse.conf)")
	fl.BoolVar(&f.debugFUSE, "debug-fuse", false, "log every FUSE request (very verbose)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9464 (path /metrics)")
	fl.StringVar(&f.logFile, "log-file", "", "append the log to this file (created 0600) instead of stderr; the ready line stays on stderr")
	return cmd
}

// target is what one mount serves: all remotes, or one remote's subtree.
type target struct {
	remotes []*config.Remote
	prefix  string // for a single remote: the subtree, "" or ending in "/"
	single  bool
	label   string
}

func parseTarget(cfg *config.Config, arg string) (target, error) {
	if arg == "" {
		t := target{}
		var names []string
		for i := range cfg.Remotes {
			t.remotes = append(t.remotes, &cfg.Remotes[i])
			names = append(names, cfg.Remotes[i].Name)
		}
		t.label = strings.Join(names, ",")
		return t, nil
	}
	name, path, _ := strings.Cut(arg, ":")
	r, ok := cfg.Remote(name)
	if !ok {
		var names []string
		for _, r := range cfg.Remotes {
			names = append(names, r.Name)
		}
		return target{}, fmt.Errorf("no remote called %q (configured: %s)", name, strings.Join(names, ", "))
	}
	path = strings.Trim(path, "/")
	if path != "" {
		for _, seg := range strings.Split(path, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return target{}, fmt.Errorf("%s: path %q has an empty, '.' or '..' segment", arg, path)
			}
		}
		path += "/"
	}
	return target{remotes: []*config.Remote{r}, prefix: path, single: true, label: arg}, nil
}

func runMount(ctx context.Context, e *env, f mountFlags, args []string) error {
	logw, closeLog, err := logWriter(e.stderr, f.logFile)
	if err != nil {
		return err
	}
	defer closeLog()
	log, err := newLogger(logw, f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := config.Load(f.config, e.getenv)
	if err != nil {
		return err
	}
	if f.cacheMemory != "" {
		n, err := config.ParseSize(f.cacheMemory)
		if err != nil || n < 16<<20 {
			return fmt.Errorf("--cache-memory %q: give a size of at least 16MiB, such as 512MiB", f.cacheMemory)
		}
		cfg.Cache.Memory = n
	}
	var remoteArg string
	dir := args[len(args)-1]
	if len(args) == 2 {
		remoteArg = args[0]
	}
	tgt, err := parseTarget(cfg, remoteArg)
	if err != nil {
		return err
	}
	warnLoosePerms(log, cfg, tgt.remotes, e.getenv)
	dir, err = prepareMountpoint(dir, log)
	if err != nil {
		return err
	}

	dtier, err := openDiskTier(cfg, e.getenv, log)
	if err != nil {
		return err
	}
	defer dtier.close()
	// The budget bounds what the cache holds; the memory limit makes the Go
	// runtime collect garbage before the heap outgrows it, so the process
	// stays within the budget (plus the disk tier's write queue) and a
	// fixed overhead.
	debug.SetMemoryLimit(cfg.Cache.Memory + 64<<20 + dtier.queueBytes())

	chunks, err := cache.New(cache.Options{Budget: cfg.Cache.Memory, ChunkSize: cfg.Cache.ChunkSize, Logger: log})
	if err != nil {
		return err
	}
	defer chunks.Close()
	// Background work of this mount (metrics server, SIGHUP) ends with it.
	opsCtx, stopOps := context.WithCancel(ctx)
	defer stopOps()
	var met *metrics
	if f.metricsAddr != "" {
		met = newMetrics(chunks)
		if err := met.serve(opsCtx, f.metricsAddr, log); err != nil {
			return err
		}
	}
	var remotes []fs.Remote
	var metas []forgetter
	for _, r := range tgt.remotes {
		st, err := newObservedStore(ctx, r, log, met)
		if err != nil {
			return err
		}
		log.Debug("remote ready", "remote", r.Name, "endpoint", r.Endpoint(), "credentials", st.credentials)
		store := withDeadline(r.Type, st.store)
		if met != nil {
			store = met.wrap(r.Name, r.Type, store)
			if st.logins != nil {
				met.addLogins(r.Name, st.logins)
			}
		}
		meta := cache.NewMeta(store, cache.MetaOptions{
			Remote: r.Name, TTL: cfg.Cache.DirTTL, NegativeTTL: cfg.Cache.NegativeTTL, Logger: log,
		})
		defer meta.Close()
		metas = append(metas, meta)
		writer, err := writerFor(r, st.store)
		if err != nil {
			return err
		}
		writer = meterWriter(writer, store)
		remotes = append(remotes, fs.Remote{Name: r.Name, Prefix: tgt.prefix, Meta: meta, Source: dtier.wrap(store, r), Writer: writer})
	}
	spool, err := openSpool(cfg, tgt.remotes, e.getenv, log)
	if err != nil {
		return err
	}
	if err := resumeSpool(ctx, spool, remotes, log); err != nil {
		return err
	}
	srv, err := fs.Mount(dir, fs.Options{
		Spool:       spool,
		Remotes:     remotes,
		Single:      tgt.single,
		Cache:       chunks,
		AttrTTL:     cfg.Cache.AttrTTL,
		NegativeTTL: cfg.Cache.NegativeTTL,
		AllowOther:  f.allowOther,
		DebugFUSE:   f.debugFUSE,
		Latency:     met.fuseLatency(),
		Logger:      log,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "earthmount: mounted %s on %s\n", tgt.label, dir)
	onHangup(opsCtx, log, metas)

	done := make(chan struct{})
	go func() {
		srv.Wait()
		close(done)
	}()
	select {
	case <-done:
		log.Info("unmounted", "mountpoint", dir)
		return nil
	case <-ctx.Done():
	}
	log.Info("signal received, unmounting", "mountpoint", dir)
	return unmount(srv, dir, done, log)
}

// unmount detaches the filesystem. A busy mount (a program still has a
// file open) cannot be unmounted normally; after a few tries it is
// detached lazily, so that no mount is ever left behind.
func unmount(srv *fs.Server, dir string, done <-chan struct{}, log *slog.Logger) error {
	var err error
	for i := 0; i < 5; i++ {
		if err = srv.Unmount(); err == nil {
			break
		}
		select {
		case <-done:
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		log.Warn("mount busy, detaching it lazily", "mountpoint", dir, "err", err)
		if derr := detach(dir); derr != nil {
			return errors.Join(err, derr)
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		log.Warn("FUSE server did not stop in time; exiting anyway", "mountpoint", dir)
	}
	return nil
}
