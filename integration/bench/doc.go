// Command bench measures earthmount against a direct aws-sdk-go-v2 download
// and the Debian builds of rclone mount and s3fs, side by side in one run,
// for the closing note of issue 2:
//
//	go run ./integration/bench [-runs 3] [-out bench.md] [-quick]
//
// Everything runs on 127.0.0.1: a versitygw (posix backend, --keep-alive)
// holds the fixtures, which are written straight into its data directory
// with the user.etag xattr; a toxiproxy in front of it adds 10 ms on each
// direction for the 20 ms round-trip rows. The workloads are (a) cp of a
// 1 GiB object to /dev/null, (b) find over 20,000 keys in 200 prefixes,
// (c) rsync -a of 2,000 files of 16-128 KiB, then a second rsync -a, and
// (d) earthmount's peak RSS during (a) with --cache-memory 256MiB. Every
// mount is fresh for each run (that is how the kernel's page cache is
// dropped), and the tools take turns within each run so that drift on the
// machine affects them alike. The result is a markdown table on stdout and
// in -out, with the command line that produced it.
//
// Teardown happens on every path, Ctrl-C included: rclone and s3fs are
// unmounted with fusermount3 -u and then stopped by their process id,
// earthmount by SIGTERM (it unmounts itself), with a lazy unmount as the
// last resort; every process is started by integration/testenv with a
// parent-death signal, and the servers are stopped last.
//
// bench is a program, not a library: it imports integration/testenv (the
// shared harness), the AWS SDK and the toxiproxy client, and none of
// earthmount's own packages; it drives earthmount through its command line.
package main
