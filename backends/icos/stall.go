package icos

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// stallReader cancels a response when its body sends nothing for the
// stall timeout: a connection that hangs half way through a body would
// otherwise hold the read until the caller's own timeout. The read error
// then names the stall.
type stallReader struct {
	r       io.Reader
	d       time.Duration
	timer   *time.Timer
	stalled atomic.Bool
}

func newStallReader(r io.Reader, d time.Duration, cancel func()) *stallReader {
	s := &stallReader{r: r, d: d}
	s.timer = time.AfterFunc(d, func() {
		s.stalled.Store(true)
		cancel()
	})
	return s
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && !s.stalled.Load() {
		s.timer.Reset(s.d)
	}
	if err != nil && err != io.EOF && s.stalled.Load() {
		err = fmt.Errorf("no data for %v: %w", s.d, err)
	}
	return n, err
}

func (s *stallReader) stop() { s.timer.Stop() }
