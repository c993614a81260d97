package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is one way a request fails.
type Fault int

// The faults. Status faults answer without asking the upstream; body
// faults forward the request and spoil the response body.
const (
	None        Fault = iota
	Status500         // 500 InternalError
	SlowDown503       // 503 SlowDown with Retry-After: 0
	TooMany429        // 429 Too Many Requests
	Unauth401         // 401 Unauthorized
	CutBody           // half the body, then the connection is closed
	StallBody         // half the body, then nothing until Stall has passed, then closed
	ShortLength       // Content-Length and body cut to half: a well-framed short answer
	LongLength        // Content-Length larger than the body: all of it, then the connection is closed
	numFaults
)

var faultNames = [...]string{"none", "500", "503-slowdown", "429", "401", "cut-body", "stall-body", "short-length", "long-length"}

func (f Fault) String() string {
	if f < 0 || f >= numFaults {
		return "fault(" + strconv.Itoa(int(f)) + ")"
	}
	return faultNames[f]
}

// Retryable are the faults a client must heal by retrying (not 401,
// which needs a new login).
func Retryable() []Fault {
	return []Fault{Status500, SlowDown503, TooMany429, CutBody, StallBody, ShortLength, LongLength}
}

// Options configure a Proxy.
type Options struct {
	// Upstream is the server's base URL, e.g. http://127.0.0.1:7070.
	Upstream string
	// Rate is the share of eligible requests that fail, 0..1.
	Rate float64
	// Faults are drawn uniformly for a failing request; empty means
	// Retryable(). Body faults apply only to GETs (and POSTs with
	// BodyPOST) whose answer has a body of at least 2 bytes; a status
	// fault is used otherwise.
	Faults []Fault
	// BodyPOST lets body faults spoil POST answers too (SPARQL queries,
	// logins), which are reads there.
	BodyPOST bool
	// Delay holds every request this long before it is answered (a slow
	// link), so that tests can stretch over token lifetimes.
	Delay time.Duration
	// Stall is how long a StallBody response hangs before it is cut;
	// 0 means 30s. The client's stall timeout should end it first.
	Stall time.Duration
	// Eligible selects the requests that may fail; nil means all.
	Eligible func(*http.Request) bool
	// Seed makes the fault sequence repeatable for one request order.
	Seed uint64
	// Script gives the first eligible requests these faults, in order
	// (None lets one through), so that each fault surely happens; Rate
	// applies after it.
	Script []Fault
}

// Stats counts what the proxy did.
type Stats struct {
	Requests int64
	Faults   map[Fault]int64
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL string // http://127.0.0.1:PORT

	opts     Options
	srv      *http.Server
	ln       net.Listener
	upstream *http.Transport
	stop     context.CancelFunc
	ctx      context.Context
	requests atomic.Int64
	rate     atomic.Uint64 // math.Float64bits

	mu     sync.Mutex
	rng    *rand.Rand      // guarded by mu
	faults map[Fault]int64 // guarded by mu
	script []Fault         // guarded by mu; what is left of opts.Script
}

// Start listens on a free 127.0.0.1 port and serves until Close.
func Start(opts Options) (*Proxy, error) {
	if opts.Upstream == "" {
		return nil, errors.New("faultproxy: Upstream is required")
	}
	if len(opts.Faults) == 0 {
		opts.Faults = Retryable()
	}
	if opts.Stall == 0 {
		opts.Stall = 30 * time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &Proxy{
		URL:      "http://" + ln.Addr().String(),
		opts:     opts,
		ln:       ln,
		upstream: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		ctx:      ctx,
		stop:     stop,
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		faults:   map[Fault]int64{},
		script:   opts.Script,
	}
	p.SetRate(opts.Rate)
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ErrorLog: nil}
	go p.srv.Serve(ln)
	return p, nil
}

// SetRate changes the share of failing requests.
func (p *Proxy) SetRate(r float64) { p.rate.Store(uint64(r * 1e9)) }

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Requests: p.requests.Load(), Faults: map[Fault]int64{}}
	for f, n := range p.faults {
		s.Faults[f] = n
	}
	return s
}

// Faulted returns how many requests failed in all.
func (s Stats) Faulted() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// Close stops the proxy; stalled responses end at once.
func (p *Proxy) Close() error {
	p.stop()
	err := p.srv.Close()
	p.upstream.CloseIdleConnections()
	return err
}

// pick decides the fault of one request.
func (p *Proxy) pick(r *http.Request) Fault {
	if p.opts.Eligible != nil && !p.opts.Eligible(r) {
		return None
	}
	rate := float64(p.rate.Load()) / 1e9
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.script) > 0 {
		f := p.script[0]
		p.script = p.script[1:]
		return f
	}
	if p.rng.Float64() >= rate {
		return None
	}
	return p.opts.Faults[p.rng.IntN(len(p.opts.Faults))]
}

func (p *Proxy) count(f Fault) {
	p.mu.Lock()
	p.faults[f]++
	p.mu.Unlock()
}
