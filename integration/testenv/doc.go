// Package testenv runs the real components that earthmount's integration
// tests, the local demo and the benchmark need, all on 127.0.0.1: versitygw
// (S3 on plain files), a Swift all-in-one with the s3api layer (S3 on real
// Swift, as CESNET runs it), toxiproxy (added latency), and the earthmount
// binary itself, mounted as a subprocess.
//
// Everything here returns errors and has a Close; it never calls testing
// functions, so that programs can use it too. Tests register Close with
// t.Cleanup. Every process is started in its own process group with a
// parent-death signal, so a killed test run leaves no servers behind, and
// Close stops processes by their recorded ids only.
//
// Subprocesses get a scrubbed environment (see Env): no AWS_* variables from
// the caller, AWS_EC2_METADATA_DISABLED=true, and a private HOME, so nothing
// ever asks the EC2 metadata service or reads the developer's credentials.
//
// Mount.Close also fails when earthmount's log shows a secret the mount
// was given (config, environment, icoscp_core file) or a token shaped like
// the ones servers hand out (see CheckLogSecrets).
//
// testenv imports the AWS SDK (to create buckets and objects) and the
// toxiproxy client, never earthmount's own packages: it drives earthmount
// only through its command line and config file, as a user would.
package testenv
