// Command swiftbench measures, in one run, `cp` of a 1 GiB Swift object
// through an earthmount mount (a `type: swift` remote with v1 login)
// against a direct gophercloud download of the same object, for the
// closing note of issue 3:
//
//	go run ./integration/swiftbench [-size BYTES] [-runs 3] [-rtt 20ms] [-out swiftbench.md]
//
// Everything runs on 127.0.0.1: a Swift all-in-one from Debian's packages
// (integration/testenv) holds the object; with -rtt, every reader goes
// through a toxiproxy that adds that round-trip time (the login too, so
// the storage URL tempauth hands out points at the proxy). The direct
// download is done two ways: one GET streamed to a discarding writer, and
// 8 MiB ranged GETs with 16 in flight. The mount is fresh for each run
// (that drops the kernel's page cache), the three take turns within each
// run, and the first run checks the SHA-256 of what the mount reads. The
// result is a markdown table on stdout and in -out, with the command line
// that produced it.
//
// swiftbench is a program, not a test: it imports integration/testenv and
// gophercloud, and none of earthmount's own packages; it drives earthmount
// through its command line.
package main
