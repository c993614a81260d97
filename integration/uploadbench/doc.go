// Command uploadbench measures uploads through earthmount against
// aws-sdk-go-v2's upload manager and Debian's rclone copy, side by side in
// one run, for the closing note of issue 7:
//
//	go run ./integration/uploadbench [-big 3GiB] [-files 5000] [-out upload.md]
//
// Everything runs on 127.0.0.1 against one versitygw (posix backend). Two
// workloads: one big file of seeded random bytes (S3 multipart above 16
// MiB), and a Zarr v2 store of many small chunk files. Each tool copies
// each workload once, into its own prefix of one bucket: earthmount cp
// (-r), earthmount rsync -a (then a second rsync -a, which must send
// nothing), the SDK's manager.Uploader with its defaults (5 MiB parts, 5
// at a time; the small files, one Upload each, 16 at a time), and rclone
// copy with its defaults (4 transfers), then a second rclone copy. The result is a markdown table on stdout and in
// -out, with the command line and the load (uptime) before and after.
//
// uploadbench is a program, not a library: it imports integration/testenv
// and the AWS SDK, and none of earthmount's own packages; it drives
// earthmount through its command line.
package main
