package s3

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeS3 is a minimal in-memory S3 server on 127.0.0.1 for unit tests:
// path-style ListBuckets, ListObjectsV2, HeadObject, GetObject with Range
// and If-Match, PutObject. It records every request and lets tests inject
// errors and misbehaviour.
type fakeS3 struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	buckets  map[string]map[string]fakeObject // guarded by mu
	requests []*http.Request                  // guarded by mu; bodies not kept

	// Set before use:
	fail          func(r *http.Request) (status int, code string) // status 0: no error
	ignoreRange   bool                                            // answer 200 with the whole object
	ignoreIfMatch bool
	shiftRange    int64 // serve ranges starting this much later than asked
	shortBodies   int   // that many GETs send half their body, then hang up
}

type fakeObject struct {
	data []byte
	etag string
	mod  time.Time
}

func newFakeS3(t *testing.T, buckets ...string) *fakeS3 {
	t.Helper()
	return startFakeS3(t, false, buckets)
}

// newFakeS3TLS serves over https with httptest's self-signed certificate.
func newFakeS3TLS(t *testing.T, buckets ...string) *fakeS3 {
	t.Helper()
	return startFakeS3(t, true, buckets)
}

func startFakeS3(t *testing.T, useTLS bool, buckets []string) *fakeS3 {
	f := &fakeS3{t: t, buckets: map[string]map[string]fakeObject{}}
	for _, b := range buckets {
		f.buckets[b] = map[string]fakeObject{}
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// Rejected handshakes are expected in TLS tests; keep them quiet.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) put(bucket, key string, data []byte) {
	sum := md5.Sum(data)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buckets[bucket][key] = fakeObject{data: slices.Clone(data), etag: hex.EncodeToString(sum[:]), mod: time.Now().UTC().Truncate(time.Second)}
}

// recorded returns the requests received so far.
func (f *fakeS3) recorded() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.mu.Unlock()
	if f.fail != nil {
		if status, code := f.fail(r); status != 0 {
			f.error(w, r, status, code)
			return
		}
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	objects, ok := f.buckets[bucket]
	f.mu.Unlock()
	switch {
	case bucket == "" && r.Method == http.MethodGet:
		f.listBuckets(w)
	case !ok:
		f.error(w, r, http.StatusNotFound, "NoSuchBucket")
	case key == "" && r.Method == http.MethodGet:
		f.listObjects(w, r, bucket, objects)
	case r.Method == http.MethodPut:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			f.error(w, r, http.StatusBadRequest, "IncompleteBody")
			return
		}
		f.put(bucket, key, data)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		f.mu.Lock()
		o, ok := objects[key]
		f.mu.Unlock()
		if !ok {
			f.error(w, r, http.StatusNotFound, "NoSuchKey")
			return
		}
		f.getObject(w, r, o)
	default:
		f.error(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed")
	}
}

func (f *fakeS3) error(w http.ResponseWriter, r *http.Request, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>fake %s</Message><RequestId>fake</RequestId></Error>", code, code)
	}
}

func (f *fakeS3) listBuckets(w http.ResponseWriter) {
	type bucket struct{ Name, CreationDate string }
	var out struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		Buckets []bucket `xml:"Buckets>Bucket"`
	}
	f.mu.Lock()
	for name := range f.buckets {
		out.Buckets = append(out.Buckets, bucket{name, "2026-01-01T00:00:00.000Z"})
	}
	f.mu.Unlock()
	xml.NewEncoder(w).Encode(out)
}

// listObjects pages over the merged, sorted entries (keys and common
// prefixes); the continuation token is the last entry of the page.
func (f *fakeS3) listObjects(w http.ResponseWriter, r *http.Request, bucket string, objects map[string]fakeObject) {
	q := r.URL.Query()
	prefix, delim, token := q.Get("prefix"), q.Get("delimiter"), q.Get("continuation-token")
	maxKeys := 1000
	if v, err := strconv.Atoi(q.Get("max-keys")); err == nil {
		maxKeys = v
	}
	f.mu.Lock()
	var entries []string
	isPrefix := map[string]bool{}
	for k := range objects {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if i := strings.Index(rest, delim); delim != "" && i >= 0 {
			p := prefix + rest[:i+1]
			if !isPrefix[p] {
				isPrefix[p] = true
				entries = append(entries, p)
			}
			continue
		}
		entries = append(entries, k)
	}
	f.mu.Unlock()
	slices.Sort(entries)

	type content struct {
		Key, LastModified, ETag string
		Size                    int64
	}
	type cp struct{ Prefix string }
	var out struct {
		XMLName        xml.Name `xml:"ListBucketResult"`
		Name, Prefix   string
		IsTruncated    bool
		Contents       []content
		CommonPrefixes []cp
		NextToken      string `xml:"NextContinuationToken,omitempty"`
	}
	out.Name, out.Prefix = bucket, prefix
	n := 0
	for _, e := range entries {
		if e <= token {
			continue
		}
		if n == maxKeys {
			out.IsTruncated, out.NextToken = true, token
			break
		}
		if isPrefix[e] {
			out.CommonPrefixes = append(out.CommonPrefixes, cp{e})
		} else {
			o := objects[e]
			out.Contents = append(out.Contents, content{e, o.mod.Format(time.RFC3339), `"` + o.etag + `"`, int64(len(o.data))})
		}
		token = e
		n++
	}
	xml.NewEncoder(w).Encode(out)
}

func (f *fakeS3) getObject(w http.ResponseWriter, r *http.Request, o fakeObject) {
	h := w.Header()
	h.Set("ETag", `"`+o.etag+`"`)
	h.Set("Last-Modified", o.mod.Format(http.TimeFormat))
	if im := r.Header.Get("If-Match"); im != "" && im != `"`+o.etag+`"` && !f.ignoreIfMatch {
		f.error(w, r, http.StatusPreconditionFailed, "PreconditionFailed")
		return
	}
	size := int64(len(o.data))
	start, end, status := int64(0), size-1, http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && !f.ignoreRange {
		first, last, _ := strings.Cut(strings.TrimPrefix(rg, "bytes="), "-")
		start, _ = strconv.ParseInt(first, 10, 64)
		end, _ = strconv.ParseInt(last, 10, 64)
		if start >= size {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			f.error(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			return
		}
		start, end = min(start+f.shiftRange, size-1), min(end+f.shiftRange, size-1)
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
	}
	body := o.data[start : end+1]
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	f.mu.Lock()
	short := f.shortBodies > 0 && len(body) > 1
	if short {
		f.shortBodies--
	}
	f.mu.Unlock()
	if short {
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // hang up mid-body
	}
	w.Write(body)
}
