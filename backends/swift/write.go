package swift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/backends"
)

// Upload limits. One PUT below the threshold; above it a static large
// object (SLO): segments uploaded in parallel into the container
// "<container>_segments" (rclone's convention), then a manifest. Segments
// grow with the file so that 1,000 of them (Swift's default
// max_manifest_segments) cover it.
const (
	sloThreshold       = 64 << 20
	minSegmentSize     = 32 << 20
	maxSegments        = 1000
	segmentConcurrency = 4
	// mtimeHeaderMeta is the Metadata key gophercloud sends as
	// X-Object-Meta-Mtime.
	mtimeHeaderMeta = "Mtime"
)

var _ backends.Writer = (*Store)(nil)

func segmentSize(size int64) int64 {
	p := (size + maxSegments - 1) / maxSegments
	p = (p + 1<<20 - 1) &^ (1<<20 - 1)
	return max(p, minSegmentSize)
}

// objectPath is "/container/object", escaped, for Destination headers
// and SLO manifests.
func objectPath(container, object string) string {
	return "/" + url.PathEscape(container) + "/" + strings.ReplaceAll(url.PathEscape(object), "%2F", "/")
}

// Upload implements backends.Writer.
func (s *Store) Upload(ctx context.Context, key string, body io.ReaderAt, size int64, mtime time.Time) (backends.ObjectInfo, error) {
	container, object, ok := splitKey(key)
	if !ok {
		return backends.ObjectInfo{}, &backends.Error{Op: "upload", Remote: s.remote, Key: key, Err: backends.ErrNotSupported, Hint: "files go inside a container"}
	}
	if err := s.ready(ctx, "upload", key); err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := s.knownContainer("upload", key, container); err != nil {
		return backends.ObjectInfo{}, err
	}
	meta := map[string]string{mtimeHeaderMeta: backends.FormatMtime(mtime)}
	var err error
	if size < sloThreshold {
		err = s.retry(ctx, "upload", key, func() error {
			return objects.Create(ctx, s.client, container, object, objects.CreateOpts{
				Content: io.NewSectionReader(body, 0, size), ContentLength: size, Metadata: meta,
			}).Err
		})
	} else {
		err = s.uploadSLO(ctx, key, container, object, body, size, meta)
	}
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "upload", key, err)
	}
	return s.stat(ctx, key)
}

// sloSegment is one entry of an SLO manifest.
type sloSegment struct {
	Path string `json:"path"`
	ETag string `json:"etag"`
	Size int64  `json:"size_bytes"`
}

