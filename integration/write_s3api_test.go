package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestWriteSwiftS3API writes through the S3 API of the real Swift (its
// s3api middleware, as pangeo-eosc's Swift offers it): cp -r and rsync -a
// of a Zarr store read back byte-identical through S3, a second rsync -a
// sends nothing, and a rename and an mtime change of an uploaded file are
// server-side copies that Swift's s3api accepts.
func TestWriteSwiftS3API(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	h := newHarness(t)
	sw := startSwift(t)
	ctx := t.Context()
	need(t, sw.CreateBucket(ctx, "inbox"))
	src := t.TempDir()
	want := writeZarrTree(t, src, 5)
	writable := false
	rw := sw.Remote("inbox")
	rw.ReadOnly = &writable
	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Spool: t.TempDir()},
		Remotes: map[string]testenv.RemoteConfig{"eosc": rw},
	}})
	root := filepath.Join(m.Dir, "eosc", "inbox")

	within(t, 2*time.Minute, "cp -r", func() { run(t, 2*time.Minute, "cp", "-r", src, filepath.Join(root, "cp")) })
	checkUploaded(t, sw.S3Endpoint, "inbox", "cp/", want)
	within(t, 2*time.Minute, "rsync", func() { run(t, 2*time.Minute, "rsync", "-a", src+"/", filepath.Join(root, "rs")+"/") })
	checkUploaded(t, sw.S3Endpoint, "inbox", "rs/", want)
	out := run(t, time.Minute, "rsync", "-a", "--stats", src+"/", filepath.Join(root, "rs")+"/")
	if !strings.Contains(out, "Number of regular files transferred: 0\n") {
		t.Errorf("second rsync -a transferred files:\n%s", out)
	}

	// mv and touch of an uploaded file: CopyObject (with x-amz-copy-source-if-match).
	from, to := filepath.Join(root, "cp", "my.zarr", ".zattrs"), filepath.Join(root, "cp", "moved.json")
	need(t, os.Rename(from, to))
	later := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	need(t, os.Chtimes(to, later, later))
	head, err := sw.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("cp/moved.json")})
	need(t, err)
	if got := head.Metadata["mtime"]; got != "1735787045.000000000" {
		t.Errorf("mtime metadata after mv and touch: %q, want 1735787045.000000000", got)
	}
	if _, err := sw.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("cp/my.zarr/.zattrs")}); err == nil {
		t.Errorf("mv left the source object behind")
	}
	moved := map[string][32]byte{"moved.json": want["my.zarr/.zattrs"]}
	delete(want, "my.zarr/.zattrs")
	for k, v := range want {
		moved[k] = v
	}
	checkUploaded(t, sw.S3Endpoint, "inbox", "cp/", moved)
}
