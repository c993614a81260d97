package swift

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/earthmount/earthmount/backends"
)

// Stat implements backends.Store with a HEAD of the object, which for SLO
// and DLO manifests reports the whole size and the ETag a GET returns.
func (s *Store) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	if err := s.ready(ctx, "stat", key); err != nil {
		return backends.ObjectInfo{}, err
	}
	return s.stat(ctx, key)
}

func (s *Store) stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	container, object, ok := splitKey(key)
	if !ok {
		return backends.ObjectInfo{}, &backends.Error{Op: "stat", Remote: s.remote, Key: key, Err: backends.ErrNotExist}
	}
	if err := s.knownContainer("stat", key, container); err != nil {
		return backends.ObjectInfo{}, err
	}
	var h http.Header
	err := s.retry(ctx, "stat", key, func() error {
		r := objects.Get(ctx, s.client, container, object, nil)
		h = r.Header
		return r.Err
	})
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "stat", key, err)
	}
	return s.headerInfo(key, h)
}

// headerInfo builds ObjectInfo from HEAD or GET response headers. The
// time is X-Timestamp, which is what listings show as last_modified (to
// the microsecond), falling back to Last-Modified (whole seconds).
func (s *Store) headerInfo(key string, h http.Header) (backends.ObjectInfo, error) {
	size, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || size < 0 {
		return backends.ObjectInfo{}, s.badResponse("stat", key, "no valid Content-Length in the response")
	}
	return backends.ObjectInfo{
		Key:     key,
		Size:    size,
		ModTime: modTime(h),
		Version: trimETag(h.Get("Etag")),
	}, nil
}

// modTime is the X-Object-Meta-Mtime that earthmount and rclone write,
// else the store's time.
func modTime(h http.Header) time.Time {
	if t, ok := backends.ParseMtime(h.Get("X-Object-Meta-Mtime")); ok {
		return t
	}
	return headerTime(h)
}

func headerTime(h http.Header) time.Time {
	if t, ok := parseTimestamp(h.Get("X-Timestamp")); ok {
		return t
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// parseTimestamp parses a Swift timestamp, "1795445107.99671" (seconds,
// up to five decimals, and possibly an "_offset" suffix), truncated to the
// microsecond as listings show it.
func parseTimestamp(ts string) (time.Time, bool) {
	ts, _, _ = strings.Cut(ts, "_")
	whole, frac, _ := strings.Cut(ts, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || ts == "" || len(frac) > 9 {
		return time.Time{}, false
	}
	ns := int64(0)
	if frac != "" {
		n, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		ns = n / 1000 * 1000
	}
	return time.Unix(sec, ns).UTC(), true
}
