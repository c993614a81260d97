package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/earthmount/earthmount/integration/testenv"
)

// measure runs every workload at one latency. Within a run the tools take
// turns, so slow drift on the machine (page cache, thermal, neighbours)
// spreads over all of them. A cell that failed or hit the bound is not run
// again; an error that is not the tool's (Ctrl-C) ends the benchmark.
func (b *bench) measure(ctx context.Context, lat latency) error {
	for _, t := range b.tools {
		if t.Missing != nil {
			for _, m := range []metric{mRead, mFind, mRsync, mRsync2} {
				b.res.skip(t.Name, lat.RTT, m, "not installed")
			}
			b.res.note("%s: %v", t.Name, t.Missing)
		}
		if b.opts.quick && (t.Name == "rclone" || t.Name == "s3fs") {
			b.res.skip(t.Name, lat.RTT, mRsync, "skipped (-quick)")
			b.res.skip(t.Name, lat.RTT, mRsync2, "skipped (-quick)")
		}
	}
	workloads := []struct {
		m   metric
		run func(context.Context, tool, latency) error
	}{{mRead, b.read}, {mFind, b.find}, {mRsync, b.rsync}}
	for _, w := range workloads {
		if b.opts.readOnly && w.m != mRead {
			continue
		}
		for run := 1; run <= b.opts.runs; run++ {
			for _, t := range b.tools {
				if t.mount == nil && w.m != mRead {
					continue // the direct download only reads
				}
				if b.res.cell(t.Name, lat.RTT, w.m).done() {
					continue
				}
				b.progress(fmt.Sprintf("%s %s, run %d/%d: %s", lat, w.m, run, b.opts.runs, t.Name))
				if err := w.run(ctx, t, lat); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// read is (a), and (d): the peak RSS of the process that served the read
// (earthmount's is the target; rclone's and s3fs's are for comparison).
// It also records where the CPU went.
func (b *bench) read(ctx context.Context, t tool, lat latency) error {
	if t.mount == nil {
		dctx, cancel := context.WithTimeout(ctx, b.opts.timeout)
		meter := startCPU(0)
		took, err := directDownload(dctx, lat.S3, bigKey, bigSize)
		use := meter.stop(0)
		cancel()
		if err != nil && ctx.Err() == nil && dctx.Err() != nil {
			err = fmt.Errorf("direct download: %w after %v", errTimeout, b.opts.timeout)
		}
		if rerr := b.record(ctx, t, lat, mRead, mbps(bigSize, took), err); rerr != nil || err != nil {
			return rerr
		}
		b.recordCPU(t, lat, use)
		return nil
	}
	return b.mounted(ctx, t, lat, mRead, func(m *mounted) error {
		meter := startCPU(m.PID)
		v, cpCPU, err := readBig(ctx, b.opts.timeout, m.Dir)
		use := meter.stop(cpCPU)
		if rerr := b.record(ctx, t, lat, mRead, v, err); rerr != nil || err != nil {
			return rerr
		}
		b.recordCPU(t, lat, use)
		rss, err := testenv.PeakRSS(m.PID)
		return b.record(ctx, t, lat, mRSS, float64(rss)/(1<<20), err)
	})
}

func (b *bench) recordCPU(t tool, lat latency, u cpuUse) {
	b.res.add(t.Name, lat.RTT, mBusy, 100*u.busy, nil, 0)
	b.res.add(t.Name, lat.RTT, mDaemonCPU, u.daemon.Seconds(), nil, 0)
	b.res.add(t.Name, lat.RTT, mClientCPU, u.client.Seconds(), nil, 0)
	b.res.add(t.Name, lat.RTT, mOtherCPU, u.other.Seconds(), nil, 0)
	b.progress("  " + t.Name + " " + lat.String() + " (a) CPU: " + u.String())
}

func (b *bench) find(ctx context.Context, t tool, lat latency) error {
	return b.mounted(ctx, t, lat, mFind, func(m *mounted) error {
		took, err := findTree(ctx, b.opts.timeout, m.Dir)
		return b.record(ctx, t, lat, mFind, took.Seconds(), err)
	})
}

func (b *bench) rsync(ctx context.Context, t tool, lat latency) error {
	return b.mounted(ctx, t, lat, mRsync, func(m *mounted) error {
		dest := filepath.Join(b.work, "rsync-dest")
		took, err := rsyncCopy(ctx, b.opts.timeout, m.Dir, dest, b.fx.smallDir)
		if rerr := b.record(ctx, t, lat, mRsync, took.Seconds(), err); rerr != nil || err != nil {
			return rerr
		}
		took, err = rsyncAgain(ctx, b.opts.timeout, m.Dir, dest)
		return b.record(ctx, t, lat, mRsync2, took.Seconds(), err)
	})
}

// mounted runs fn on a fresh mount of t; a failure to mount is the cell's
// failure, not the benchmark's.
func (b *bench) mounted(ctx context.Context, t tool, lat latency, m metric, fn func(*mounted) error) error {
	if err := b.withMount(ctx, t, lat, fn); err != nil {
		return b.record(ctx, t, lat, m, 0, err)
	}
	return ctx.Err()
}

// record adds one run to its cell. Only a cancelled context is returned:
// any other failure belongs in the table.
func (b *bench) record(ctx context.Context, t tool, lat latency, m metric, v float64, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	b.res.add(t.Name, lat.RTT, m, v, err, b.opts.timeout)
	if err == nil {
		b.progress(fmt.Sprintf("  %s %s %s: %s", t.Name, lat, m, unitText(m, v)))
	} else {
		b.progress(fmt.Sprintf("  %s %s %s: %v", t.Name, lat, m, err))
	}
	return nil
}

func unitText(m metric, v float64) string {
	switch m {
	case mRead:
		return fmtMBps(v) + " MB/s"
	case mRSS:
		return fmtMiB(v) + " MiB"
	}
	return fmtSec(v) + " s"
}
