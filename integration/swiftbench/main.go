package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/integration/testenv"
)

const (
	container = "bench"
	object    = "1GiB.bin"
	part      = 8 << 20 // ranged GETs of the parallel direct download
	inFlight  = 16
)

func main() {
	size := flag.Int64("size", 1<<30, "object size in bytes")
	runs := flag.Int("runs", 3, "runs; the three readers take turns in each")
	out := flag.String("out", "", "also write the markdown report here")
	rtt := flag.Duration("rtt", 0, "round-trip time added by toxiproxy in front of Swift (0: none)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := bench(ctx, *size, *runs, *rtt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "swiftbench:", err)
		os.Exit(1)
	}
	report = "command: `go run ./integration/swiftbench " + strings.Join(os.Args[1:], " ") + "`\n\n" + report
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "swiftbench:", err)
			os.Exit(1)
		}
	}
}

// timings are the wall times of one reader over all runs.
type timings map[string][]time.Duration

func bench(ctx context.Context, size int64, runs int, rtt time.Duration) (string, error) {
	dir, err := os.MkdirTemp("", "swiftbench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	sw, err := testenv.StartSwift(ctx, testenv.SwiftOptions{Dir: filepath.Join(dir, "swift")})
	if err != nil {
		return "", err
	}
	defer sw.Close()
	client, err := sw.SwiftClient(ctx)
	if err != nil {
		return "", err
	}
	if err := testenv.CreateContainer(ctx, client, container); err != nil {
		return "", err
	}
	start := time.Now()
	if err := testenv.PutSwiftStream(ctx, client, container, object, testenv.Content(container+"/"+object, size), size); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "uploaded %d bytes in %v\n", size, time.Since(start).Round(time.Millisecond))
	want, err := sha256Of(testenv.Content(container+"/"+object, size))
	if err != nil {
		return "", err
	}
	if rtt > 0 {
		// Readers go through toxiproxy; tempauth builds the storage URL
		// from the Host it was asked at, so that goes through it too.
		tp, err := testenv.StartToxiproxy(ctx, testenv.ToxiproxyOptions{Dir: dir})
		if err != nil {
			return "", err
		}
		defer tp.Close()
		if sw, client, err = slowed(ctx, tp, sw, rtt); err != nil {
			return "", err
		}
	}
	bin, err := testenv.BuildEarthmount(ctx, dir)
	if err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := testenv.WriteRemotes(cfg, testenv.CacheConfig{}, map[string]map[string]any{"eosc": sw.SwiftRemoteV1(container)}); err != nil {
		return "", err
	}

	t := timings{}
	for run := 1; run <= runs; run++ {
		d, err := directStream(ctx, client, size)
		if err != nil {
			return "", fmt.Errorf("direct stream: %w", err)
		}
		t["direct, one GET"] = append(t["direct, one GET"], d)
		if d, err = directParallel(ctx, client, size); err != nil {
			return "", fmt.Errorf("direct ranged: %w", err)
		}
		t["direct, 8 MiB ranges x16"] = append(t["direct, 8 MiB ranges x16"], d)
		check := ""
		if run == 1 {
			check = want
		}
		if d, err = mountCopy(ctx, bin, cfg, filepath.Join(dir, fmt.Sprintf("run%d", run)), check); err != nil {
			return "", fmt.Errorf("earthmount: %w", err)
		}
		t["earthmount cp"] = append(t["earthmount cp"], d)
		fmt.Fprintf(os.Stderr, "run %d: %v\n", run, t)
	}
	return table(t, size, rtt), nil
}

