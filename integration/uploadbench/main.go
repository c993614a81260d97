package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

type options struct {
	big   int64
	files int
	size  int
	out   string
	keep  bool
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := run(ctx, o)
	if report != "" {
		fmt.Print(report)
		if o.out != "" {
			if werr := os.WriteFile(o.out, []byte(report), 0o644); werr != nil {
				fmt.Fprintln(os.Stderr, "uploadbench:", werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fl := flag.NewFlagSet("uploadbench", flag.ContinueOnError)
	big := fl.String("big", "3GiB", "size of the big file")
	fl.IntVar(&o.files, "files", 5000, "chunk files of the Zarr store")
	fl.IntVar(&o.size, "file-size", 16<<10, "bytes per chunk file")
	fl.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	fl.BoolVar(&o.keep, "keep", false, "keep the work directory")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	n, err := parseSize(*big)
	if err != nil || fl.NArg() > 0 || o.files < 1 || o.size < 1 {
		return o, fmt.Errorf("usage: go run ./integration/uploadbench [-big 3GiB] [-files 5000] [-file-size 16384] [-out FILE.md]")
	}
	o.big = n
	return o, nil
}

// parseSize reads "3GiB", "512MiB" or a byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.m
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q", s)
	}
	return n * mult, nil
}

// uptime is the load line of uptime(1).
func uptime() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "uptime: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

func run(ctx context.Context, o options) (string, error) {
	work, err := os.MkdirTemp("", "uploadbench-")
	if err != nil {
		return "", err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	b := &bench{opts: o, work: work, res: &results{}}
	b.res.loadBefore = uptime()
	progress("generating the fixtures in %s", work)
	if err := b.fixtures(); err != nil {
		return "", err
	}
	progress("starting versitygw")
	b.versity, err = testenv.StartVersity(ctx, testenv.VersityOptions{Dir: filepath.Join(work, "versity")})
	if err != nil {
		return "", err
	}
	defer b.versity.Close()
	if err := b.versity.CreateBucket(ctx, "upload"); err != nil {
		return "", err
	}
	err = b.measure(ctx)
	b.res.loadAfter = uptime()
	return b.res.report(o, os.Args), err
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "uploadbench: "+format+"\n", args...)
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}
