// Command zarrbench measures xarray on a Zarr store and a NetCDF4 file
// read through earthmount, rclone mount (--vfs-cache-mode off and full),
// s3fs and fsspec over HTTP, side by side in one run, with the lower
// bound of a parallel SDK download of exactly the bytes each workload
// needs, for issue 5's benchmark:
//
//	go run ./integration/zarrbench [-runs 3] [-out FILE.md] [-rtt 0,20]
//
// Everything runs on 127.0.0.1: Debian's /usr/bin/python3 writes the
// fixtures (a consolidated Zarr v2 store of two float32 variables in
// ~4 MB chunks, and a NetCDF4 file of one of them), which go straight into
// a versitygw data directory with user.etag xattrs; the bucket gets a
// public-read policy so that fsspec can read it over plain HTTP; a
// toxiproxy in front adds the round-trip time (0 ms goes to versitygw
// directly). Each workload runs in a fresh Python process on a fresh
// mount, timed inside Python after the imports; the tools take turns
// within each run. The lower bound replays, with 16 concurrent GETs, the
// chunk objects (and NetCDF byte ranges) that the same workload reads
// from a local copy. The result is a markdown table of medians, with
// ratios to the best anchor and to the lower bound, the peak RSS of each
// mount process, and (-count, on by default) the requests and GET bytes
// of one extra untimed pass at 0 ms through a counting proxy, which show
// how much earthmount's prediction fetches beyond what xarray reads.
// With -timeline (and -keep) every earthmount run at a non-zero RTT goes
// through one more proxy that writes logs/NAME.timeline: each request's
// start and end in ms from the Python start, status, bytes, and what it
// was (GET range, listing prefix), so requests waiting on an earlier one
// show as a staircase. -debug adds earthmount's debug log beside it.
//
// Teardown happens on every path, Ctrl-C included: mounts are unmounted
// and their processes stopped by pid; every process is started through
// integration/testenv with a parent-death signal. zarrbench imports
// integration/testenv and the AWS SDK, none of earthmount's packages.
package main
