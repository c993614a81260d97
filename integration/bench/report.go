package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// report renders the results as markdown: the command, the setup, one
// table of tool × latency × workload, the request counts, and notes.
func (b *bench) report(runErr error) string {
	var w strings.Builder
	fmt.Fprintf(&w, "### Benchmark (%s)\n\n", b.started.UTC().Format("2006-01-02"))
	if runErr != nil {
		fmt.Fprintf(&w, "**Incomplete run:** %v\n\n", runErr)
	}
	fmt.Fprintf(&w, "Command: `%s`\n\n", strings.TrimSpace(b.command))
	fmt.Fprintf(&w, "%s\n\n", b.setup())
	b.mainTable(&w)
	b.cpuTable(&w)
	b.requestTable(&w)
	if len(b.res.notes) > 0 {
		fmt.Fprintf(&w, "Notes:\n\n")
		for _, n := range b.res.notes {
			fmt.Fprintf(&w, "- %s\n", strings.ReplaceAll(n, "\n", " "))
		}
		fmt.Fprintln(&w)
	}
	b.rawRuns(&w)
	return w.String()
}

func (b *bench) setup() string {
	var rtts []string
	for _, l := range b.srv.latencies {
		rtts = append(rtts, l.String())
	}
	return fmt.Sprintf("%s. versitygw %s (posix backend, --keep-alive) on 127.0.0.1 with "+
		"the fixtures written into its data directory: one 1 GiB object; %s keys of %d B in %d prefixes; "+
		"%s files of %d-%d KiB (%.0f MiB) in %d directories. Round-trip times %s: 0 ms goes straight to "+
		"versitygw, the others through toxiproxy %s with a latency toxic of half the RTT on each direction "+
		"(delays requests, does not cap bandwidth). %s. Medians of %d run%s, a fresh mount for every run "+
		"(which also drops the kernel's page cache for the mount); the tools take turns within each run. "+
		"MB/s = 10^6 bytes/s; the ratio is to the direct download at the same RTT. Each cp, find and rsync is "+
		"bounded by %d s: \"> N s\" means the first run hit the bound and was not repeated.",
		testenv.Machine(), testenv.VersityTool().Version,
		thousands(treeDirs*treePerDir), treeFileSize, treeDirs,
		thousands(smallFiles), smallMin>>10, smallMax>>10, float64(b.fx.smallBytes)/(1<<20), smallDirs,
		strings.Join(rtts, " and "), testenv.ToxiproxyTool().Version, b.earthmountVersion(),
		b.opts.runs, testenv.Plural(b.opts.runs), int(b.opts.timeout.Seconds()))
}

