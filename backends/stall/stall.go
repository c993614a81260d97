// Package stall guards response bodies against connections that hang half
// way through: a Reader cancels the request when its body sends nothing
// for a while, so that the store can retry or resume instead of holding a
// read until the caller gives up. Every HTTP store uses it.
package stall

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Reader wraps a response body. When the body sends nothing for the stall
// timeout, Reader calls cancel (which should cancel the request's
// context), and the read error then names the stall.
type Reader struct {
	r       io.Reader
	d       time.Duration
	timer   *time.Timer
	stalled atomic.Bool
}

// NewReader starts the stall timer; call Stop when done with the body.
func NewReader(r io.Reader, d time.Duration, cancel func()) *Reader {
	s := &Reader{r: r, d: d}
	s.timer = time.AfterFunc(d, func() {
		s.stalled.Store(true)
		cancel()
	})
	return s
}

// Read reads from the body and restarts the timer whenever data arrives.
func (s *Reader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && !s.stalled.Load() {
		s.timer.Reset(s.d)
	}
	if err != nil && err != io.EOF && s.stalled.Load() {
		err = fmt.Errorf("no data for %v: %w", s.d, err)
	}
	return n, err
}

// Stop stops the timer.
func (s *Reader) Stop() { s.timer.Stop() }
