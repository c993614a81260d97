package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

type options struct {
	runs       int
	out        string
	quick      bool
	requireAll bool
	requests   bool
	keep       bool
	timeout    time.Duration
	rtts       []time.Duration
	tools      []string
	chunkSize  string // earthmount's cache.chunk_size; "" keeps its default
	readOnly   bool   // only workload (a), for tuning the read path
}

func parseFlags(args []string) (options, error) {
	var o options
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.IntVar(&o.runs, "runs", 3, "runs per measurement; the table shows medians")
	fl.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	fl.BoolVar(&o.quick, "quick", false, "skip rclone and s3fs in (c), the slow part at 20 ms, and the request-count pass")
	fl.BoolVar(&o.requireAll, "require-all", false, "fail when rclone or s3fs is missing instead of noting it")
	fl.BoolVar(&o.requests, "requests", true, "one extra untimed pass at 0 ms through a counting proxy, for the S3 request table")
	fl.BoolVar(&o.keep, "keep", false, "keep the work directory (fixtures, logs) for inspection")
	fl.DurationVar(&o.timeout, "timeout", 60*time.Second, "bound on each cp, find or rsync; a run past it is reported as \"> N s\" and not repeated")
	fl.StringVar(&o.chunkSize, "chunk-size", "", "earthmount's cache.chunk_size, e.g. 4MiB (default: earthmount's own)")
	fl.BoolVar(&o.readOnly, "only-read", false, "measure only (a) and (d), the 1 GiB read (for tuning)")
	rtts := fl.String("rtt", "0,20", "added round-trip times in ms, comma-separated")
	toolList := fl.String("tools", "direct,earthmount,rclone,s3fs", "tools to measure, comma-separated")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	if o.runs < 1 || fl.NArg() > 0 {
		return o, fmt.Errorf("usage: go run ./integration/bench [-runs N] [-out FILE.md] [-quick] (see -h)")
	}
	for _, s := range strings.Split(*rtts, ",") {
		ms, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || ms < 0 || ms%2 != 0 {
			return o, fmt.Errorf("-rtt %q: want even milliseconds such as 0,20", *rtts)
		}
		o.rtts = append(o.rtts, time.Duration(ms)*time.Millisecond)
	}
	for _, t := range strings.Split(*toolList, ",") {
		if !slices.Contains([]string{"direct", "earthmount", "rclone", "s3fs"}, t) {
			return o, fmt.Errorf("-tools: unknown tool %q (have direct, earthmount, rclone, s3fs)", t)
		}
		o.tools = append(o.tools, t)
	}
	return o, nil
}

// bench is one benchmark run: its work directory, servers and results.
type bench struct {
	opts       options
	command    string // the command line, for the report
	work       string // temp dir: data, mountpoints, logs, configs
	home       string // HOME for every subprocess
	earthmount string // the built binary
	srv        *servers
	fx         fixtures
	tools      []tool
	res        *results
	mounts     int // numbers mountpoints and logs
	started    time.Time
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// Ctrl-C cancels ctx; every command is killed and every mount is
	// unmounted by the defers on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{opts: opts, res: newResults(), started: time.Now(),
		command: "go run ./integration/bench " + strings.Join(os.Args[1:], " ")}
	if err := b.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

func (b *bench) run(ctx context.Context) (err error) {
	if err := testenv.CheckFUSE(); err != nil {
		return err
	}
	for _, t := range tools(ctx) {
		if !slices.Contains(b.opts.tools, t.Name) {
			continue
		}
		if t.Missing != nil && b.opts.requireAll {
			return fmt.Errorf("-require-all: %w", t.Missing)
		}
		b.tools = append(b.tools, t)
	}
	if b.work, err = os.MkdirTemp("", "earthmount-bench-"); err != nil {
		return err
	}
	defer testenv.RemoveWorkDir(os.Stderr, "bench", b.work, b.opts.keep)
	b.home = filepath.Join(b.work, "home")
	for _, d := range []string{b.home, filepath.Join(b.work, "mnt"), filepath.Join(b.work, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if b.has("earthmount") {
		b.progress("building ./cmd/earthmount")
		if b.earthmount, err = testenv.BuildEarthmount(ctx, b.work); err != nil {
			return err
		}
	}
	b.progress("starting versitygw and toxiproxy in " + b.work)
	b.srv, err = startServers(ctx, b.work, b.opts.rtts)
	defer func() { err = errors.Join(err, b.srv.Close()) }()
	if err != nil {
		return err
	}
	if b.fx, err = writeFixtures(ctx, b.srv.versity, b.progress); err != nil {
		return err
	}
	// A partial table is still worth seeing after a failure or Ctrl-C; the
	// -out file is written only for a complete run.
	defer func() {
		report := b.report(err)
		fmt.Print(report)
		if err == nil && b.opts.out != "" {
			err = os.WriteFile(b.opts.out, []byte(report), 0o644)
		}
	}()
	for _, lat := range b.srv.latencies {
		if err := b.measure(ctx, lat); err != nil {
			return err
		}
	}
	if b.opts.requests && !b.opts.quick {
		return b.countRequests(ctx)
	}
	return nil
}

func (b *bench) has(name string) bool {
	return slices.ContainsFunc(b.tools, func(t tool) bool { return t.Name == name })
}

func (b *bench) progress(msg string) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), msg)
}

// withMount mounts t afresh (a new mount has a cold kernel page cache),
// runs fn, and unmounts, whatever fn returns.
func (b *bench) withMount(ctx context.Context, t tool, lat latency, fn func(m *mounted) error) error {
	b.mounts++
	name := fmt.Sprintf("%s-%dms-%d", t.Name, lat.RTT.Milliseconds(), b.mounts)
	dir := filepath.Join(b.work, "mnt", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m, err := t.mount(ctx, b, lat, dir, filepath.Join(b.work, "logs", name+".log"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := m.Close(); cerr != nil {
			b.res.note("teardown of %s: %v", name, cerr)
		}
	}()
	return fn(m)
}
