package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// traffic is what one workload asked of the server.
type traffic struct {
	Requests, Gets int64
	Bytes          int64 // GET response bodies
}

// counter is an HTTP reverse proxy in front of versitygw that counts
// requests and GET bytes, for one extra untimed pass at 0 ms: it shows
// how many round trips each tool pays and how much prediction fetches
// beyond what the workload reads. SigV4 still verifies: the proxy keeps
// the Host header the client signed.
type counter struct {
	URL                    string
	srv                    *http.Server
	requests, gets, nbytes atomic.Int64
}

func startCounter(upstream string) (*counter, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("counting proxy: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("counting proxy: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	c := &counter{URL: "http://" + l.Addr().String()}
	c.srv = &http.Server{ReadHeaderTimeout: 30 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.requests.Add(1)
			if r.Method != http.MethodGet || r.URL.Query().Has("list-type") || r.URL.Path == "/"+bucket {
				rp.ServeHTTP(w, r)
				return
			}
			c.gets.Add(1)
			rp.ServeHTTP(&countingWriter{ResponseWriter: w, n: &c.nbytes}, r)
		})}
	go c.srv.Serve(l)
	return c, nil
}

// take returns the counts since the last take and starts again.
func (c *counter) take() traffic {
	return traffic{Requests: c.requests.Swap(0), Gets: c.gets.Swap(0), Bytes: c.nbytes.Swap(0)}
}

func (c *counter) Close() error {
	if c == nil {
		return nil
	}
	return c.srv.Close()
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// countPass runs every workload once more, untimed, at 0 ms through the
// counting proxy, for every tool that talks to the server through Python.
func (b *bench) countPass(ctx context.Context) error {
	c, err := startCounter(b.versity.URL)
	if err != nil {
		return err
	}
	defer c.Close()
	ep := endpoint{RTT: -1, S3: b.versity.S3Endpoint} // -1: not a row of the time table
	ep.S3.URL = c.URL
	for _, w := range b.workloads() {
		for _, t := range b.tools() {
			if t.Name == "lower" || t.Name == "local" {
				continue
			}
			b.progress(fmt.Sprintf("counting requests: %s, %s", w, t.Name))
			c.take()
			_, err := b.one(ctx, t, ep, w)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				b.res.note("counting pass, %s, %s: %v", t.Name, w, err)
				continue
			}
			b.res.traffic[cellKey{t.Name, 0, w}] = c.take()
		}
	}
	return nil
}
