package faultproxy

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	if p.opts.Delay > 0 {
		t := time.NewTimer(p.opts.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-p.ctx.Done():
		}
		t.Stop()
	}
	f := p.pick(r)
	if isStatus(f) {
		p.count(f)
		p.fail(w, r, f)
		return
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	bodyOK := r.Method == http.MethodGet || (p.opts.BodyPOST && r.Method == http.MethodPost)
	if f != None && (!bodyOK || resp.ContentLength < 2) {
		// A body fault needs a body: fail with a status instead.
		f = Status500
		p.count(f)
		p.fail(w, r, f)
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	if f == None {
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	p.count(f)
	half := resp.ContentLength / 2
	if f == ShortLength {
		// Well framed, keeps the connection: only a client that checks
		// the length against its range notices.
		w.Header().Set("Content-Length", strconv.FormatInt(half, 10))
		w.WriteHeader(resp.StatusCode)
		io.CopyN(w, resp.Body, half)
		return
	}
	if f == LongLength {
		// The header promises more than the upstream sent: the client
		// gets every real byte, then the connection ends early.
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength+half+1, 10))
		half = resp.ContentLength
	}
	w.WriteHeader(resp.StatusCode)
	io.CopyN(w, resp.Body, half)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	if f == StallBody {
		t := time.NewTimer(p.opts.Stall)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-p.ctx.Done():
		}
	}
	// Abort: the server closes the connection without ending the body.
	panic(http.ErrAbortHandler)
}

func isStatus(f Fault) bool {
	return f == Status500 || f == SlowDown503 || f == TooMany429 || f == Unauth401
}

// forward sends r to the upstream with the same method, path, query,
// headers and Host (signatures cover the Host header).
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.opts.Upstream+r.URL.RequestURI(), r.Body)
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	out.ContentLength = r.ContentLength
	if r.ContentLength == 0 {
		out.Body = nil
	}
	return p.upstream.RoundTrip(out)
}

// fail answers with the status of f and an S3-style XML error body
// (Swift clients read only the status).
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, f Fault) {
	status, code := http.StatusInternalServerError, "InternalError"
	switch f {
	case SlowDown503:
		status, code = http.StatusServiceUnavailable, "SlowDown"
		w.Header().Set("Retry-After", "0")
	case TooMany429:
		status, code = http.StatusTooManyRequests, "TooManyRequests"
	case Unauth401:
		status, code = http.StatusUnauthorized, "Unauthorized"
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>injected by faultproxy</Message><RequestId>faultproxy</RequestId></Error>", code)
	}
}
