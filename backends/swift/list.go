package swift

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/backends"
)

// Listing page sizes: Swift's largest page is 10000 entries; Ceph RGW
// may cap lower, so a short page never means the end, only an empty one.
const (
	defaultListing = 1000
	maxListing     = 10000
)

// listEntry is one item of a JSON account or container listing: an
// object, a pseudo-directory ("subdir") or a container (name only).
type listEntry struct {
	Name         string `json:"name"`
	Subdir       string `json:"subdir"`
	Bytes        int64  `json:"bytes"`
	Hash         string `json:"hash"`
	ContentType  string `json:"content_type"`
	LastModified string `json:"last_modified"`
	SLOETag      string `json:"slo_etag"` // SLO manifests: the ETag a GET returns
}

// List implements backends.Store. At the store root a delimiter listing
// returns the containers as prefixes and a flat listing walks every
// container in turn; below a container it is a container listing.
func (s *Store) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	if req.Prefix != "" && !strings.HasSuffix(req.Prefix, "/") {
		return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Key: req.Prefix,
			Err: errors.New("prefix must be empty or end in /")}
	}
	if req.Delimiter != "" && req.Delimiter != "/" {
		return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Key: req.Prefix,
			Err: fmt.Errorf("delimiter %q: %w", req.Delimiter, backends.ErrNotSupported)}
	}
	if err := s.ready(ctx, "list", req.Prefix); err != nil {
		return backends.ListPage{}, err
	}
	switch {
	case req.Prefix != "":
		container, prefix, _ := strings.Cut(req.Prefix, "/")
		page, _, err := s.listContainer(ctx, req, container, prefix, req.Token)
		return page, err
	case req.Delimiter != "":
		return s.listContainers(ctx, req)
	}
	return s.listRootFlat(ctx, req)
}

// listContainers pages through the container names as prefixes "name/".
// The token is the last prefix returned.
func (s *Store) listContainers(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	names, err := s.containerNames(ctx)
	if err != nil {
		return backends.ListPage{}, err
	}
	var page backends.ListPage
	for _, name := range names {
		p := name + "/"
		if p <= req.Token {
			continue
		}
		if req.Limit > 0 && len(page.Prefixes) == req.Limit {
			page.Next = page.Prefixes[len(page.Prefixes)-1]
			break
		}
		page.Prefixes = append(page.Prefixes, p)
	}
	return page, nil
}

// listRootFlat lists every container in prefix order. Its token is
// "container\n" followed by the marker within that container (container
// names cannot hold a newline). A container that is done moves on to the
// next one within the same call, so pages are empty only at the end.
func (s *Store) listRootFlat(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	names, err := s.containerNames(ctx)
	if err != nil || len(names) == 0 {
		return backends.ListPage{}, err
	}
	i, marker := 0, ""
	if req.Token != "" {
		container, m, ok := strings.Cut(req.Token, "\n")
		if !ok {
			return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Err: errors.New("invalid continuation token")}
		}
		i, _ = slices.BinarySearchFunc(names, container, func(a, b string) int { return strings.Compare(a+"/", b+"/") })
		if i == len(names) || names[i] != container {
			return backends.ListPage{}, s.containerNotExist("list", container+"/", container, nil)
		}
		marker = m
	}
	for ; i < len(names); i, marker = i+1, "" {
		page, last, err := s.listContainer(ctx, req, names[i], "", marker)
		if err != nil {
			return backends.ListPage{}, err
		}
		if last != "" {
			page.Next = names[i] + "\n" + last
			return page, nil
		}
	}
	return backends.ListPage{}, nil
}

