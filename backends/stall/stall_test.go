package stall

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// hangingBody returns data once, then blocks until cancelled.
type hangingBody struct {
	sent     bool
	canceled chan struct{}
}

func (h *hangingBody) Read(p []byte) (int, error) {
	if !h.sent {
		h.sent = true
		return copy(p, "data"), nil
	}
	<-h.canceled
	return 0, errors.New("request canceled")
}

func TestStallCancelsAndNamesIt(t *testing.T) {
	body := &hangingBody{canceled: make(chan struct{})}
	r := NewReader(body, 50*time.Millisecond, func() { close(body.canceled) })
	defer r.Stop()
	got, err := io.ReadAll(r)
	if string(got) != "data" || err == nil || !strings.Contains(err.Error(), "no data for 50ms") {
		t.Errorf("ReadAll = %q, %v; want the data, then an error naming the stall", got, err)
	}
}

func TestSteadyBodyIsNotCancelled(t *testing.T) {
	r := NewReader(strings.NewReader("all of it"), time.Second, func() { t.Error("cancelled a healthy body") })
	got, err := io.ReadAll(r)
	r.Stop()
	if string(got) != "all of it" || err != nil {
		t.Errorf("ReadAll = %q, %v", got, err)
	}
}
