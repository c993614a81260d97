// Package s3 implements backends.Store over the S3 API with aws-sdk-go-v2,
// for S3-compatible servers such as OSN's Ceph RGW, versitygw and Swift's
// s3api layer.
//
// One Store spans the buckets of one endpoint: the bucket is the first key
// segment ("bucket/dir/key"). Requests are path-style against a custom
// endpoint, never use the newer checksum trailers (Ceph RGW rejects them),
// and never consult the EC2 instance metadata service for credentials.
//
// This package owns the SDK: no aws-sdk-go-v2 or smithy type leaves it.
// It imports backends and the SDK only; never cache, fs or cmd.
package s3
