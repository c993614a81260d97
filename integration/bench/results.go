package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// A metric is one workload's number: MB/s for reads, seconds for the
// others, MiB for the RSS.
type metric string

const (
	mRead   metric = "(a) read"
	mFind   metric = "(b) find"
	mRsync  metric = "(c) rsync"
	mRsync2 metric = "(c) 2nd rsync"
	mRSS    metric = "(d) peak RSS"

	// Where the CPU went during (a).
	mBusy      metric = "(a) machine CPU busy %"
	mDaemonCPU metric = "(a) daemon CPU s"
	mClientCPU metric = "(a) client CPU s"
	mOtherCPU  metric = "(a) other CPU s"
)

type cellKey struct {
	tool string
	rtt  time.Duration
	m    metric
}

// A cell holds every run of one tool × latency × metric.
type cell struct {
	vals    []float64
	over    time.Duration // a run hit this bound
	err     error         // a run failed
	skipped string        // not measured on purpose (-quick, not installed)
}

// done reports that later runs are pointless: one already failed or hit
// the bound (a median of "> N s" runs is "> N s").
func (c *cell) done() bool { return c.over > 0 || c.err != nil || c.skipped != "" }

// results collects cells and notes as the runs go.
type results struct {
	cells    map[cellKey]*cell
	notes    []string
	requests map[cellKey]requests // the counting pass, at 0 ms
}

func newResults() *results {
	return &results{cells: make(map[cellKey]*cell), requests: make(map[cellKey]requests)}
}

func (r *results) cell(tool string, rtt time.Duration, m metric) *cell {
	k := cellKey{tool, rtt, m}
	c := r.cells[k]
	if c == nil {
		c = &cell{}
		r.cells[k] = c
	}
	return c
}

// add records one run's value, or its failure.
func (r *results) add(tool string, rtt time.Duration, m metric, v float64, err error, bound time.Duration) {
	c := r.cell(tool, rtt, m)
	switch {
	case errors.Is(err, errTimeout):
		c.over = bound
	case err != nil:
		if c.err == nil {
			c.err = err
			r.note("%s at %d ms, %s: %v", tool, rtt.Milliseconds(), m, err)
		}
	default:
		c.vals = append(c.vals, v)
	}
}

func (r *results) skip(tool string, rtt time.Duration, m metric, why string) {
	r.cell(tool, rtt, m).skipped = why
}

func (r *results) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(r.notes, n) {
		r.notes = append(r.notes, n)
	}
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// text renders a cell: the median of the runs that finished, marked when
// some did not; the bound when one ran past it; why it is missing.
func (c *cell) text(format func(float64) string, unit string) string {
	switch {
	case c == nil:
		return "—"
	case c.skipped != "":
		return c.skipped
	case len(c.vals) == 0 && c.over > 0:
		return fmt.Sprintf("> %d s", int(c.over.Seconds()))
	case len(c.vals) == 0 && c.err != nil:
		return "failed (see notes)"
	case len(c.vals) == 0:
		return "—"
	}
	s := format(median(c.vals)) + unit
	if c.over > 0 || c.err != nil {
		s += fmt.Sprintf(" (%d run%s; then %s)", len(c.vals), testenv.Plural(len(c.vals)), c.failure())
	}
	return s
}

func (c *cell) failure() string {
	if c.over > 0 {
		return fmt.Sprintf("> %d s", int(c.over.Seconds()))
	}
	return "failed"
}

// raw lists every run's value, for the notes under the table.
func (c *cell) raw(format func(float64) string) string {
	parts := make([]string, len(c.vals))
	for i, v := range c.vals {
		parts[i] = format(v)
	}
	return strings.Join(parts, ", ")
}

func fmtMBps(v float64) string { return fmt.Sprintf("%.0f", v) }
func fmtMiB(v float64) string  { return fmt.Sprintf("%.0f", v) }
func fmtRatio(v float64) string {
	return fmt.Sprintf("%.2f×", v)
}

func fmtCPU(v float64) string { return fmt.Sprintf("%.1f", v) }

func fmtSec(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
