// Package integration holds earthmount's end-to-end tests: they build the
// earthmount binary, start real servers on 127.0.0.1 (versitygw, a Swift
// all-in-one with its s3api layer, toxiproxy; see testenv), mount earthmount
// as a subprocess and check the mount with the tools users run (ls, find,
// cp, rsync, xarray). They also run the backends/storetest contract suite
// against backends/s3 on both servers.
//
// The tests need /dev/fuse, fusermount3 and the Debian packages that .ci/run
// installs. Locally a missing component skips a test with the reason; with
// CI=true it fails it. Everything is torn down by t.Cleanup, also when a
// test fails; servers and mounts die with the test binary if it is killed.
//
// The fault tests put integration/faultproxy (HTTP-level faults) or
// toxiproxy (connection-level faults) between earthmount and the servers.
//
// This package has no non-test code and imports earthmount's packages only
// for the contract suite: the mount is driven through the command line.
package integration