func (b *bench) earthmountVersion() string {
	if b.earthmount == "" {
		return "earthmount not measured"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := testenv.Run(ctx, b.earthmount, b.home, 10*time.Second, "version")
	v := strings.TrimSpace(res.Stdout + res.Stderr)
	if err != nil || v == "" {
		return "earthmount built from this tree"
	}
	first, _, _ := strings.Cut(v, "\n")
	return "earthmount: `" + first + "`"
}

func (b *bench) mainTable(w *strings.Builder) {
	fmt.Fprintf(w, "| tool | RTT | (a) 1 GiB read, MB/s | (a) vs direct | (b) find, s | (c) rsync -a, s | (c) 2nd rsync -a, s | (d) peak RSS during (a), MiB |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|\n")
	for _, lat := range b.srv.latencies {
		direct := b.res.cells[cellKey{"direct", lat.RTT, mRead}]
		for _, t := range b.tools {
			get := func(m metric) *cell { return b.res.cells[cellKey{t.Name, lat.RTT, m}] }
			ratio := "—"
			if r := get(mRead); r != nil && len(r.vals) > 0 && direct != nil && len(direct.vals) > 0 {
				ratio = fmtRatio(median(r.vals) / median(direct.vals))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", t.Label, lat,
				get(mRead).text(fmtMBps, ""), ratio,
				get(mFind).text(fmtSec, ""), get(mRsync).text(fmtSec, ""),
				get(mRsync2).text(fmtSec, ""), get(mRSS).text(fmtMiB, ""))
		}
	}
	fmt.Fprintln(w)
	for _, lat := range b.srv.latencies {
		if c := b.res.cells[cellKey{"earthmount", lat.RTT, mRSS}]; c != nil && len(c.vals) > 0 {
			fmt.Fprintf(w, "(d) earthmount at %s, --cache-memory %s: peak RSS (VmHWM) median %s MiB, max %s MiB over %d run%s (target: at most the budget plus 100 MiB = 356 MiB).\n",
				lat, cacheMemory, fmtMiB(median(c.vals)), fmtMiB(maxOf(c.vals)), len(c.vals), testenv.Plural(len(c.vals)))
		}
	}
	fmt.Fprintln(w)
}

// cpuTable shows where the CPU went during (a): with everything on one
// 2-core machine, a read at loopback speed is bounded by CPU.
func (b *bench) cpuTable(w *strings.Builder) {
	fmt.Fprintf(w, "CPU during (a), medians, in CPU seconds for the 1 GiB (machine: share of all %d cores busy; "+
		"daemon: the FUSE process; client: cp, or the whole benchmark process for the direct download; "+
		"other: the rest of the busy time, i.e. versitygw, toxiproxy and kernel threads):\n\n", runtime.NumCPU())
	fmt.Fprintf(w, "| tool | RTT | MB/s | machine busy | daemon | client | other |\n|---|---|---|---|---|---|---|\n")
	for _, lat := range b.srv.latencies {
		for _, t := range b.tools {
			get := func(m metric) *cell { return b.res.cells[cellKey{t.Name, lat.RTT, m}] }
			if c := get(mBusy); c == nil || len(c.vals) == 0 {
				continue
			}
			daemon := "—"
			if t.mount != nil {
				daemon = get(mDaemonCPU).text(fmtCPU, "")
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", t.Name, lat, get(mRead).text(fmtMBps, ""),
				get(mBusy).text(fmtMBps, "%"), daemon, get(mClientCPU).text(fmtCPU, ""), get(mOtherCPU).text(fmtCPU, ""))
		}
	}
	fmt.Fprintln(w)
}

func maxOf(vs []float64) float64 {
	m := vs[0]
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

func (b *bench) requestTable(w *strings.Builder) {
	if len(b.res.requests) == 0 {
		return
	}
	fmt.Fprintf(w, "S3 requests per workload (one extra untimed run at 0 ms through a counting proxy; requests made while mounting are left out):\n\n")
	fmt.Fprintf(w, "| tool | (a) 1 GiB read | (b) find | (c) rsync -a | (c) 2nd rsync -a |\n|---|---|---|---|---|\n")
	for _, t := range b.tools {
		if t.mount == nil || t.Missing != nil {
			continue
		}
		row := []string{t.Label}
		for _, m := range []metric{mRead, mFind, mRsync, mRsync2} {
			r, ok := b.res.requests[cellKey{t.Name, 0, m}]
			switch {
			case !ok:
				row = append(row, "—")
			case m == mRead && r.Get > 0:
				row = append(row, fmt.Sprintf("%s; %.1f MiB per GET", r, float64(r.GetBytes)/float64(r.Get)/(1<<20)))
			default:
				row = append(row, r.String())
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintln(w)
}

// rawRuns lists every run's value, so that a median can be checked.
func (b *bench) rawRuns(w *strings.Builder) {
	fmt.Fprintf(w, "<details><summary>Every run</summary>\n\n")
	for _, lat := range b.srv.latencies {
		for _, t := range b.tools {
			for _, m := range []metric{mRead, mFind, mRsync, mRsync2, mRSS} {
				c := b.res.cells[cellKey{t.Name, lat.RTT, m}]
				if c == nil || len(c.vals) == 0 {
					continue
				}
				fmt.Fprintf(w, "- %s, %s, %s: %s\n", t.Name, lat, m, unitList(m, c))
			}
		}
	}
	fmt.Fprintf(w, "\n</details>\n")
}

func unitList(m metric, c *cell) string {
	switch m {
	case mRead:
		return c.raw(fmtMBps) + " MB/s"
	case mRSS:
		return c.raw(fmtMiB) + " MiB"
	}
	return c.raw(fmtSec) + " s"
}
