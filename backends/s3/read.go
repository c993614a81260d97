package s3

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/resume"
	"github.com/earthmount/earthmount/backends/stall"
)

// maxDiscard is how far into a full (200) response ReadAt skips when a
// server ignores Range; beyond it reading would cost more than it is worth.
const maxDiscard = 64 << 20

// Backoff between attempts to read a response body that broke off.
const (
	bodyRetryBase = 100 * time.Millisecond
	bodyRetryMax  = 2 * time.Second
)

// Stat implements backends.Store with HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	bucket, object, ok := splitKey(key)
	if !ok {
		return backends.ObjectInfo{}, &backends.Error{Op: "stat", Remote: s.remote, Key: key, Err: backends.ErrNotExist}
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(object)})
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "stat", key, err)
	}
	return backends.ObjectInfo{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: modTime(out.Metadata, out.LastModified),
		Version: trimETag(aws.ToString(out.ETag)),
	}, nil
}

// ReadAt implements backends.Store with ranged GetObject requests pinned
// by If-Match. A body that breaks off is read on from where it stopped,
// pinned to the ETag of the first response even when obj.Version is empty,
// so the bytes always come from one version.
func (s *Store) ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error) {
	bucket, object, ok := splitKey(obj.Key)
	switch {
	case !ok:
		return 0, &backends.Error{Op: "read", Remote: s.remote, Key: obj.Key, Err: backends.ErrNotExist}
	case off < 0:
		return 0, &backends.Error{Op: "read", Remote: s.remote, Key: obj.Key, Err: fmt.Errorf("negative offset %d", off)}
	case len(p) == 0:
		return 0, nil
	case obj.Size >= 0 && off >= obj.Size:
		return 0, io.EOF
	}
	want := len(p)
	if obj.Size >= 0 && int64(want) > obj.Size-off {
		want = int(obj.Size - off)
	}
	r := rangeRead{s: s, bucket: bucket, key: obj.Key, object: object, pin: obj.Version}
	return resume.Fill(ctx, p, want, off, r.get, resume.Options{
		Attempts: s.attempts, Backoff: backoff, Log: s.log, Key: obj.Key,
		Fail:    func(err error) error { return s.fail(ctx, "read", obj.Key, err) },
		OnRetry: s.retried("read"),
	})
}

// rangeRead is one ReadAt in progress.
type rangeRead struct {
	s              *Store
	bucket, object string
	key            string // store key, for errors
	pin            string // Version the bytes must come from; "" until known
}

// get fills buf from one GetObject starting at off. It returns how many
// bytes it placed and whether the object ends within buf.
func (r *rangeRead) get(ctx context.Context, buf []byte, off int64) (int, bool, error) {
	in := &s3.GetObjectInput{
		Bucket: aws.String(r.bucket),
		Key:    aws.String(r.object),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(buf))-1)),
	}
	if r.pin != "" {
		in.IfMatch = aws.String(`"` + r.pin + `"`)
	}
	// The body is read under its own context, which a stall cancels: the
	// caller's ReadAt then reads on with a new request.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, err := r.s.client.GetObject(ctx, in)
	if err != nil {
		if _, status := errorCode(err); status == 416 {
			return 0, true, nil // off is at or past the end
		}
		return 0, false, r.s.fail(ctx, "read", r.key, err)
	}
	defer out.Body.Close()
	body := stall.NewReader(out.Body, r.s.stall, cancel)
	defer body.Stop()

	etag := trimETag(aws.ToString(out.ETag))
	switch {
	case r.pin == "":
		r.pin = etag
	case etag != "" && etag != r.pin:
		// The server ignored If-Match: never hand out the other version.
		return 0, false, r.stale(fmt.Errorf("server returned version %q", etag))
	}

	start, length, total := off, int64(0), int64(-1)
	if cr := aws.ToString(out.ContentRange); cr != "" {
		var ok bool
		if start, length, total, ok = parseContentRange(cr); !ok {
			return 0, false, &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key,
				Err: backends.Kind(backends.ErrUnavailable, fmt.Errorf("server sent an invalid Content-Range %q", cr))}
		}
	} else {
		// 200 with the whole object: the server ignored Range. Skip to off
		// unless that is too far.
		if out.ContentLength == nil || off > maxDiscard {
			return 0, false, &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key,
				Err:  fmt.Errorf("server ignored the Range header: %w", backends.ErrNotSupported),
				Hint: "the server at " + r.s.endpoint + " does not support ranged reads"}
		}
		total = *out.ContentLength
		if off >= total {
			return 0, true, nil
		}
		if _, err := io.CopyN(io.Discard, body, off); err != nil {
			return 0, false, r.short(err)
		}
		length = total - off
	}
	if start != off {
		return 0, false, &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key,
			Err: backends.Kind(backends.ErrUnavailable, fmt.Errorf("asked for bytes from %d, server sent from %d", off, start))}
	}
	expect := int(min(length, int64(len(buf))))
	n, err := io.ReadFull(body, buf[:expect])
	if err != nil {
		return n, false, r.short(err)
	}
	return n, total >= 0 && off+int64(n) >= total, nil
}

func (r *rangeRead) stale(cause error) error {
	return &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key, Err: backends.Kind(backends.ErrStale, cause)}
}

func (r *rangeRead) short(cause error) error {
	return &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key,
		Err: backends.Kind(backends.ErrUnavailable, fmt.Errorf("%w: %w", resume.ErrShortBody, cause))}
}

// parseContentRange parses "bytes START-END/TOTAL"; TOTAL may be "*"
// (returned as -1).
func parseContentRange(h string) (start, length, total int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, size, found := strings.Cut(spec, "/")
	first, last, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, 0, false
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	total = -1
	var err3 error
	if size != "*" {
		total, err3 = strconv.ParseInt(size, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || end < start {
		return 0, 0, 0, false
	}
	return start, end - start + 1, total, true
}

// backoff returns a jittered exponential delay for the given attempt.
func backoff(attempt int) time.Duration {
	d := min(bodyRetryBase<<min(attempt, 10), bodyRetryMax)
	return d/2 + rand.N(d/2+1)
}
