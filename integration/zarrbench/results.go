package main

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

type cellKey struct {
	tool string
	rtt  time.Duration
	work string
}

type rssKey struct {
	tool string
	rtt  time.Duration
}

// A cell holds every run of one tool × latency × workload, in seconds.
type cell struct {
	vals []float64
	over time.Duration // a run hit this bound
	err  error         // a run failed
}

// done reports that later runs are pointless: one already failed or hit
// the bound (a median of "> N s" runs is "> N s").
func (c *cell) done() bool { return c.over > 0 || c.err != nil }

// results collects cells, peak RSS and notes as the runs go.
type results struct {
	cells   map[cellKey]*cell
	peak    map[rssKey]int64    // KiB, the highest over all runs
	traffic map[cellKey]traffic // the counting pass, rtt 0
	cache   map[string]string   // the counting pass: earthmount's cache counters per workload
	notes   []string
}

func newResults() *results {
	return &results{cells: make(map[cellKey]*cell), peak: make(map[rssKey]int64), traffic: make(map[cellKey]traffic), cache: make(map[string]string)}
}

func (r *results) cell(tool string, rtt time.Duration, work string) *cell {
	k := cellKey{tool, rtt, work}
	c := r.cells[k]
	if c == nil {
		c = &cell{}
		r.cells[k] = c
	}
	return c
}

// add records one run's seconds, or its failure.
func (r *results) add(tool string, rtt time.Duration, work string, v float64, err error, bound time.Duration) {
	c := r.cell(tool, rtt, work)
	switch {
	case errors.Is(err, errTimeout):
		c.over = bound
	case err != nil:
		c.err = err
		r.note("%s at %d ms, %s: %v", tool, rtt.Milliseconds(), work, err)
	default:
		c.vals = append(c.vals, v)
	}
}

func (r *results) rss(tool string, rtt time.Duration, kb int64) {
	k := rssKey{tool, rtt}
	r.peak[k] = max(r.peak[k], kb)
}

func (r *results) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(r.notes, n) {
		r.notes = append(r.notes, n)
	}
}

// median of the finished runs; ok is false when there are none.
func (c *cell) median() (float64, bool) {
	if c == nil || len(c.vals) == 0 {
		return 0, false
	}
	s := slices.Clone(c.vals)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// text renders a cell: the median, marked when some runs did not finish;
// the bound when one ran past it.
func (c *cell) text() string {
	m, ok := c.median()
	switch {
	case c == nil:
		return "—"
	case !ok && c.over > 0:
		return fmt.Sprintf("> %d s", int(c.over.Seconds()))
	case !ok && c.err != nil:
		return "failed (see notes)"
	case !ok:
		return "—"
	}
	s := fmtSec(m)
	if c.over > 0 {
		s += fmt.Sprintf(" (%d runs; then > %d s)", len(c.vals), int(c.over.Seconds()))
	} else if c.err != nil {
		s += fmt.Sprintf(" (%d runs; then failed)", len(c.vals))
	}
	return s
}

func fmtSec(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
