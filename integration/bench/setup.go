package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// A latency is one column group of the table: the endpoint every tool uses
// for it, and the round-trip time added on the way.
type latency struct {
	RTT time.Duration
	S3  testenv.S3Endpoint
}

func (l latency) String() string { return fmt.Sprintf("%d ms", l.RTT.Milliseconds()) }

// servers is the S3 side of the benchmark: versitygw and, for the rows
// with added latency, a toxiproxy in front of it.
type servers struct {
	versity   *testenv.Versity
	toxi      *testenv.Toxiproxy
	latencies []latency
}

// startServers starts versitygw in dir and one toxiproxy listener for each
// non-zero round-trip time. 0 ms goes straight to versitygw: toxiproxy
// copies every byte through one more process, which is not what "no added
// latency" means on a 2-core machine. Callers Close the result even when
// an error is returned.
func startServers(ctx context.Context, dir string, rtts []time.Duration) (*servers, error) {
	s := &servers{}
	v, err := testenv.StartVersity(ctx, testenv.VersityOptions{Dir: dir})
	if err != nil {
		return s, err
	}
	s.versity = v
	for _, rtt := range rtts {
		ep := v.S3Endpoint
		if rtt > 0 {
			if s.toxi == nil {
				if s.toxi, err = testenv.StartToxiproxy(ctx, testenv.ToxiproxyOptions{Dir: dir}); err != nil {
					return s, err
				}
			}
			// The latency toxic delays data, not bandwidth or the TCP
			// connect: it models request round trips.
			p, err := s.toxi.Proxy(fmt.Sprintf("versitygw_%dms", rtt.Milliseconds()), v.URL)
			if err != nil {
				return s, err
			}
			if err := p.SetLatency(rtt); err != nil {
				return s, err
			}
			ep.URL = p.URL
		}
		s.latencies = append(s.latencies, latency{RTT: rtt, S3: ep})
	}
	return s, nil
}

// Close stops toxiproxy and versitygw.
func (s *servers) Close() error {
	var errs []error
	if s.toxi != nil {
		errs = append(errs, s.toxi.Close())
	}
	if s.versity != nil {
		errs = append(errs, s.versity.Close())
	}
	return errors.Join(errs...)
}
