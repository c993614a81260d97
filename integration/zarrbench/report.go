package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// anchors are the tools earthmount is compared with ("best anchor").
func anchors() []string { return []string{"rclone-off", "rclone-full", "s3fs", "fsspec"} }

// report renders the results as markdown: command, setup, the time table
// with ratios, the peak RSS table, notes.
func (b *bench) report(runErr error) string {
	var w strings.Builder
	fmt.Fprintf(&w, "### xarray benchmark (%s)\n\n", b.started.UTC().Format("2006-01-02"))
	if runErr != nil {
		fmt.Fprintf(&w, "**Incomplete run:** %v\n\n", runErr)
	}
	fmt.Fprintf(&w, "Command: `%s`\n\n%s\n\n", b.command, b.setup())
	b.timeTable(&w)
	b.rssTable(&w)
	b.trafficTable(&w)
	if len(b.res.notes) > 0 {
		fmt.Fprintf(&w, "Notes:\n\n")
		for _, n := range b.res.notes {
			fmt.Fprintf(&w, "- %s\n", strings.ReplaceAll(n, "\n", " "))
		}
		fmt.Fprintln(&w)
	}
	return w.String()
}

func (b *bench) setup() string {
	var needs []string
	for _, wk := range b.workloads() {
		n := b.needs[wk]
		what := fmt.Sprintf("%d objects", len(n.Keys))
		if len(n.Ranges) > 0 {
			what = fmt.Sprintf("%d ranges of sample.nc", len(n.Ranges))
		}
		needs = append(needs, fmt.Sprintf("%s %.1f MB (%s)", wk, float64(n.bytes)/1e6, what))
	}
	return fmt.Sprintf("%s. versitygw %s (posix backend, --keep-alive) on 127.0.0.1; round trips added by "+
		"toxiproxy %s (half the RTT each way; 0 ms goes straight to versitygw). Fixtures written by xarray: "+
		"a consolidated Zarr v2 store of two float32 variables t2m and precip (%d × 360 × 720, chunks 16 × 180 × 360, "+
		"uncompressed: 4.15 MB objects; %.0f MB in all) and a NetCDF4 file of t2m with the same chunks. Bytes each workload reads (the "+
		"lower bound's GETs, 16 in flight, fresh connections): %s. Each cell is a fresh Python process (%s, "+
		"timed after the imports: open plus the computation, dask's default threaded scheduler) on a fresh mount. "+
		"earthmount: --cache-memory %s, default chunk size; %s; %s. rclone `--vfs-cache-mode off` and `full` "+
		"(fresh cache dir per mount); s3fs defaults, no use_cache; fsspec: xarray's own HTTP path "+
		"(`open_zarr(\"http://…\")`, h5netcdf on `fsspec.open()` for the NetCDF file) against the public-read "+
		"bucket. local disk: the same Python on the local copy (page cache warm), the compute floor. Medians of %d run%s; each run bounded by %d s (\"> N s\": hit the bound, not repeated). "+
		"Ratios: best anchor ÷ earthmount (above 1: earthmount faster), earthmount ÷ lower bound, "+
		"and earthmount ÷ floor, where floor = max(lower bound, local disk): the lower bound has no Python in it, "+
		"and no reader can beat the slower of the network and the computation.",
		testenv.Machine(), testenv.VersityTool().Version, testenv.ToxiproxyTool().Version, b.opts.steps,
		float64(b.zarrBytes)/1e6, strings.Join(needs, "; "), testenv.Python, cacheMemory,
		version("rclone", "version"), version("s3fs", "--version"), b.opts.runs, testenv.Plural(b.opts.runs),
		int(b.opts.timeout.Seconds()))
}

