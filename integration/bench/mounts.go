package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// cacheMemory is earthmount's budget in every run: (d) asks for the RSS
// under this budget during (a), so (a) runs with it too.
const cacheMemory = "256MiB"

// A tool is one column of the comparison: the direct download or a FUSE
// filesystem that bench mounts afresh for every run.
type tool struct {
	Name    string // earthmount, direct, rclone, s3fs
	Label   string // for the table, with the version
	Missing error  // not installed here: its cells say so
	// mount mounts the bucket on dir; nil for the direct download.
	mount func(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error)
}

// mounted is one live mount and the process serving it.
type mounted struct {
	Dir   string
	PID   int
	close func() error
}

// Close unmounts and stops the process; safe to call twice.
func (m *mounted) Close() error {
	if m == nil || m.close == nil {
		return nil
	}
	c := m.close
	m.close = nil
	return c()
}

// tools returns the tools in table order: the reference first.
func tools(ctx context.Context) []tool {
	ts := []tool{
		{Name: "direct", Label: fmt.Sprintf("direct SDK (%d × %d MiB ranged GETs)", directConcurrency, directPart>>20)},
		{Name: "earthmount", Label: "earthmount (--cache-memory " + cacheMemory + ")", mount: mountEarthmount},
		{Name: "rclone", Label: "rclone mount", mount: mountRclone},
		{Name: "s3fs", Label: "s3fs", mount: mountS3fs},
	}
	for i := range ts {
		switch ts[i].Name {
		case "rclone":
			ts[i].Label, ts[i].Missing = version(ctx, "rclone", "rclone", "version")
		case "s3fs":
			ts[i].Label, ts[i].Missing = version(ctx, "s3fs", "s3fs", "--version")
		}
	}
	return ts
}

// version finds prog and labels it with the first line of its version
// output, shortened to "NAME VERSION".
func version(ctx context.Context, prog, pkg, flag string) (string, error) {
	path, err := testenv.LookPath(prog, pkg)
	if err != nil {
		return prog, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, flag).CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	for _, f := range strings.Fields(first) {
		if f != "" && (f[0] == 'v' || f[0] == 'V') && len(f) > 1 && f[1] >= '0' && f[1] <= '9' {
			return prog + " " + strings.TrimLeft(f, "vV"), nil
		}
	}
	return prog, nil
}

// mountEarthmount runs the binary under test through testenv, which waits
// for its ready line; its own SIGTERM handling unmounts it on Close.
func mountEarthmount(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error) {
	cfg := filepath.Join(b.work, fmt.Sprintf("earthmount-%dms.yaml", lat.RTT.Milliseconds()))
	conf := testenv.Config{
		Cache:   testenv.CacheConfig{ChunkSize: b.opts.chunkSize},
		Remotes: map[string]testenv.RemoteConfig{"bench": lat.S3.Remote(bucket)},
	}
	if err := conf.Write(cfg); err != nil {
		return nil, err
	}
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: b.earthmount, Config: cfg, Target: "bench:" + bucket, Mountpoint: dir,
		Args: []string{"--cache-memory", cacheMemory}, Home: b.home, LogPath: log,
	})
	if err != nil {
		return nil, err
	}
	return &mounted{Dir: dir, PID: m.PID(), close: m.Close}, nil
}

// mountRclone and mountS3fs run Debian's anchors through testenv.
func mountRclone(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error) {
	return anchor(testenv.MountRclone(ctx, testenv.AnchorOptions{S3: lat.S3, Bucket: bucket, Dir: dir, Work: b.work, Home: b.home, LogPath: log}))
}

func mountS3fs(ctx context.Context, b *bench, lat latency, dir, log string) (*mounted, error) {
	return anchor(testenv.MountS3fs(ctx, testenv.AnchorOptions{S3: lat.S3, Bucket: bucket, Dir: dir, Work: b.work, Home: b.home, LogPath: log}))
}

func anchor(m *testenv.AnchorMount, err error) (*mounted, error) {
	if err != nil {
		return nil, err
	}
	return &mounted{Dir: m.Dir, PID: m.PID, close: m.Close}, nil
}
