package swift

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/resume"
	"github.com/earthmount/earthmount/backends/stall"
)

// maxDiscard is how far into a full (200) response ReadAt skips when the
// server ignored Range; beyond it reading would cost more than it is worth.
const maxDiscard = 64 << 20

// ReadAt implements backends.Store with ranged GETs pinned by If-Match to
// obj.Version, quoted as Swift quotes large objects' ETags (it accepts
// either form). A body that breaks off is read on from where it stopped,
// pinned to the ETag of the first response even when obj.Version is
// empty, so the bytes always come from one version; they are never
// handed out short.
func (s *Store) ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error) {
	container, object, ok := splitKey(obj.Key)
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
	if err := s.knownContainer("read", obj.Key, container); err != nil {
		return 0, err
	}
	if err := s.ready(ctx, "read", obj.Key); err != nil {
		return 0, err
	}
	want := len(p)
	if obj.Size >= 0 && int64(want) > obj.Size-off {
		want = int(obj.Size - off)
	}
	r := rangeRead{s: s, container: container, object: object, key: obj.Key, pin: obj.Version}
	return resume.Fill(ctx, p, want, off, r.get, resume.Options{
		Attempts: s.attempts, Backoff: backoff, Log: s.log, Key: obj.Key,
		Fail: func(err error) error { return s.fail(ctx, "read", obj.Key, err) },
		OnRetry: func() {
			if s.onRetry != nil {
				s.onRetry("read")
			}
		},
	})
}

// rangeRead is one ReadAt in progress.
type rangeRead struct {
	s                 *Store
	container, object string
	key               string // store key, for errors
	pin               string // Version the bytes must come from; "" until known
}

// get fills buf from one GET starting at off. It returns how many bytes it
// placed and whether the object ends within buf.
func (r *rangeRead) get(ctx context.Context, buf []byte, off int64) (int, bool, error) {
	opts := objects.DownloadOpts{Range: fmt.Sprintf("bytes=%d-%d", off, off+int64(len(buf))-1)}
	if r.pin != "" {
		opts.IfMatch = `"` + r.pin + `"`
	}
	// The body is read under its own context, which a stall cancels: the
	// caller's ReadAt then reads on with a new request.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var res objects.DownloadResult
	err := r.s.retry(ctx, "read", r.key, func() error {
		res = objects.Download(ctx, r.s.client, r.container, r.object, opts)
		return res.Err
	})
	if err != nil {
		if statusOf(err) == 416 {
			return 0, true, nil // off is at or past the end
		}
		return 0, false, r.s.fail(ctx, "read", r.key, err)
	}
	defer res.Body.Close()
	body := stall.NewReader(res.Body, r.s.stall, cancel)
	defer body.Stop()

	etag := trimETag(res.Header.Get("Etag"))
	switch {
	case r.pin == "":
		r.pin = etag
	case etag != "" && etag != r.pin:
		// The server ignored If-Match: never hand out the other version.
		return 0, false, &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key,
			Err: backends.Kind(backends.ErrStale, fmt.Errorf("server returned version %q", etag))}
	}

	start, length, total := off, int64(0), int64(-1)
	if cr := res.Header.Get("Content-Range"); cr != "" {
		var ok bool
		if start, length, total, ok = parseContentRange(cr); !ok {
			return 0, false, r.s.badResponse("read", r.key, fmt.Sprintf("server sent an invalid Content-Range %q", cr))
		}
	} else {
		// 200 with the whole object: the server ignored Range. Skip to
		// off unless that is too far.
		size, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64)
		if err != nil || off > maxDiscard {
			return 0, false, &backends.Error{Op: "read", Remote: r.s.remote, Key: r.key,
				Err: fmt.Errorf("server ignored the Range header: %w", backends.ErrNotSupported)}
		}
		total = size
		if off >= total {
			return 0, true, nil
		}
		if _, err := io.CopyN(io.Discard, body, off); err != nil {
			return 0, false, r.short(err)
		}
		length = min(total-off, int64(len(buf)))
	}
	if start != off || length > int64(len(buf)) {
		return 0, false, r.s.badResponse("read", r.key,
			fmt.Sprintf("asked for %d bytes from %d, server sent %d from %d", len(buf), off, length, start))
	}
	n, err := io.ReadFull(body, buf[:length])
	if err != nil {
		return n, false, r.short(err)
	}
	return n, total >= 0 && off+int64(n) >= total, nil
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
	if err1 != nil || err2 != nil || err3 != nil || end < start || (total >= 0 && end >= total) {
		return 0, 0, 0, false
	}
	return start, end - start + 1, total, true
}
