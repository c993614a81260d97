package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/earthmount/earthmount/integration/testenv"
)

// cacheMemory is earthmount's budget in every run.
const cacheMemory = "512MiB"

// A tool is one column: a FUSE filesystem mounted afresh for every run,
// fsspec over HTTP (no mount), the lower bound (no Python), or Python on
// the local copy (the compute floor).
type tool struct {
	Name  string
	Label string
	mount func(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error)
}

// allTools in table order: earthmount, then the anchors, then the bound.
func allTools() []tool {
	return []tool{
		{Name: "earthmount", Label: "earthmount", mount: mountEarthmount},
		{Name: "rclone-off", Label: "rclone off", mount: mountRclone("off")},
		{Name: "rclone-full", Label: "rclone full", mount: mountRclone("full")},
		{Name: "s3fs", Label: "s3fs", mount: mountS3fs},
		{Name: "fsspec", Label: "fsspec HTTP"},
		{Name: "lower", Label: "lower bound"},
		{Name: "local", Label: "local disk"},
	}
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

func mountEarthmount(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error) {
	cfg := filepath.Join(b.work, fmt.Sprintf("earthmount-%dms.yaml", ep.RTT.Milliseconds()))
	conf := testenv.Config{Remotes: map[string]testenv.RemoteConfig{"bench": ep.S3.Remote(bucket)}}
	if err := conf.Write(cfg); err != nil {
		return nil, err
	}
	args := []string{"--cache-memory", cacheMemory, "--metrics-addr", "127.0.0.1:0"}
	if b.opts.debug {
		args = append(args, "--log-level", "debug")
	}
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: b.earthmount, Config: cfg, Target: "bench:" + bucket, Mountpoint: dir,
		Args: args, Home: filepath.Join(b.work, "home"), LogPath: log,
	})
	if err != nil {
		return nil, err
	}
	return &mounted{Dir: dir, PID: m.PID(), close: m.Close}, nil
}

// mountRclone returns a mounter for Debian's rclone with the given
// --vfs-cache-mode; "full" gets a fresh cache directory per mount so that
// no run inherits the previous one's files.
func mountRclone(mode string) func(context.Context, *bench, endpoint, string, string) (*mounted, error) {
	return func(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error) {
		return anchor(testenv.MountRclone(ctx, testenv.AnchorOptions{
			S3: ep.S3, Bucket: bucket, Dir: dir, Work: b.work, Home: filepath.Join(b.work, "home"), LogPath: log,
			RcloneCacheMode: mode,
		}))
	}
}

// mountS3fs runs Debian's s3fs in the foreground; no use_cache, its default.
func mountS3fs(ctx context.Context, b *bench, ep endpoint, dir, log string) (*mounted, error) {
	return anchor(testenv.MountS3fs(ctx, testenv.AnchorOptions{
		S3: ep.S3, Bucket: bucket, Dir: dir, Work: b.work, Home: filepath.Join(b.work, "home"), LogPath: log,
	}))
}

func anchor(m *testenv.AnchorMount, err error) (*mounted, error) {
	if err != nil {
		return nil, err
	}
	return &mounted{Dir: m.Dir, PID: m.PID, close: m.Close}, nil
}
