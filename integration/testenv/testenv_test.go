package testenv

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// need skips locally, and fails in CI, when err says a component is missing.
func need(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrMissing) && !InCI():
		t.Skipf("skipped: %v", err)
	default:
		t.Fatal(err)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`/tmp/a`, "/tmp/a"},
		{`/tmp/with\040space`, "/tmp/with space"},
		{`/tmp/tab\011x\134y`, "/tmp/tab\tx\\y"},
		{`/tmp/trailing\04`, `/tmp/trailing\04`},
	} {
		t.Run(c.in, func(t *testing.T) {
			if got := unescapeMountinfo(c.in); got != c.want {
				t.Errorf("unescapeMountinfo(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestVersityDirectWrite checks what the fixtures rely on: a file written
// into the data directory with user.etag is listed and served with that ETag,
// and a conditional GET with another ETag fails.
func TestVersityDirectWrite(t *testing.T) {
	v, err := StartVersity(t.Context(), VersityOptions{Dir: t.TempDir()})
	need(t, err)
	t.Cleanup(func() { v.Close() })
	ctx := t.Context()
	need(t, v.CreateBucket(ctx, "fixtures"))
	data := []byte("hello, fixture")
	etag, err := v.WriteObject("fixtures", "dir/sub/ünï codé.txt", data)
	need(t, err)

	keys, err := v.Keys(ctx, "fixtures")
	need(t, err)
	if want := map[string]int64{"dir/sub/ünï codé.txt": int64(len(data))}; !maps.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	c := v.Client()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("fixtures"), Key: aws.String("dir/sub/ünï codé.txt"),
		Range: aws.String("bytes=7-13"), IfMatch: aws.String(`"` + etag + `"`),
	})
	need(t, err)
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	need(t, err)
	if !bytes.Equal(got, data[7:]) || aws.ToString(out.ETag) != `"`+etag+`"` {
		t.Errorf("ranged GET = %q, ETag %s; want %q, ETag %q", got, aws.ToString(out.ETag), data[7:], etag)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("fixtures"), Key: aws.String("dir/sub/ünï codé.txt"), IfMatch: aws.String(`"0123"`),
	})
	if err == nil {
		t.Error("GET with a wrong If-Match succeeded")
	}
}

// TestToxiproxyLatency checks that a proxy's latency toxic delays each
// request by about the round-trip time asked for, and that removing it
// removes the delay.
func TestToxiproxyLatency(t *testing.T) {
	dir := t.TempDir()
	v, err := StartVersity(t.Context(), VersityOptions{Dir: dir})
	need(t, err)
	t.Cleanup(func() { v.Close() })
	tp, err := StartToxiproxy(t.Context(), ToxiproxyOptions{Dir: dir})
	need(t, err)
	t.Cleanup(func() { tp.Close() })
	px, err := tp.Proxy("versitygw", v.URL)
	need(t, err)
	slow := v.S3Endpoint
	slow.URL = px.URL
	client := slow.Client()
	timeList := func() time.Duration {
		start := time.Now()
		_, err := client.ListBuckets(t.Context(), &s3.ListBucketsInput{})
		need(t, err)
		return time.Since(start)
	}
	timeList() // open the connection
	for _, c := range []struct {
		rtt      time.Duration
		min, max time.Duration
	}{
		{200 * time.Millisecond, 195 * time.Millisecond, 2 * time.Second},
		{0, 0, 150 * time.Millisecond}, // generous: other tests may load the machine
	} {
		t.Run(c.rtt.String(), func(t *testing.T) {
			need(t, px.SetLatency(c.rtt))
			if took := timeList(); took < c.min || took > c.max {
				t.Errorf("ListBuckets through the proxy at %v RTT took %v, want %v to %v", c.rtt, took, c.min, c.max)
			}
		})
	}
}
