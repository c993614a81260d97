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

const bucket = "zarrbench"

type options struct {
	runs    int
	out     string
	steps   int // time steps of the fixtures: 368 makes 764 MB of Zarr
	timeout time.Duration
	keep    bool
	count   bool
	debug   bool // earthmount logs at debug level (with -keep, to read its decisions)
	tline   bool // earthmount's requests at each RTT recorded per run (with -keep)
	rtts    []time.Duration
	tools   []string // columns to run; empty: all
	works   []string // rows to run; empty: all
}

func parseFlags(args []string) (options, error) {
	var o options
	fl := flag.NewFlagSet("zarrbench", flag.ContinueOnError)
	fl.IntVar(&o.runs, "runs", 3, "runs per cell; the table shows medians")
	fl.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	fl.IntVar(&o.steps, "steps", 368, "time steps (16 per chunk); 368 gives two 382 MB variables, the issue's 770 MB store")
	fl.DurationVar(&o.timeout, "timeout", 120*time.Second, "bound on each workload; past it the cell reads \"> N s\" and is not repeated")
	fl.BoolVar(&o.keep, "keep", false, "keep the work directory (fixtures, logs)")
	fl.BoolVar(&o.count, "count", true, "one extra untimed pass at 0 ms through a counting proxy: requests and bytes per tool")
	fl.BoolVar(&o.debug, "debug", false, "run earthmount with --log-level debug (use with -keep to read the logs)")
	fl.BoolVar(&o.tline, "timeline", false, "record when each of earthmount's requests starts and ends, per run, in logs/NAME.timeline (use with -keep)")
	rtts := fl.String("rtt", "0,20", "added round-trip times in ms, comma-separated")
	only := fl.String("tools", "", "comma-separated columns to run, e.g. earthmount,lower,local (default all)")
	works := fl.String("work", "", "comma-separated workloads to run, e.g. mean,amb (default all)")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	o.tools, o.works = splitList(*only), splitList(*works)
	if o.runs < 1 || o.steps < 96 || fl.NArg() > 0 {
		return o, fmt.Errorf("usage: go run ./integration/zarrbench [-runs N] [-out FILE.md] [-rtt 0,20] [-steps >=96] (see -h)")
	}
	for _, s := range strings.Split(*rtts, ",") {
		ms, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || ms < 0 || ms%2 != 0 {
			return o, fmt.Errorf("-rtt %q: want even milliseconds such as 0,20", *rtts)
		}
		o.rtts = append(o.rtts, time.Duration(ms)*time.Millisecond)
	}
	return o, nil
}

// splitList splits a comma-separated flag value; "" gives nil.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// tools returns the columns selected by -tools, in table order.
func (b *bench) tools() []tool {
	var out []tool
	for _, t := range allTools() {
		if len(b.opts.tools) == 0 || slices.Contains(b.opts.tools, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// workloads returns the rows selected by -work, in table order.
func (b *bench) workloads() []string {
	var out []string
	for _, w := range allWorkloads() {
		if len(b.opts.works) == 0 || slices.Contains(b.opts.works, w) {
			out = append(out, w)
		}
	}
	return out
}

// bench is one benchmark run: work directory, servers, fixtures, results.
type bench struct {
	opts       options
	command    string
	work       string
	earthmount string
	versity    *testenv.Versity
	toxi       *testenv.Toxiproxy
	endpoints  []endpoint
	needs      map[string]need // per workload: what the lower bound fetches
	zarrBytes  int64
	res        *results
	mounts     int
	started    time.Time
}

// endpoint is one latency column group: the S3 URL every tool uses.
type endpoint struct {
	RTT time.Duration
	S3  testenv.S3Endpoint
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "zarrbench:", err)
		os.Exit(2)
	}
	// Ctrl-C cancels ctx: the running Python is killed and the defers
	// unmount and stop everything.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{opts: opts, res: newResults(), started: time.Now(),
		command: strings.TrimSpace("go run ./integration/zarrbench " + strings.Join(os.Args[1:], " "))}
	if err := b.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "zarrbench:", err)
		stop()
		os.Exit(1)
	}
}

func (b *bench) run(ctx context.Context) (err error) {
	if err := testenv.CheckFUSE(); err != nil {
		return err
	}
	if err := testenv.CheckPython(ctx); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp("", "earthmount-zarrbench-"); err != nil {
		return err
	}
	defer testenv.RemoveWorkDir(os.Stderr, "zarrbench", b.work, b.opts.keep)
	for _, d := range []string{"home", "mnt", "logs", "local"} {
		if err := os.MkdirAll(filepath.Join(b.work, d), 0o755); err != nil {
			return err
		}
	}
	b.progress("building ./cmd/earthmount")
	if b.earthmount, err = testenv.BuildEarthmount(ctx, b.work); err != nil {
		return err
	}
	b.progress("starting versitygw and toxiproxy in " + b.work)
	defer func() { err = errors.Join(err, b.stopServers()) }()
	if err := b.startServers(ctx); err != nil {
		return err
	}
	if err := b.writeFixtures(ctx); err != nil {
		return err
	}
	defer func() {
		report := b.report(err)
		fmt.Print(report)
		if err == nil && b.opts.out != "" {
			err = os.WriteFile(b.opts.out, []byte(report), 0o644)
		}
	}()
	for _, ep := range b.endpoints {
		if err := b.measure(ctx, ep); err != nil {
			return err
		}
	}
	if b.opts.count {
		return b.countPass(ctx)
	}
	return nil
}

// startServers starts versitygw and, for every non-zero RTT, a toxiproxy
// listener in front of it with a latency toxic.
func (b *bench) startServers(ctx context.Context) error {
	v, err := testenv.StartVersity(ctx, testenv.VersityOptions{Dir: b.work})
	if err != nil {
		return err
	}
	b.versity = v
	for _, rtt := range b.opts.rtts {
		ep := endpoint{RTT: rtt, S3: v.S3Endpoint}
		if rtt > 0 {
			if b.toxi == nil {
				if b.toxi, err = testenv.StartToxiproxy(ctx, testenv.ToxiproxyOptions{Dir: b.work}); err != nil {
					return err
				}
			}
			p, err := b.toxi.Proxy(fmt.Sprintf("versitygw_%dms", rtt.Milliseconds()), v.URL)
			if err != nil {
				return err
			}
			if err := p.SetLatency(rtt); err != nil {
				return err
			}
			ep.S3.URL = p.URL
		}
		b.endpoints = append(b.endpoints, ep)
	}
	return nil
}

func (b *bench) stopServers() error {
	var errs []error
	if b.toxi != nil {
		errs = append(errs, b.toxi.Close())
	}
	if b.versity != nil {
		errs = append(errs, b.versity.Close())
	}
	return errors.Join(errs...)
}

func (b *bench) progress(msg string) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), msg)
}
