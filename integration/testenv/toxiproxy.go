package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// ToxiproxyOptions configures StartToxiproxy.
type ToxiproxyOptions struct {
	Dir    string // holds the log
	Binary string // "" means ToxiproxyTool().Ensure
}

// Toxiproxy is a running toxiproxy server. It adds latency to TCP
// connections at the request level (each direction's data is delayed), which
// models round trips, not a thin pipe: there is no netem on the test
// machines.
type Toxiproxy struct {
	client *toxiproxy.Client
	proc   *Proc
}

// StartToxiproxy starts toxiproxy-server on a free 127.0.0.1 port.
func StartToxiproxy(ctx context.Context, opts ToxiproxyOptions) (*Toxiproxy, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = ToxiproxyTool().Ensure(ctx); err != nil {
			return nil, err
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	proc, err := StartProc(ProcOptions{
		Name: "toxiproxy", Path: bin,
		Args:    []string{"-host", "127.0.0.1", "-port", strconv.Itoa(port)},
		Env:     Env(opts.Dir),
		LogPath: filepath.Join(opts.Dir, "toxiproxy.log"),
	})
	if err != nil {
		return nil, err
	}
	tp := &Toxiproxy{client: toxiproxy.NewClient("127.0.0.1:" + strconv.Itoa(port)), proc: proc}
	deadline := time.After(20 * time.Second)
	for {
		if proc.Exited() {
			return nil, fmt.Errorf("toxiproxy exited:\n%s", proc.Log(4096))
		}
		_, err := tp.client.Proxies()
		if err == nil {
			return tp, nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), tp.Close())
		case <-deadline:
			return nil, errors.Join(fmt.Errorf("toxiproxy not ready: %w", err), tp.Close())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the server and with it every proxy.
func (tp *Toxiproxy) Close() error { return tp.proc.Stop(5 * time.Second) }

// Proxy forwards a free 127.0.0.1 port to an upstream address.
type Proxy struct {
	p *toxiproxy.Proxy
	// URL is the upstream URL with the proxy's host:port (for http URLs).
	URL string
}

// Proxy creates a proxy named name in front of upstream, an http URL or
// host:port, listening on a free 127.0.0.1 port.
func (tp *Toxiproxy) Proxy(name, upstream string) (*Proxy, error) {
	scheme, hostport, ok := strings.Cut(upstream, "://")
	if !ok {
		scheme, hostport = "", upstream
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return nil, fmt.Errorf("toxiproxy %s: upstream %q: %w", name, upstream, err)
	}
	p, err := tp.client.CreateProxy(name, "127.0.0.1:0", hostport)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy %s: %w", name, err)
	}
	url := p.Listen
	if scheme != "" {
		url = scheme + "://" + p.Listen
	}
	return &Proxy{p: p, URL: url}, nil
}

// SetLatency makes every round trip through the proxy take about rtt
// longer: half of it on requests (upstream), half on responses
// (downstream). Zero removes the delay.
func (p *Proxy) SetLatency(rtt time.Duration) error {
	half := rtt.Milliseconds() / 2
	for _, stream := range []string{"upstream", "downstream"} {
		name := "latency_" + stream
		p.p.RemoveToxic(name) // absent the first time: nothing to remove
		if half == 0 {
			continue
		}
		_, err := p.p.AddToxic(name, "latency", stream, 1, toxiproxy.Attributes{"latency": half})
		if err != nil {
			return fmt.Errorf("toxiproxy %s: latency %v: %w", p.p.Name, rtt, err)
		}
	}
	return nil
}

// SetBandwidth caps each connection's response data at kbps kilobytes per
// second (so that reads take a while); 0 removes the cap.
func (p *Proxy) SetBandwidth(kbps int64) error {
	const name = "bandwidth_downstream"
	p.p.RemoveToxic(name) // absent the first time: nothing to remove
	if kbps == 0 {
		return nil
	}
	_, err := p.p.AddToxic(name, "bandwidth", "downstream", 1, toxiproxy.Attributes{"rate": kbps})
	if err != nil {
		return fmt.Errorf("toxiproxy %s: bandwidth %d KB/s: %w", p.p.Name, kbps, err)
	}
	return nil
}

// Disable makes the proxy refuse connections (and cut open ones) until
// Enable.
func (p *Proxy) Disable() error { return p.p.Disable() }

// Enable undoes Disable.
func (p *Proxy) Enable() error { return p.p.Enable() }

// AddToxic adds a toxic of any type (latency, bandwidth, reset_peer,
// timeout, slicer, limit_data, ...) on the downstream (responses) or
// upstream stream; toxicity is the share of connections it applies to.
func (p *Proxy) AddToxic(name, typ, stream string, toxicity float32, attrs map[string]any) error {
	if _, err := p.p.AddToxic(name, typ, stream, toxicity, toxiproxy.Attributes(attrs)); err != nil {
		return fmt.Errorf("toxiproxy %s: toxic %s (%s): %w", p.p.Name, name, typ, err)
	}
	return nil
}

// RemoveToxic removes a toxic added with AddToxic.
func (p *Proxy) RemoveToxic(name string) error { return p.p.RemoveToxic(name) }
