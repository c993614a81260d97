package integration

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/s3"
	"github.com/earthmount/earthmount/backends/storetest"
	"github.com/earthmount/earthmount/integration/testenv"
)

// TestS3ContractVersity runs the backends.Store contract suite against
// backends/s3 on versitygw. TestSwiftS3API runs it on Swift's s3api.
func TestS3ContractVersity(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // explicit keys anyway; never ask 169.254.169.254
	v := startVersity(t, testenv.VersityOptions{})
	// Objects are plain files: "a" beside "a/x" cannot exist.
	runContract(t, v.S3Endpoint, "versitygw", storetest.Capabilities{Buckets: true, NoKeyAlsoPrefix: true})
}

// TestS3WriterVersity runs the backends.Writer checks on versitygw,
// multipart uploads included.
func TestS3WriterVersity(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	v := startVersity(t, testenv.VersityOptions{})
	ep := v.S3Endpoint
	need(t, ep.CreateBucket(t.Context(), "writer"))
	st, err := s3.New(t.Context(), s3.Config{
		Remote: "versitygw", Endpoint: ep.URL, Region: ep.Region,
		AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	need(t, err)
	storetest.RunWriter(t, st, "writer/", 40<<20)
}

// runContract runs the suite twice on one server: with the bucket named in
// the config, and with buckets found by ListBuckets.
func runContract(t *testing.T, ep testenv.S3Endpoint, remote string, caps storetest.Capabilities) {
	for _, configured := range []bool{true, false} {
		name, bucket := "listed-buckets", "contract-listed"
		if configured {
			name, bucket = "configured-bucket", "contract-configured"
		}
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, s3Factory(ep, remote, bucket, configured, caps))
		})
	}
}

// s3Factory uploads the suite's fixture into a new bucket through the S3
// API and returns a backends/s3 store for it.
func s3Factory(ep testenv.S3Endpoint, remote, bucket string, configured bool, caps storetest.Capabilities) storetest.Factory {
	rel := func(key string) string { return strings.TrimPrefix(key, bucket+"/") }
	return storetest.Factory{
		Root:         bucket + "/",
		Capabilities: caps,
		New: func(t *testing.T, fixture []storetest.Object) backends.Store {
			ctx := t.Context()
			need(t, ep.CreateBucket(ctx, bucket))
			for _, o := range fixture {
				_, err := ep.Put(ctx, bucket, rel(o.Key), o.Data)
				need(t, err)
			}
			cfg := s3.Config{
				Remote: remote, Endpoint: ep.URL, Region: ep.Region,
				AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey,
				Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
			}
			if configured {
				cfg.Buckets = []string{bucket}
			}
			st, err := s3.New(ctx, cfg)
			need(t, err)
			return st
		},
		Overwrite: func(ctx context.Context, key string, data []byte) error {
			_, err := ep.Put(ctx, bucket, rel(key), data)
			return err
		},
	}
}
