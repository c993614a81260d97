// Command demo is earthmount's one-command local demo: it needs no network.
// It starts versitygw (S3) on 127.0.0.1 with sample data (a small Zarr
// store, a NetCDF file and a directory tree), builds earthmount, mounts the
// bucket on the directory you name, prints what to try, and on Ctrl-C
// unmounts and stops everything.
//
//	go run ./integration/demo ~/earth-demo
//
// It needs FUSE (fuse3) and versitygw in the tools directory
// (${EARTHMOUNT_TOOLS_DIR:-$HOME/.cache/earthmount-tools}/bin; it is built
// there once with `go install` if missing, which does need the Go module
// proxy). The Zarr and NetCDF samples need Debian's python3-xarray,
// python3-zarr and python3-netcdf4; without them the demo has only the tree.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

const (
	remote = "demo"
	bucket = "earth-samples"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./integration/demo MOUNTPOINT\n\n"+
			"Starts a local S3 server with sample data and mounts it with earthmount on MOUNTPOINT\n"+
			"(created if missing) until you press Ctrl-C.\n")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, flag.Arg(0), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, mountpoint string, out io.Writer) (err error) {
	if err := testenv.CheckFUSE(); err != nil {
		return err
	}
	mountpoint, err = filepath.Abs(mountpoint)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(mountpoint, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "earthmount-demo-")
	if err != nil {
		return err
	}
	// Cleanups run in reverse order; the work directory goes last.
	var cleanups []func() error
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			err = errors.Join(err, cleanups[i]())
		}
		err = errors.Join(err, os.RemoveAll(work))
	}()

	step(out, "building earthmount")
	bin, err := testenv.BuildEarthmount(ctx, work)
	if err != nil {
		return err
	}
	step(out, "starting versitygw on 127.0.0.1 (the first run builds it: a few minutes)")
	v, err := testenv.StartVersity(ctx, testenv.VersityOptions{Dir: work})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, v.Close)
	step(out, "writing sample data into bucket "+bucket)
	sci, err := writeSamples(ctx, v, work)
	if err != nil {
		return err
	}
	if sci != nil {
		fmt.Fprintf(out, "    (no Zarr or NetCDF samples: %v)\n", sci)
	}

	cfg := filepath.Join(work, "config.yaml")
	conf := testenv.Config{Remotes: map[string]testenv.RemoteConfig{remote: v.Remote(bucket)}}
	if err := conf.Write(cfg); err != nil {
		return err
	}
	step(out, "mounting")
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: bin, Config: cfg, Mountpoint: mountpoint,
		LogPath: filepath.Join(work, "earthmount.log"), Home: filepath.Join(work, "home"),
	})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, m.Close)
	printTry(out, bin, cfg, mountpoint, m.LogPath())

	// Until Ctrl-C, or until someone unmounts with fusermount3 -u.
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "\nstopping: unmounting and shutting the server down")
	case <-m.Done():
		fmt.Fprintln(out, "\nearthmount exited (unmounted); shutting the server down")
	}
	return nil
}

func step(out io.Writer, what string) {
	fmt.Fprintf(out, "%s  %s\n", time.Now().Format("15:04:05"), what)
}

func printTry(out io.Writer, bin, cfg, mnt, log string) {
	root := filepath.Join(mnt, remote, bucket)
	fmt.Fprintf(out, `
earthmount is serving bucket %[2]s of a local S3 server on %[1]s.
Try, in another terminal:

  ls %[1]s/%[3]s
  find %[6]s | head
  cat %[6]s/README.txt
  du -sh %[6]s/stations
  rsync -a %[6]s/stations/ /tmp/stations-copy/
  /usr/bin/python3 -c 'import xarray as xr; print(xr.open_zarr("%[6]s/climate/sample.zarr"))'
  /usr/bin/python3 -c 'import xarray as xr; print(xr.open_dataset("%[6]s/climate/sample.nc"))'
  touch %[6]s/new-file          # read-only: fails with EROFS
  %[4]s remotes --config %[5]s

earthmount's log: %[7]s
Press Ctrl-C here to unmount and stop.
`, mnt, bucket, remote, bin, cfg, root, log)
}
