package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Workloads, the table's column groups.
const (
	wBig  = "big"
	wZarr = "zarr"
)

type cell struct {
	took time.Duration
	err  error
}

type results struct {
	rows, secondRows      []string
	first, second         map[[2]string]cell
	notes                 []string
	loadBefore, loadAfter string
}

func (r *results) add(row, workload string, took time.Duration, err error) {
	if r.first == nil {
		r.first = map[[2]string]cell{}
	}
	if !slices.Contains(r.rows, row) {
		r.rows = append(r.rows, row)
	}
	r.first[[2]string{row, workload}] = cell{took, err}
}

func (r *results) addSecond(row, workload string, took time.Duration, err error) {
	if r.second == nil {
		r.second = map[[2]string]cell{}
	}
	if !slices.Contains(r.secondRows, row) {
		r.secondRows = append(r.secondRows, row)
	}
	r.second[[2]string{row, workload}] = cell{took, err}
}

func (r *results) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// show formats one measurement with its rate: MiB/s or files/s.
func show(c cell, ok bool, rate func(time.Duration) string) string {
	switch {
	case !ok:
		return "–"
	case c.err != nil:
		return "failed: " + strings.ReplaceAll(strings.SplitN(c.err.Error(), "\n", 2)[0], "|", "/")
	}
	return fmt.Sprintf("%.2f s (%s)", c.took.Seconds(), rate(c.took))
}

func (r *results) report(o options, argv []string) string {
	var b strings.Builder
	mib := float64(o.big) / (1 << 20)
	files := o.files + 2
	bigRate := func(d time.Duration) string { return fmt.Sprintf("%.0f MiB/s", mib/d.Seconds()) }
	zarrRate := func(d time.Duration) string { return fmt.Sprintf("%.0f files/s", float64(files)/d.Seconds()) }
	fmt.Fprintf(&b, "## Upload throughput (versitygw on 127.0.0.1)\n\n")
	fmt.Fprintf(&b, "`%s`\n\n", strings.Join(append([]string{"go run ./integration/uploadbench"}, argv[1:]...), " "))
	fmt.Fprintf(&b, "| tool | %.0f MiB file | Zarr store, %d files of %d KiB |\n|---|---|---|\n", mib, files, o.size>>10)
	for _, row := range r.rows {
		bc, bok := r.first[[2]string{row, wBig}]
		zc, zok := r.first[[2]string{row, wZarr}]
		fmt.Fprintf(&b, "| %s | %s | %s |\n", row, show(bc, bok, bigRate), show(zc, zok, zarrRate))
	}
	fmt.Fprintf(&b, "\nSecond run, nothing to send:\n\n| tool | big file | Zarr store |\n|---|---|---|\n")
	plain := func(time.Duration) string { return "nothing sent" }
	for _, row := range r.secondRows {
		bc, bok := r.second[[2]string{row, wBig}]
		zc, zok := r.second[[2]string{row, wZarr}]
		fmt.Fprintf(&b, "| %s | %s | %s |\n", row, show(bc, bok, plain), show(zc, zok, plain))
	}
	fmt.Fprintf(&b, "\nLoad before: `%s`  \nLoad after: `%s`\n", r.loadBefore, r.loadAfter)
	for _, n := range r.notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	return b.String()
}
