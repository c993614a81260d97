package integration

import (
	"bytes"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/s3"
	"github.com/earthmount/earthmount/integration/testenv"
)

// copyCounter counts the S3 requests that copy: CopyObject and
// UploadPartCopy.
type copyCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int // guarded by mu
}

func (c *copyCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		kind := "CopyObject"
		if r.URL.Query().Has("partNumber") {
			kind = "UploadPartCopy"
		}
		c.mu.Lock()
		c.n[kind]++
		c.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

func (c *copyCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// TestS3MultipartCopyVersity: with the copy limit lowered from 5 GiB to
// 8 MiB, renaming and setting the mtime of a 20 MiB object go through
// UploadPartCopy in three parts, keep the content and the metadata, and
// a 1 MiB object still takes one CopyObject.
func TestS3MultipartCopyVersity(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	ep := v.S3Endpoint
	need(t, ep.CreateBucket(ctx, "copies"))
	counter := &copyCounter{next: http.DefaultTransport, n: map[string]int{}}
	st, err := s3.New(ctx, s3.Config{
		Remote: "versitygw", Endpoint: ep.URL, Region: ep.Region,
		AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey,
		HTTPClient: &http.Client{Transport: counter},
		CopyLimit:  8 << 20,
		Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	need(t, err)
	mtime := time.Unix(1_700_000_000, 5)
	tests := []struct {
		name      string
		size      int
		wantParts int // UploadPartCopy requests per copy; 0: one CopyObject
	}{
		{"20 MiB in parts", 20 << 20, 3},
		{"1 MiB in one copy", 1 << 20, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, tt.size)
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			src, dst := "copies/src"+tt.name, "copies/dir/dst"+tt.name
			_, err := st.Upload(ctx, src, bytes.NewReader(data), int64(len(data)), mtime)
			need(t, err)
			check := func(step, key string, wantMtime time.Time, info backends.ObjectInfo) {
				t.Helper()
				got := counter.take()
				want := map[string]int{"CopyObject": 1}
				if tt.wantParts > 0 {
					want = map[string]int{"UploadPartCopy": tt.wantParts}
				}
				if got["CopyObject"] != want["CopyObject"] || got["UploadPartCopy"] != want["UploadPartCopy"] {
					t.Errorf("%s: copy requests %v, want %v", step, got, want)
				}
				stat, err := st.Stat(ctx, key)
				need(t, err)
				if stat.Size != int64(len(data)) || !stat.ModTime.Equal(wantMtime) || stat.Version != info.Version || !info.ModTime.Equal(wantMtime) {
					t.Errorf("%s: Stat %+v, returned %+v; want size %d, mtime %v", step, stat, info, len(data), wantMtime)
				}
				out, err := ep.Client().GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("copies"), Key: aws.String(key[len("copies/"):])})
				need(t, err)
				body, err := io.ReadAll(out.Body)
				out.Body.Close()
				need(t, err)
				if !bytes.Equal(body, data) {
					t.Errorf("%s: content differs after the copy", step)
				}
			}
			counter.take()
			info, err := st.Rename(ctx, src, dst)
			need(t, err)
			check("rename", dst, mtime, info)
			if _, err := st.Stat(ctx, src); err == nil {
				t.Errorf("rename left %s behind", src)
			}
			later := time.Unix(1_800_000_000, 7)
			info, err = st.SetModTime(ctx, dst, later)
			need(t, err)
			check("utimes", dst, later, info)
		})
	}
}