// slowed puts a toxiproxy proxy with rtt in front of the Swift proxy and
// returns a copy of sw whose AuthURL goes through it, and a client logged
// in there.
func slowed(ctx context.Context, tp *testenv.Toxiproxy, sw *testenv.Swift, rtt time.Duration) (*testenv.Swift, *gophercloud.ServiceClient, error) {
	p, err := tp.Proxy("swift", sw.URL)
	if err != nil {
		return nil, nil, err
	}
	if err := p.SetLatency(rtt); err != nil {
		return nil, nil, err
	}
	view := *sw
	view.AuthURL = p.URL + "/auth/v1.0"
	client, err := view.SwiftClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasPrefix(client.Endpoint, p.URL) {
		return nil, nil, fmt.Errorf("storage URL %s does not go through toxiproxy at %s", client.Endpoint, p.URL)
	}
	return &view, client, nil
}

// directStream reads the whole object with one GET.
func directStream(ctx context.Context, c *gophercloud.ServiceClient, size int64) (time.Duration, error) {
	c, done := freshClient(c)
	defer done()
	start := time.Now()
	res := objects.Download(ctx, c, container, object, nil)
	if res.Err != nil {
		return 0, res.Err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return time.Since(start), err
}

// directParallel reads the object in ranged GETs, several at once.
func directParallel(ctx context.Context, c *gophercloud.ServiceClient, size int64) (time.Duration, error) {
	c, done := freshClient(c)
	defer done()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inFlight)
	for off := int64(0); off < size; off += part {
		end := min(off+part, size) - 1
		g.Go(func() error {
			res := objects.Download(gctx, c, container, object, objects.DownloadOpts{Range: fmt.Sprintf("bytes=%d-%d", off, end)})
			if res.Err != nil {
				return res.Err
			}
			defer res.Body.Close()
			n, err := io.Copy(io.Discard, res.Body)
			if err == nil && n != end-off+1 {
				err = fmt.Errorf("range at %d: %d bytes, want %d", off, n, end-off+1)
			}
			return err
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

// freshClient copies c with its own connection pool, so that no run
// inherits warm connections.
func freshClient(c *gophercloud.ServiceClient) (*gophercloud.ServiceClient, func()) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 2 * inFlight,
		DisableCompression:  true,
	}
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: tr}, TokenID: c.TokenID}
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: c.Endpoint}, tr.CloseIdleConnections
}

// mountCopy mounts the remote afresh and times cp of the object to
// /dev/null; with want set it then checks the SHA-256 of a second read.
func mountCopy(ctx context.Context, bin, cfg, dir, want string) (time.Duration, error) {
	mnt := filepath.Join(dir, "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return 0, err
	}
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: bin, Config: cfg, Mountpoint: mnt, LogPath: filepath.Join(dir, "earthmount.log"),
	})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	path := filepath.Join(mnt, "eosc", container, object)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "cp", path, "/dev/null")
	cmd.Env = testenv.Env(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("cp: %w: %s\n%s", err, out, m.Log())
	}
	took := time.Since(start)
	if want != "" {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		got, err := sha256Of(f)
		f.Close()
		if err != nil || got != want {
			return 0, errors.Join(err, fmt.Errorf("sha256 through the mount %s, want %s", got, want))
		}
	}
	return took, nil
}

func sha256Of(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// table renders median MB/s (10^6 bytes per second) per reader and
// earthmount's ratio to each direct download.
func table(t timings, size int64, rtt time.Duration) string {
	mbps := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	em := mbps(median(t["earthmount cp"]))
	var b strings.Builder
	fmt.Fprintf(&b, "| reader (%d MiB object, Swift SAIO on 127.0.0.1, +%v RTT) | median MB/s | runs (s) | earthmount / this |\n|---|---|---|---|\n", size>>20, rtt)
	for _, name := range []string{"earthmount cp", "direct, one GET", "direct, 8 MiB ranges x16"} {
		var secs []string
		for _, d := range t[name] {
			secs = append(secs, fmt.Sprintf("%.2f", d.Seconds()))
		}
		r := mbps(median(t[name]))
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f |\n", name, r, strings.Join(secs, ", "), em/r)
	}
	return b.String()
}
