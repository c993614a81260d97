package s3

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earthmount/earthmount/backends"
)

// FuzzListObjectsXML feeds arbitrary ListObjectsV2 bodies to List: it
// must never panic, must fail with a *backends.Error naming the op and
// the remote, and must only return keys inside the listed bucket.
func FuzzListObjectsXML(f *testing.F) {
	f.Add(200, `<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated><Contents><Key>d/x</Key><Size>3</Size><ETag>"e"</ETag><LastModified>2026-11-23T10:00:00Z</LastModified></Contents><CommonPrefixes><Prefix>d/e/</Prefix></CommonPrefixes></ListBucketResult>`)
	f.Add(200, `<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>`)
	f.Add(200, `<ListBucketResult><Contents><Key>d/</Key></Contents><Contents><Size>-1</Size></Contents></ListBucketResult>`)
	f.Add(200, `<ListBucketResult><Contents><Key>d/x</Key><Size>99999999999999999999</Size></Contents>`)
	f.Add(200, `not xml at all`)
	f.Add(500, `<Error><Code>InternalError</Code><Message>boom</Message></Error>`)
	f.Add(403, `<Error><Code>AccessDenied</Code></Error>`)
	f.Add(503, `<Error><Code>SlowDown</Code></Error>`)
	f.Add(404, `<Error><Code>NoSuchBucket</Code></Error>`)
	var status atomic.Int64
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(int(status.Load()))
		w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	f.Fuzz(func(t *testing.T, code int, xmlBody string) {
		if code < 200 || code > 599 || code == 204 || code == 304 || (code >= 300 && code < 400) {
			code = 200
		}
		status.Store(int64(code))
		body.Store(xmlBody)
		st, err := New(t.Context(), Config{Remote: "fz", Endpoint: srv.URL, Buckets: []string{"b"},
			AccessKeyID: "AKIAFUZZ", SecretAccessKey: "fuzz-secret-key", MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []backends.ListRequest{{Prefix: "b/d/", Delimiter: "/"}, {Prefix: "b/"}} {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			page, err := st.List(ctx, req)
			timedOut := ctx.Err() != nil
			cancel()
			if timedOut {
				t.Fatalf("List(%q) with HTTP %d %q: no answer in 5s", req.Prefix, code, xmlBody)
			}
			if err != nil {
				var be *backends.Error
				if !errors.As(err, &be) || be.Op != "list" || be.Remote != "fz" {
					t.Fatalf("List(%q): error does not name op and remote: %#v", req.Prefix, err)
				}
				if strings.Contains(err.Error(), "fuzz-secret-key") {
					t.Fatalf("error shows the secret: %v", err)
				}
				continue
			}
			for _, o := range page.Objects {
				if !strings.HasPrefix(o.Key, "b/") {
					t.Fatalf("List(%q): key %q outside the bucket", req.Prefix, o.Key)
				}
			}
			for _, p := range page.Prefixes {
				if !strings.HasPrefix(p, "b/") {
					t.Fatalf("List(%q): prefix %q outside the bucket", req.Prefix, p)
				}
			}
		}
	})
}

// FuzzKeyRoundTrip: a key stored in a bucket is listed back as
// "bucket/key", byte for byte (for keys XML can carry).
func FuzzKeyRoundTrip(f *testing.F) {
	for _, k := range []string{"a", "dir/x.nc", "a b/ü?&%20=+", "..", "./x", "a//b", "x/", "<&>\"'", "日本/語"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !xmlSafe(key) || key == "" || len(key) > 1024 {
			t.Skip()
		}
		fake := newFakeS3(t, "b")
		fake.put("b", key, []byte("x"))
		st := newTestStore(t, fake, nil)
		page, err := st.List(t.Context(), backends.ListRequest{Prefix: "b/"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 1 || page.Objects[0].Key != "b/"+key || page.Objects[0].Size != 1 {
			t.Fatalf("stored %q, listed %+v", key, page.Objects)
		}
	})
}

// xmlSafe reports whether XML 1.0 can carry s unchanged.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF) {
			return false
		}
	}
	return true
}
