package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// requests counts the S3 requests one workload made, by kind.
type requests struct {
	List, Head, Get, Other int
	GetBytes               int64
}

func (r requests) String() string {
	s := fmt.Sprintf("%s LIST, %s HEAD, %s GET", thousands(r.List), thousands(r.Head), thousands(r.Get))
	if r.Other > 0 {
		s += fmt.Sprintf(", %s other", thousands(r.Other))
	}
	return s
}

// countingProxy is an HTTP reverse proxy in front of versitygw that counts
// requests. It is used only for one extra, untimed pass at 0 ms: the
// numbers explain the timings (a HEAD per entry, a LIST per directory).
type countingProxy struct {
	URL string
	srv *http.Server

	mu sync.Mutex
	n  requests
}

func startCounting(upstream string) (*countingProxy, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("counting proxy: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("counting proxy: %w", err)
	}
	p := &countingProxy{URL: "http://" + ln.Addr().String()}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the client signed this Host (SigV4)
		},
		ModifyResponse: func(resp *http.Response) error {
			p.count(resp)
			return nil
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}
	p.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 30 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// count classifies one request with path-style addressing: a GET of the
// bucket itself (or of /) is a listing, a GET of a key a read.
func (p *countingProxy) count(resp *http.Response) {
	req := resp.Request
	path := strings.Trim(req.URL.Path, "/")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case req.Method == http.MethodHead:
		p.n.Head++
	case req.Method == http.MethodGet && !strings.Contains(path, "/") && !req.URL.Query().Has("location"):
		p.n.List++
	case req.Method == http.MethodGet && strings.Contains(path, "/"):
		p.n.Get++
		resp.Body = &countingBody{ReadCloser: resp.Body, p: p}
	default:
		p.n.Other++
	}
}

type countingBody struct {
	io.ReadCloser
	p *countingProxy
}

func (b *countingBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	b.p.mu.Lock()
	b.p.n.GetBytes += int64(n)
	b.p.mu.Unlock()
	return n, err
}

// take returns the counts since the last take and starts again from zero.
func (p *countingProxy) take() requests {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.n
	p.n = requests{}
	return n
}

func (p *countingProxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return p.srv.Close()
	}
	return err
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// countRequests runs each workload once more per mount at 0 ms, through
// the counting proxy, untimed: the request counts explain the timings. A
// failure here is a note, not the end of the benchmark.
func (b *bench) countRequests(ctx context.Context) error {
	p, err := startCounting(b.srv.versity.URL)
	if err != nil {
		return err
	}
	defer p.Close()
	lat := latency{S3: b.srv.versity.S3Endpoint}
	lat.S3.URL = p.URL
	timeout := b.opts.timeout
	dest := filepath.Join(b.work, "rsync-dest")
	steps := []struct {
		m   metric
		run func(m *mounted) error
	}{
		{mRead, func(m *mounted) error { _, _, err := readBig(ctx, timeout, m.Dir); return err }},
		{mFind, func(m *mounted) error { _, err := findTree(ctx, timeout, m.Dir); return err }},
		{mRsync, func(m *mounted) error { _, err := rsyncCopy(ctx, timeout, m.Dir, dest, b.fx.smallDir); return err }},
		{mRsync2, func(m *mounted) error { _, err := rsyncAgain(ctx, timeout, m.Dir, dest); return err }},
	}
	for _, t := range b.tools {
		if t.mount == nil || t.Missing != nil {
			continue
		}
		b.progress("counting S3 requests at 0 ms: " + t.Name)
		// A fresh mount per workload, as in the timed runs; (c)'s second
		// rsync shares the first's mount.
		for _, group := range [][]int{{0}, {1}, {2, 3}} {
			err := b.withMount(ctx, t, lat, func(m *mounted) error {
				p.take() // what mounting itself asked is not the workload's
				for _, i := range group {
					if err := steps[i].run(m); err != nil {
						return fmt.Errorf("%s: %w", steps[i].m, err)
					}
					b.res.requests[cellKey{t.Name, 0, steps[i].m}] = p.take()
				}
				return nil
			})
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				b.res.note("request count for %s: %v", t.Name, err)
			}
		}
	}
	return nil
}
