package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

var errTimeout = errors.New("timed out")

// measure runs every workload at one latency: run by run, workload by
// workload, the tools take turns, so drift on the machine spreads over all
// of them. A cell that failed or hit the bound is not run again; only a
// cancelled context (Ctrl-C) ends the benchmark.
func (b *bench) measure(ctx context.Context, ep endpoint) error {
	for run := 1; run <= b.opts.runs; run++ {
		for _, w := range b.workloads() {
			for _, t := range b.tools() {
				if b.res.cell(t.Name, ep.RTT, w).done() {
					continue
				}
				b.progress(fmt.Sprintf("%d ms %s, run %d/%d: %s", ep.RTT.Milliseconds(), w, run, b.opts.runs, t.Name))
				secs, err := b.one(ctx, t, ep, w)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				b.res.add(t.Name, ep.RTT, w, secs, err, b.opts.timeout)
				if err != nil {
					b.progress(fmt.Sprintf("  %v", err))
				} else {
					b.progress(fmt.Sprintf("  %.2f s", secs))
				}
			}
		}
	}
	return nil
}

// one measures one cell once and returns seconds.
func (b *bench) one(ctx context.Context, t tool, ep endpoint, w string) (float64, error) {
	switch {
	case t.Name == "lower":
		lctx, cancel := context.WithTimeout(ctx, b.opts.timeout)
		defer cancel()
		took, err := lowerBound(lctx, ep.S3, b.needs[w])
		if err != nil && ctx.Err() == nil && lctx.Err() != nil {
			err = errTimeout
		}
		return took.Seconds(), err
	case t.Name == "local": // the compute floor: the local copy, page cache warm
		local := filepath.Join(b.work, "local")
		secs, _, err := b.python(ctx, w, filepath.Join(local, "store.zarr"), filepath.Join(local, "sample.nc"))
		return secs, err
	case t.mount == nil: // fsspec straight over HTTP, anonymous
		base := ep.S3.URL + "/" + bucket + "/"
		secs, rss, err := b.python(ctx, w, base+"store.zarr", base+"sample.nc")
		if err == nil {
			b.res.rss(t.Name, ep.RTT, rss)
		}
		return secs, err
	}
	b.mounts++
	name := fmt.Sprintf("%s-%dms-%s-%d", t.Name, ep.RTT.Milliseconds(), w, b.mounts)
	dir := filepath.Join(b.work, "mnt", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var rec *recorder
	if b.opts.tline && t.Name == "earthmount" && ep.RTT > 0 {
		r, err := startRecorder(ep.S3.URL)
		if err != nil {
			return 0, err
		}
		rec, ep.S3.URL = r, r.URL
		defer func() {
			if err := rec.write(filepath.Join(b.work, "logs", name+".timeline")); err != nil {
				b.res.note("timeline of %s: %v", name, err)
			}
		}()
	}
	m, err := t.mount(ctx, b, ep, dir, filepath.Join(b.work, "logs", name+".log"))
	if err != nil {
		return 0, err
	}
	if rec != nil {
		rec.restart()
	}
	defer func() {
		if cerr := m.Close(); cerr != nil {
			b.res.note("teardown of %s: %v", name, cerr)
		}
		os.RemoveAll(dir + ".cache") // rclone full's cache
	}()
	// Every tool mounts the bucket itself, so the store is at the top.
	secs, _, err := b.python(ctx, w, filepath.Join(dir, "store.zarr"), filepath.Join(dir, "sample.nc"))
	if err == nil && t.Name == "earthmount" && ep.RTT < 0 {
		b.res.cache[w] = scrapeCache(ctx, filepath.Join(b.work, "logs", name+".log"))
		if cpu, err := cpuSeconds(m.PID); err == nil {
			b.res.cache[w] += fmt.Sprintf("; earthmount CPU %.2f s (user+system, whole mount)", cpu)
		}
	}
	if err == nil {
		rss, rerr := testenv.PeakRSS(m.PID)
		kb := rss >> 10
		if rerr != nil {
			return secs, rerr
		}
		b.res.rss(t.Name, ep.RTT, kb)
	}
	return secs, err
}

// python runs one workload in a fresh interpreter, bounded by -timeout,
// and returns the seconds it measured and its own peak RSS in KiB.
func (b *bench) python(ctx context.Context, w, zarr, nc string) (float64, int64, error) {
	pctx, cancel := context.WithTimeout(ctx, b.opts.timeout)
	defer cancel()
	cmd := exec.CommandContext(pctx, testenv.Python, "-c", script, "run", w, zarr, nc)
	cmd.Env = testenv.Env(filepath.Join(b.work, "home"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return 0, 0, ctx.Err()
	case pctx.Err() != nil:
		return 0, 0, errTimeout
	case err != nil:
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:] // the exception line
		}
		return 0, 0, fmt.Errorf("python %s: %w: %s", w, err, msg)
	}
	f := strings.Fields(out.String())
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("python %s: unexpected output %q", w, out.String())
	}
	secs, err1 := strconv.ParseFloat(f[0], 64)
	rss, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("python %s: %w", w, err)
	}
	return secs, rss, nil
}