func (b *bench) timeTable(w *strings.Builder) {
	fmt.Fprintf(w, "| workload | RTT |")
	for _, t := range b.tools() {
		fmt.Fprintf(w, " %s, s |", t.Label)
	}
	fmt.Fprintf(w, " best anchor ÷ earthmount | earthmount ÷ lower bound | earthmount ÷ floor |\n|---|---|%s---|---|---|\n",
		strings.Repeat("---|", len(b.tools())))
	for _, wk := range b.workloads() {
		for _, ep := range b.endpoints {
			fmt.Fprintf(w, "| %s | %d ms |", describe(wk), ep.RTT.Milliseconds())
			for _, t := range b.tools() {
				fmt.Fprintf(w, " %s |", b.res.cells[cellKey{t.Name, ep.RTT, wk}].text())
			}
			em, emOK := b.res.cells[cellKey{"earthmount", ep.RTT, wk}].median()
			best, bestName := 0.0, ""
			for _, a := range anchors() {
				c := b.res.cells[cellKey{a, ep.RTT, wk}]
				if v, ok := c.median(); ok && (bestName == "" || v < best) {
					best, bestName = v, a
				}
			}
			lo, loOK := b.res.cells[cellKey{"lower", ep.RTT, wk}].median()
			ratio := func(ok bool, num, den float64, suffix string) string {
				if !ok || den <= 0 {
					return "—"
				}
				return fmt.Sprintf("%.2f×%s", num/den, suffix)
			}
			local, localOK := b.res.cells[cellKey{"local", ep.RTT, wk}].median()
			fmt.Fprintf(w, " %s | %s | %s |\n", ratio(emOK && bestName != "", best, em, " ("+bestName+")"),
				ratio(emOK && loOK, em, lo, ""), ratio(emOK && loOK && localOK, em, max(lo, local), ""))
		}
	}
	fmt.Fprintln(w)
}

func (b *bench) rssTable(w *strings.Builder) {
	fmt.Fprintf(w, "Peak RSS, MiB, highest over all workloads and runs (VmHWM of the mount process; for "+
		"fsspec, of the Python process doing the reads):\n\n| RTT |")
	var names []string
	for _, t := range b.tools() {
		if t.Name != "lower" && t.Name != "local" {
			names = append(names, t.Name)
			fmt.Fprintf(w, " %s |", t.Label)
		}
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(names)))
	for _, ep := range b.endpoints {
		fmt.Fprintf(w, "| %d ms |", ep.RTT.Milliseconds())
		for _, n := range names {
			if kb, ok := b.res.peak[rssKey{n, ep.RTT}]; ok {
				fmt.Fprintf(w, " %.0f |", float64(kb)/1024)
			} else {
				fmt.Fprintf(w, " — |")
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// version labels a program with the first version-like word it prints.
func version(prog, flag string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, prog, flag).CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	for _, f := range strings.Fields(first) {
		if len(f) > 1 && (f[0] == 'v' || f[0] == 'V' || f[0] >= '0' && f[0] <= '9') && strings.Contains(f, ".") {
			return prog + " " + strings.TrimLeft(f, "vV")
		}
	}
	return prog
}

func (b *bench) trafficTable(w *strings.Builder) {
	if len(b.res.traffic) == 0 {
		return
	}
	fmt.Fprintf(w, "Requests and bytes, one untimed pass at 0 ms through a counting proxy (GETs of objects, "+
		"MB of GET bodies; all requests, LIST and HEAD included, in brackets):\n\n| workload | needed, MB |")
	var names []string
	for _, t := range b.tools() {
		if t.Name != "lower" && t.Name != "local" {
			names = append(names, t.Name)
			fmt.Fprintf(w, " %s |", t.Label)
		}
	}
	fmt.Fprintf(w, " earthmount fetched ÷ needed |\n|---|---|%s---|\n", strings.Repeat("---|", len(names)))
	for _, wk := range b.workloads() {
		needed := float64(b.needs[wk].bytes) / 1e6
		fmt.Fprintf(w, "| %s | %.1f |", describe(wk), needed)
		for _, n := range names {
			tr, ok := b.res.traffic[cellKey{n, 0, wk}]
			if !ok {
				fmt.Fprintf(w, " — |")
				continue
			}
			fmt.Fprintf(w, " %d GET, %.1f MB (%d) |", tr.Gets, float64(tr.Bytes)/1e6, tr.Requests)
		}
		if tr, ok := b.res.traffic[cellKey{"earthmount", 0, wk}]; ok && needed > 0 {
			fmt.Fprintf(w, " %.2f× |\n", float64(tr.Bytes)/1e6/needed)
		} else {
			fmt.Fprintf(w, " — |\n")
		}
	}
	fmt.Fprintln(w)
	if len(b.res.cache) > 0 {
		fmt.Fprintf(w, "earthmount's cache counters in that pass (prefetch issued/used: predictions fetched and read; evictions):\n\n")
		for _, wk := range b.workloads() {
			if s, ok := b.res.cache[wk]; ok {
				fmt.Fprintf(w, "- %s: %s\n", wk, s)
			}
		}
		fmt.Fprintln(w)
	}
}
