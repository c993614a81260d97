package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// warm reads files under a mount so that earthmount's cache (and the
// kernel's page cache) holds them: a store before a session, a file
// before a demo. It reads through the mount, so the running earthmount
// fetches with its own credentials, read-ahead and budget; no other
// connection to it is needed. A budget smaller than what is warmed keeps
// the last part read.

// warmOptions is one `earthmount warm` run.
type warmOptions struct {
	path    string
	include string // glob on the path relative to path, or on the base name
	jobs    int    // files read at once
	// checkMount, when set, refuses paths that are not on an earthmount
	// mount (tests warm plain directories).
	checkMount func(string) error
	progress   io.Writer // status line and summary
	tty        bool      // redraw one status line; else print a line now and then
	tick       time.Duration
}

func newWarmCmd(e *env) *cobra.Command {
	o := warmOptions{checkMount: onEarthmount, tick: 200 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "warm PATH",
		Short: "Fetch a store, a file or a directory of a mount into earthmount's cache, with progress",
		Long: "Reads every file under PATH (on an earthmount mount) once, in parallel, so that later reads\n" +
			"come from memory. Shows bytes, objects, rate and ETA; Ctrl-C stops it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = args[0]
			o.progress = e.stderr
			if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				o.tty = true
			}
			_, err := warm(cmd.Context(), o)
			return err
		},
	}
	cmd.Flags().StringVar(&o.include, "include", "", "only files whose path below PATH, or whose name, matches this glob (e.g. '*.nc', 't2m/*')")
	cmd.Flags().IntVar(&o.jobs, "jobs", 16, "files read at once")
	return cmd
}

// warmResult is what a run read.
type warmResult struct {
	files, bytes       int64 // read
	totalFiles, totalB int64 // selected
	failed             int64
	took               time.Duration
}

// warm selects the files, reads them with o.jobs workers and reports
// progress until done or ctx ends (Ctrl-C), then prints a summary.
func warm(ctx context.Context, o warmOptions) (warmResult, error) {
	var res warmResult
	if o.jobs < 1 {
		return res, errors.New("--jobs must be at least 1")
	}
	if o.include != "" {
		if _, err := path.Match(o.include, ""); err != nil {
			return res, fmt.Errorf("--include %q: %w", o.include, err)
		}
	}
	if o.checkMount != nil {
		if err := o.checkMount(o.path); err != nil {
			return res, err
		}
	}
	start := time.Now()
	files, err := selectFiles(ctx, o.path, o.include)
	if err != nil && ctx.Err() == nil {
		return res, err
	}
	for _, f := range files {
		res.totalFiles++
		res.totalB += f.size
	}
	var done, bytes, failed atomic.Int64
	work := make(chan warmFile)
	var wg sync.WaitGroup
	for range o.jobs {
		wg.Go(func() {
			buf := make([]byte, 1<<20)
			for f := range work {
				err := readFile(ctx, f.path, buf, &bytes)
				switch {
				case err == nil:
					done.Add(1)
				case ctx.Err() != nil: // interrupted: not warmed, not failed
				default:
					failed.Add(1)
					fmt.Fprintf(o.progress, "\r\033[Kwarm: %v\n", err)
				}
			}
		})
	}
	stop := make(chan struct{})
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		t := time.NewTicker(o.tick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if o.tty {
				fmt.Fprint(o.progress, "\r\033[K"+statusLine(bytes.Load(), res.totalB, done.Load(), res.totalFiles, time.Since(start)))
			} else if time.Since(last) >= 5*time.Second {
				last = time.Now()
				fmt.Fprintln(o.progress, statusLine(bytes.Load(), res.totalB, done.Load(), res.totalFiles, time.Since(start)))
			}
		}
	}()
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(stop)
	<-reported
	res.files, res.bytes, res.failed, res.took = done.Load(), bytes.Load(), failed.Load(), time.Since(start)
	if o.tty {
		fmt.Fprint(o.progress, "\r\033[K")
	}
	fmt.Fprintln(o.progress, summaryLine(res, ctx.Err() != nil))
	switch {
	case ctx.Err() != nil:
		return res, errors.New("interrupted")
	case res.failed > 0:
		return res, fmt.Errorf("%d files could not be read", res.failed)
	}
	return res, nil
}

type warmFile struct {
	path string
	size int64
}

// selectFiles walks root (a file or a directory) and returns the regular
// files the glob selects, in walk order.
func selectFiles(ctx context.Context, root, include string) ([]warmFile, error) {
	var files []warmFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if include != "" {
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			m1, _ := path.Match(include, rel)
			m2, _ := path.Match(include, d.Name())
			if !m1 && !m2 {
				return nil
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, warmFile{path: p, size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("warm: %w", err)
	}
	return files, nil
}

// readFile reads the file at p to the end, counting bytes; it stops with
// ctx's error when ctx ends.
func readFile(ctx context.Context, p string, buf []byte, bytes *atomic.Int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.Read(buf)
		bytes.Add(int64(n))
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// statusLine is the progress line: a bar, bytes, objects, rate and ETA.
func statusLine(bytes, total, files, totalFiles int64, elapsed time.Duration) string {
	frac := 1.0
	if total > 0 {
		frac = min(1, float64(bytes)/float64(total))
	}
	const width = 24
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat("-", width-int(frac*width))
	rate := float64(bytes) / max(elapsed.Seconds(), 1e-3)
	eta := "-"
	if rate > 0 && total > bytes {
		eta = time.Duration(float64(total-bytes) / rate * float64(time.Second)).Round(time.Second).String()
	} else if total <= bytes {
		eta = "0s"
	}
	return fmt.Sprintf("[%s] %3.0f%%  %s / %s  %d/%d objects  %s/s  ETA %s",
		bar, 100*frac, humanBytes(bytes), humanBytes(total), files, totalFiles, humanBytes(int64(rate)), eta)
}

// summaryLine is printed at the end of a run.
func summaryLine(r warmResult, interrupted bool) string {
	rate := float64(r.bytes) / max(r.took.Seconds(), 1e-3)
	s := fmt.Sprintf("warmed %d of %d objects, %s of %s in %s (%s/s)",
		r.files, r.totalFiles, humanBytes(r.bytes), humanBytes(r.totalB), r.took.Round(10*time.Millisecond), humanBytes(int64(rate)))
	if r.failed > 0 {
		s += fmt.Sprintf(", %d failed", r.failed)
	}
	if interrupted {
		s += " (interrupted)"
	}
	return s
}

// humanBytes formats n in binary units, as the config's sizes are written.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, exp := float64(n), 0
	for v >= unit && exp < 4 {
		v /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[exp-1])
}
