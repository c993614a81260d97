package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"
)

func upstream(t *testing.T, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "" {
			t.Errorf("no Host header forwarded")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFaults(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 1000)
	up := upstream(t, body)
	for _, c := range []struct {
		fault   Fault
		status  int
		n       int  // bytes read
		readErr bool // the body read fails
	}{
		{None, 200, len(body), false},
		{Status500, 500, -1, false},
		{SlowDown503, 503, -1, false},
		{TooMany429, 429, -1, false},
		{Unauth401, 401, -1, false},
		{CutBody, 200, len(body) / 2, true},
		{StallBody, 200, len(body) / 2, true},
		{ShortLength, 200, len(body) / 2, false},
		{LongLength, 200, len(body), true},
	} {
		t.Run(c.fault.String(), func(t *testing.T) {
			rate := 1.0
			if c.fault == None {
				rate = 0
			}
			p, err := Start(Options{Upstream: up.URL, Rate: rate, Faults: []Fault{c.fault}, Stall: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			resp, err := http.Get(p.URL + "/b/k")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.n >= 0 && len(got) != c.n {
				t.Errorf("read %d bytes, want %d", len(got), c.n)
			}
			if (err != nil) != c.readErr || (err != nil && !errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Errorf("read error %v, want one: %v", err, c.readErr)
			}
			st := p.Stats()
			if st.Requests != 1 || (c.fault != None && st.Faults[c.fault] != 1) || (c.fault == None && st.Faulted() != 0) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestRate(t *testing.T) {
	up := upstream(t, []byte("hello"))
	p, err := Start(Options{Upstream: up.URL, Rate: 0.1, Faults: []Fault{Status500}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 1000 {
		resp, err := http.Get(p.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := p.Stats().Faulted(); n < 60 || n > 140 {
		t.Errorf("%d of 1000 requests failed at rate 0.1", n)
	}
	p.SetRate(0)
	before := p.Stats().Faulted()
	resp, _ := http.Get(p.URL + "/x")
	resp.Body.Close()
	if p.Stats().Faulted() != before {
		t.Errorf("a request failed at rate 0")
	}
}

func TestScript(t *testing.T) {
	up := upstream(t, []byte("hello"))
	p, err := Start(Options{Upstream: up.URL, Script: []Fault{Status500, None, TooMany429}})
	need := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	need(err)
	defer p.Close()
	var got []int
	for range 5 {
		resp, err := http.Get(p.URL + "/x")
		need(err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if want := []int{500, 200, 429, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}