// listContainer runs one container listing from marker and maps its names
// back to store keys. It returns the name to continue after, "" when the
// server's page was empty (the end).
func (s *Store) listContainer(ctx context.Context, req backends.ListRequest, container, prefix, marker string) (backends.ListPage, string, error) {
	if err := s.knownContainer("list", req.Prefix, container); err != nil {
		return backends.ListPage{}, "", err
	}
	limit := defaultListing
	if req.Limit > 0 {
		limit = min(req.Limit, maxListing)
	}
	q := url.Values{"format": {"json"}, "limit": {fmt.Sprint(limit)}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if req.Delimiter != "" {
		q.Set("delimiter", req.Delimiter)
	}
	if marker != "" {
		q.Set("marker", marker)
	}
	u := s.containerURL(container, q)
	var entries []listEntry
	err := s.retry(ctx, "list", req.Prefix, func() error {
		entries = nil
		_, err := s.client.Get(ctx, u, &entries, &gophercloud.RequestOpts{OkCodes: []int{200, 204}})
		return err
	})
	if err != nil {
		if statusOf(err) == 404 {
			return backends.ListPage{}, "", s.containerNotExist("list", req.Prefix, container, err)
		}
		return backends.ListPage{}, "", s.fail(ctx, "list", req.Prefix, err)
	}
	if len(entries) == 0 {
		return backends.ListPage{}, "", nil
	}

	var page backends.ListPage
	var empty []int // objects listed with 0 bytes: maybe DLO manifests
	for _, e := range entries {
		switch {
		case e.Subdir != "":
			page.Prefixes = append(page.Prefixes, container+"/"+e.Subdir)
		case e.Name == prefix:
			page.Marker = true // the directory marker of the listed prefix
		default:
			if e.Bytes == 0 && mayBeManifest(e) {
				empty = append(empty, len(page.Objects))
			}
			page.Objects = append(page.Objects, backends.ObjectInfo{
				Key:     container + "/" + e.Name,
				Size:    e.Bytes,
				ModTime: parseListingTime(e.LastModified),
				Version: listingVersion(e),
			})
		}
	}
	last := entries[len(entries)-1]
	next := last.Name
	if last.Subdir != "" {
		next = last.Subdir
	}
	page.Objects, err = s.resolveEmpty(ctx, req.Prefix, page.Objects, empty)
	if err != nil {
		return backends.ListPage{}, "", err
	}
	page.Next = next
	return page, next, nil
}

// mayBeManifest tells whether a 0-byte listing entry could be a DLO
// manifest: directory markers are not.
func mayBeManifest(e listEntry) bool {
	ct, _, _ := strings.Cut(e.ContentType, ";")
	return !strings.HasSuffix(e.Name, "/") && ct != "application/directory" && ct != "application/x-directory"
}

// resolveEmpty HEADs the objects at the given indexes (0-byte entries) and
// puts in what the HEAD says, so that DLO manifests show their whole size
// and the ETag a GET returns. Objects gone since the listing are dropped.
func (s *Store) resolveEmpty(ctx context.Context, key string, objs []backends.ObjectInfo, idx []int) ([]backends.ObjectInfo, error) {
	if len(idx) == 0 {
		return objs, nil
	}
	gone := make([]bool, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(headParallel)
	for _, i := range idx {
		g.Go(func() error {
			info, err := s.stat(gctx, objs[i].Key)
			switch {
			case errors.Is(err, backends.ErrNotExist):
				gone[i] = true
				return nil
			case err != nil:
				return err
			}
			objs[i] = info
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, s.fail(ctx, "list", key, ctx.Err())
		}
		return nil, err
	}
	out := objs[:0]
	for i, o := range objs {
		if !gone[i] {
			out = append(out, o)
		}
	}
	return out, nil
}

// listingVersion is the Version of a listed object: an SLO's slo_etag
// (what GET and HEAD return as ETag), else its hash. Both without quotes
// and without any "; param" a middleware left in the hash.
func listingVersion(e listEntry) string {
	v := e.Hash
	if e.SLOETag != "" {
		v = e.SLOETag
	}
	v, _, _ = strings.Cut(v, ";")
	return trimETag(strings.TrimSpace(v))
}

// parseListingTime parses last_modified: Swift sends UTC without a zone
// and with microseconds ("2026-11-23T12:52:59.560270"); Ceph RGW may add
// a zone. The zero time when it cannot be parsed.
func parseListingTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// trimETag turns an ETag header or field into a Version.
func trimETag(etag string) string { return strings.Trim(etag, `"`) }