// uploadSLO uploads body as segments and then the manifest that joins
// them. Segments of a failed upload are deleted again.
func (s *Store) uploadSLO(ctx context.Context, key, container, object string, body io.ReaderAt, size int64, meta map[string]string) error {
	segContainer := container + "_segments"
	if err := s.retry(ctx, "upload", key, func() error {
		return containers.Create(ctx, s.client, segContainer, nil).Err
	}); err != nil {
		return fmt.Errorf("creating the segment container %s: %w", segContainer, err)
	}
	seg := segmentSize(size)
	n := int((size + seg - 1) / seg)
	base := fmt.Sprintf("%s/slo/%d/%d", object, time.Now().UnixNano(), size)
	manifest := make([]sloSegment, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(segmentConcurrency)
	for i := range n {
		g.Go(func() error {
			off := int64(i) * seg
			length := min(seg, size-off)
			name := fmt.Sprintf("%s/%08d", base, i)
			var etag string
			err := s.retry(gctx, "upload", key, func() error {
				r := objects.Create(gctx, s.client, segContainer, name, objects.CreateOpts{
					Content: io.NewSectionReader(body, off, length), ContentLength: length,
				})
				if r.Err == nil {
					etag = trimETag(r.Header.Get("Etag"))
				}
				return r.Err
			})
			manifest[i] = sloSegment{Path: objectPath(segContainer, name), ETag: etag, Size: length}
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		var doc []byte
		doc, err = json.Marshal(manifest)
		if err == nil {
			err = s.retry(ctx, "upload", key, func() error {
				return objects.Create(ctx, s.client, container, object, objects.CreateOpts{
					Content: bytes.NewReader(doc), ContentLength: int64(len(doc)), Metadata: meta,
					// The ETag of an SLO is not the manifest's MD5.
					MultipartManifest: "put", NoETag: true,
				}).Err
			})
		}
	}
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for i := range n {
			_ = objects.Delete(cctx, s.client, segContainer, fmt.Sprintf("%s/%08d", base, i), nil).Err
		}
	}
	return err
}

// Remove implements backends.Writer. An SLO manifest is deleted with
// multipart-manifest=delete, which removes its segments too.
func (s *Store) Remove(ctx context.Context, key string) error {
	container, object, ok := splitKey(key)
	if !ok {
		return &backends.Error{Op: "remove", Remote: s.remote, Key: key, Err: backends.ErrNotSupported}
	}
	if err := s.ready(ctx, "remove", key); err != nil {
		return err
	}
	var h http.Header
	err := s.retry(ctx, "remove", key, func() error {
		r := objects.Get(ctx, s.client, container, object, nil)
		h = r.Header
		return r.Err
	})
	if err == nil && strings.EqualFold(h.Get("X-Static-Large-Object"), "true") {
		err = s.retry(ctx, "remove", key, func() error { return s.deleteSLO(ctx, container, object) })
	} else if err == nil {
		err = s.retry(ctx, "remove", key, func() error {
			return objects.Delete(ctx, s.client, container, object, nil).Err
		})
	}
	if err != nil && statusOf(err) != 404 {
		return s.fail(ctx, "remove", key, err)
	}
	return nil
}

// deleteSLO deletes a manifest and its segments. Swift answers 200 with
// a report whose Errors list what it could not delete.
func (s *Store) deleteSLO(ctx context.Context, container, object string) error {
	u := s.client.ServiceURL(url.PathEscape(container), strings.ReplaceAll(url.PathEscape(object), "%2F", "/")) + "?multipart-manifest=delete"
	resp, err := s.client.Delete(ctx, u, &gophercloud.RequestOpts{
		OkCodes: []int{200}, KeepResponseBody: true, MoreHeaders: map[string]string{"Accept": "application/json"},
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var report struct {
		Errors [][]string `json:"Errors"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&report); err != nil {
		return fmt.Errorf("reading the SLO delete report: %w", err)
	}
	if len(report.Errors) > 0 {
		return fmt.Errorf("deleting the large object left %d parts: %v", len(report.Errors), report.Errors[0])
	}
	return nil
}

// Rename implements backends.Writer with a server-side COPY (the
// metadata, the mtime included, goes along) and a DELETE. A static large
// object moves as its manifest (multipart-manifest=get), keeping its
// segments: no data is copied, and the result stays an SLO, whose
// conditional reads work (a COPY of the joined content keeps the SLO's
// ETag in system metadata, and If-Match then fails on the copy).
func (s *Store) Rename(ctx context.Context, src, dst string) (backends.ObjectInfo, error) {
	sc, so, ok1 := splitKey(src)
	dc, do, ok2 := splitKey(dst)
	if !ok1 || !ok2 {
		return backends.ObjectInfo{}, &backends.Error{Op: "rename", Remote: s.remote, Key: src, Err: backends.ErrNotSupported}
	}
	if err := s.ready(ctx, "rename", src); err != nil {
		return backends.ObjectInfo{}, err
	}
	var h http.Header
	err := s.retry(ctx, "rename", src, func() error {
		r := objects.Get(ctx, s.client, sc, so, nil)
		h = r.Header
		return r.Err
	})
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "rename", src, err)
	}
	slo := strings.EqualFold(h.Get("X-Static-Large-Object"), "true")
	err = s.retry(ctx, "rename", src, func() error {
		u := s.client.ServiceURL(url.PathEscape(sc), strings.ReplaceAll(url.PathEscape(so), "%2F", "/"))
		if slo {
			u += "?multipart-manifest=get"
		}
		resp, err := s.client.Request(ctx, "COPY", u, &gophercloud.RequestOpts{
			MoreHeaders: map[string]string{"Destination": objectPath(dc, do)}, OkCodes: []int{201},
		})
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return err
	})
	if err == nil {
		// The manifest alone: its segments now belong to dst.
		err = s.retry(ctx, "rename", src, func() error {
			return objects.Delete(ctx, s.client, sc, so, nil).Err
		})
	}
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "rename", src, err)
	}
	return s.stat(ctx, dst)
}

// SetModTime implements backends.Writer with a POST of the object's
// metadata: no data is copied.
func (s *Store) SetModTime(ctx context.Context, key string, mtime time.Time) (backends.ObjectInfo, error) {
	container, object, ok := splitKey(key)
	if !ok {
		return backends.ObjectInfo{}, &backends.Error{Op: "setmodtime", Remote: s.remote, Key: key, Err: backends.ErrNotSupported}
	}
	if err := s.ready(ctx, "setmodtime", key); err != nil {
		return backends.ObjectInfo{}, err
	}
	err := s.retry(ctx, "setmodtime", key, func() error {
		return objects.Update(ctx, s.client, container, object, objects.UpdateOpts{
			Metadata: map[string]string{mtimeHeaderMeta: backends.FormatMtime(mtime)},
		}).Err
	})
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "setmodtime", key, err)
	}
	return s.stat(ctx, key)
}
