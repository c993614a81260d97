package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
)

// SwiftOptions configures StartSwift.
type SwiftOptions struct {
	// Dir holds configs, rings, the device and the logs; it must support
	// user.* xattrs.
	Dir string
}

// Swift is a running Swift all-in-one (Debian's swift 2.30 packages):
// memcached, account, container and object servers and a proxy with tempauth
// and s3api, all on 127.0.0.1. Its S3Endpoint is the s3api layer.
type Swift struct {
	S3Endpoint
	AuthURL string // tempauth v1.0: user "test:tester", key "testing"
	procs   []*Proc
}

// SwiftPrograms are the Debian programs a SAIO needs, with their packages.
func SwiftPrograms() map[string]string {
	return map[string]string{
		"swift-ring-builder":     "swift",
		"swift-proxy-server":     "swift-proxy",
		"swift-object-server":    "swift-object",
		"swift-container-server": "swift-container",
		"swift-account-server":   "swift-account",
		"memcached":              "memcached",
	}
}

// StartSwift builds rings for free ports, starts the servers and waits until
// an S3 ListBuckets through s3api succeeds (7-10 s on two cores). Errors
// wrap ErrMissing when a program is not installed.
func StartSwift(ctx context.Context, opts SwiftOptions) (sw *Swift, err error) {
	bins := map[string]string{}
	for prog, pkg := range SwiftPrograms() {
		if bins[prog], err = LookPath(prog, pkg); err != nil {
			return nil, err
		}
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("swift: %w", err)
	}
	etc, devices, logs := filepath.Join(opts.Dir, "etc"), filepath.Join(opts.Dir, "srv"), filepath.Join(opts.Dir, "log")
	for _, d := range []string{etc, filepath.Join(devices, "d1"), logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("swift: %w", err)
		}
	}
	ports, err := FreePorts(5)
	if err != nil {
		return nil, err
	}
	p := swiftPorts{Proxy: ports[0], Object: ports[1], Container: ports[2], Account: ports[3], Memcached: ports[4]}
	if err := writeSwiftConfigs(etc, devices, u.Username, p); err != nil {
		return nil, err
	}
	if err := buildRings(ctx, bins["swift-ring-builder"], etc, p); err != nil {
		return nil, err
	}

	proxy := "http://127.0.0.1:" + strconv.Itoa(p.Proxy)
	sw = &Swift{
		S3Endpoint: S3Endpoint{URL: proxy, Region: "us-east-1", AccessKey: "test:tester", SecretKey: "testing"},
		AuthURL:    proxy + "/auth/v1.0",
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, sw.Close())
		}
	}()
	mcArgs := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(p.Memcached), "-m", "64", "-U", "0"}
	if u.Uid == "0" {
		mcArgs = append(mcArgs, "-u", "root") // memcached refuses root without it
	}
	starts := []ProcOptions{{Name: "memcached", Path: bins["memcached"], Args: mcArgs}}
	for _, kind := range []string{"account", "container", "object", "proxy"} {
		starts = append(starts, ProcOptions{
			Name: "swift-" + kind, Path: bins["swift-"+kind+"-server"],
			// -v logs to stdout: there is no syslog here.
			Args: []string{filepath.Join(etc, kind+"-server.conf"), "-v"},
		})
	}
	for _, o := range starts {
		o.Env = Env(opts.Dir)
		o.LogPath = filepath.Join(logs, o.Name+".log")
		proc, err := StartProc(o)
		if err != nil {
			return nil, err
		}
		sw.procs = append(sw.procs, proc)
	}
	// The proxy answers (and ListBuckets works) before the container and
	// object servers listen; wait for every port, then for S3.
	if err := waitListening(ctx, ports, 60*time.Second, sw.alive); err != nil {
		return nil, fmt.Errorf("swift: %w", err)
	}
	if err := waitS3(ctx, sw.S3Endpoint, 60*time.Second, sw.alive); err != nil {
		return nil, fmt.Errorf("swift: %w", err)
	}
	return sw, nil
}

// buildRings runs swift-ring-builder for the three rings in parallel (each
// takes a second or more of Python start-up).
func buildRings(ctx context.Context, builder, etc string, p swiftPorts) error {
	var g errgroup.Group
	for kind, port := range map[string]int{"object": p.Object, "container": p.Container, "account": p.Account} {
		g.Go(func() error {
			for _, args := range swiftRingCmds(kind, port) {
				cmd := exec.CommandContext(ctx, builder, args...)
				cmd.Dir = etc
				cmd.Env = Env(etc)
				out, err := cmd.CombinedOutput()
				// rebalance exits 1 with a warning on some versions; the
				// ring file is what counts.
				if err != nil && args[1] != "rebalance" {
					return fmt.Errorf("swift-ring-builder %s: %w\n%s", quoteArgs(args), err, out)
				}
			}
			if _, err := os.Stat(filepath.Join(etc, kind+".ring.gz")); err != nil {
				return fmt.Errorf("swift: ring %s not built: %w", kind, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// waitListening polls until every port accepts TCP connections on
// 127.0.0.1, the timeout passes, or alive fails.
func waitListening(ctx context.Context, ports []int, timeout time.Duration, alive func() error) error {
	deadline := time.After(timeout)
	for _, port := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		for {
			if err := alive(); err != nil {
				return err
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-deadline:
				return fmt.Errorf("nothing listens on %s after %v: %w", addr, timeout, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// alive fails when one of the servers has exited, with its log.
func (sw *Swift) alive() error {
	for _, p := range sw.procs {
		if p.Exited() {
			return fmt.Errorf("%s exited; log %s:\n%s", p.name, p.LogPath(), p.Log(4096))
		}
	}
	return nil
}

// Logs returns the tails of all server logs.
func (sw *Swift) Logs() string {
	var s string
	for _, p := range sw.procs {
		s += fmt.Sprintf("--- %s (%s)\n%s\n", p.name, p.LogPath(), p.Log(2048))
	}
	return s
}

// Close stops every server, the proxy first.
func (sw *Swift) Close() error {
	var errs []error
	for i := len(sw.procs) - 1; i >= 0; i-- {
		errs = append(errs, sw.procs[i].Stop(5*time.Second))
	}
	return errors.Join(errs...)
}
