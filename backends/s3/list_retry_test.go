package s3

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// TestListBrokenBodyRetried: a 200 listing whose XML body is cut short
// or well framed but truncated is a broken transfer, retried like a 500.
func TestListBrokenBodyRetried(t *testing.T) {
	isolateAWS(t)
	const listing = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>a.txt</Key><Size>5</Size><ETag>"5d41402abc4b2a76b9719d911017c592"</ETag><LastModified>2026-11-23T14:45:07.000Z</LastModified></Contents></ListBucketResult>`
	cases := []struct {
		name  string
		spoil func(w http.ResponseWriter)
	}{
		{"cut short", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(listing)))
			w.Write([]byte(listing[:120]))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}},
		{"truncated, well framed", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "120")
			w.Write([]byte(listing[:120]))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				if n.Add(1) == 1 {
					c.spoil(w)
					return
				}
				w.Write([]byte(listing))
			}))
			defer srv.Close()
			srv.Config.ErrorLog = nil
			st, err := New(t.Context(), Config{Remote: "test", Endpoint: srv.URL, Buckets: []string{"b"}, Anonymous: true, MaxAttempts: 3})
			if err != nil {
				t.Fatal(err)
			}
			page, err := st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
			if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "b/a.txt" {
				t.Fatalf("List = %+v, %v; want b/a.txt", page, err)
			}
			if n.Load() != 2 {
				t.Errorf("%d requests, want 2", n.Load())
			}
		})
	}
}
