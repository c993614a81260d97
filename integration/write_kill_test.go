package integration

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestWriteKilledDuringUpload: earthmount is SIGKILLed while it uploads a
// closed file (a multipart upload in progress, slowed by a bandwidth cap).
// Nothing may be visible under the file's name afterwards, and the next
// mount on the same mountpoint and spool cleans the stale mount, uploads
// the file from the spool and leaves the spool empty: the object read back
// through the S3 API has the bytes written.
func TestWriteKilledDuringUpload(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	v := startVersity(t, testenv.VersityOptions{})
	tp := startToxiproxy(t)
	const bucket = "inbox"
	need(t, v.CreateBucket(ctx, bucket))
	px, err := tp.Proxy("killed-upload", v.URL)
	need(t, err)
	// Each part's connection sends at 1 MB/s: the 40 MiB file's parts take
	// seconds, long enough to kill earthmount in the middle.
	need(t, px.AddToxic("slow_upload", "bandwidth", "upstream", 1, map[string]any{"rate": 1024}))

	writable := false
	remote := v.Remote(bucket)
	remote.Endpoint = px.URL
	remote.ReadOnly = &writable
	spool := t.TempDir()
	cfg := testenv.Config{
		Cache:   testenv.CacheConfig{Spool: spool},
		Remotes: map[string]testenv.RemoteConfig{"rw": remote},
	}
	m1 := h.mount(t, mountSpec{cfg: cfg})

	src := filepath.Join(t.TempDir(), "big.bin")
	want := writeRandomFile(t, src, 40<<20, 7)
	data, err := os.ReadFile(src)
	need(t, err)
	f, err := os.Create(filepath.Join(m1.Dir, "rw", bucket, "big.bin"))
	need(t, err)
	_, err = f.Write(data)
	need(t, err)
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()

	// Kill once the multipart upload has begun on the server.
	client := v.Client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		need(t, err)
		if len(out.Uploads) > 0 {
			break
		}
		select {
		case err := <-closed:
			t.Fatalf("close returned (%v) before any multipart upload was seen: the bandwidth cap did not slow the upload", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no multipart upload began within 30 s of close")
		}
		time.Sleep(20 * time.Millisecond) // polling the server, not waiting for a fixed time
	}
	need(t, m1.Signal(syscall.SIGKILL))
	_, err = m1.Wait(10 * time.Second)
	need(t, err)
	select {
	case err := <-closed:
		if err == nil {
			t.Fatal("close succeeded although earthmount was killed during the upload")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("close still blocked 10 s after earthmount was killed")
	}
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin")}); err == nil {
		t.Fatal("big.bin is visible after earthmount was killed mid-upload")
	}

	need(t, px.RemoveToxic("slow_upload"))
	m2 := h.mount(t, mountSpec{cfg: cfg, mountpoint: m1.Dir})
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatalf("big.bin after the restart: %v\nlog of the new mount:\n%s", err, m2.Log())
	}
	got, n := hashStream(t, out.Body)
	if n != int64(len(data)) || got != want {
		t.Fatalf("resumed object: %d bytes, sha256 %x; want %d bytes, %x", n, got, len(data), want)
	}
	back, err := os.ReadFile(filepath.Join(m2.Dir, "rw", bucket, "big.bin"))
	need(t, err)
	if string(back) != string(data) {
		t.Error("big.bin read through the new mount differs from what was written")
	}
	mp, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	need(t, err)
	t.Logf("multipart uploads left on the server: %d", len(mp.Uploads))
	left, err := os.ReadDir(spool)
	need(t, err)
	for _, e := range left {
		if !e.IsDir() {
			t.Errorf("spool still holds %s after the resumed upload", e.Name())
		}
	}
}
