package s3

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/backends"
)

// maxKeys is S3's largest page.
const maxKeys = 1000

// maxBucketPages bounds ListBuckets pagination against a server that
// keeps returning continuation tokens.
const maxBucketPages = 100

// List implements backends.Store. At the store root, a delimiter listing
// returns the buckets as prefixes and a flat listing walks every bucket in
// turn; below a bucket it is ListObjectsV2.
func (s *Store) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	if req.Prefix != "" && !strings.HasSuffix(req.Prefix, "/") {
		return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Key: req.Prefix,
			Err: errors.New("prefix must be empty or end in /")}
	}
	if req.Delimiter != "" && req.Delimiter != "/" {
		return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Key: req.Prefix,
			Err: fmt.Errorf("delimiter %q: %w", req.Delimiter, backends.ErrNotSupported)}
	}
	switch {
	case req.Prefix != "":
		bucket, prefix, _ := strings.Cut(req.Prefix, "/")
		return s.listBucket(ctx, req, bucket, prefix, req.Token)
	case req.Delimiter != "":
		return s.listBuckets(ctx, req)
	}
	return s.listRootFlat(ctx, req)
}

// listBuckets pages through the bucket names as prefixes "name/". The
// token is the last prefix returned.
func (s *Store) listBuckets(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	names, err := s.bucketNames(ctx)
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

// listRootFlat lists one page of one bucket at a time. Its token is
// "bucket\n" followed by that bucket's continuation token; bucket names
// cannot contain a newline.
func (s *Store) listRootFlat(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	names, err := s.bucketNames(ctx)
	if err != nil || len(names) == 0 {
		return backends.ListPage{}, err
	}
	bucket, token := names[0], ""
	if req.Token != "" {
		var ok bool
		if bucket, token, ok = strings.Cut(req.Token, "\n"); !ok {
			return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Err: errors.New("invalid continuation token")}
		}
	}
	page, err := s.listBucket(ctx, req, bucket, "", token)
	if err != nil {
		return backends.ListPage{}, err
	}
	if page.Next != "" {
		page.Next = bucket + "\n" + page.Next
		return page, nil
	}
	// Buckets are walked in prefix order, so that keys stay in order
	// across buckets.
	i, _ := slices.BinarySearchFunc(names, bucket, func(a, b string) int { return strings.Compare(a+"/", b+"/") })
	if i < len(names) && names[i] == bucket {
		i++
	}
	if i < len(names) {
		page.Next = names[i] + "\n"
	}
	return page, nil
}

// bucketNames returns the configured buckets, or asks the server, in the
// order of their prefixes.
func (s *Store) bucketNames(ctx context.Context) ([]string, error) {
	if s.buckets != nil {
		return s.buckets, nil
	}
	var names []string
	in := &s3.ListBucketsInput{}
	for range maxBucketPages {
		out, err := s.client.ListBuckets(ctx, in)
		if err != nil {
			return nil, s.fail(ctx, "list", "", err)
		}
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
		if aws.ToString(out.ContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	return sortBuckets(names), nil
}

// listBucket runs one ListObjectsV2 and maps its keys back to store keys.
func (s *Store) listBucket(ctx context.Context, req backends.ListRequest, bucket, prefix, token string) (backends.ListPage, error) {
	if s.buckets != nil && !slices.Contains(s.buckets, bucket) {
		return backends.ListPage{}, s.bucketNotExist("list", req.Prefix, bucket, nil)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if req.Delimiter != "" {
		in.Delimiter = aws.String(req.Delimiter)
	}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	if req.Limit > 0 {
		in.MaxKeys = aws.Int32(int32(min(req.Limit, maxKeys)))
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		if code, _ := errorCode(err); code == "NoSuchBucket" {
			return backends.ListPage{}, s.bucketNotExist("list", req.Prefix, bucket, err)
		}
		return backends.ListPage{}, s.fail(ctx, "list", req.Prefix, err)
	}

	var page backends.ListPage
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		if key == prefix {
			page.Marker = true // the directory marker of the listed prefix
			continue
		}
		page.Objects = append(page.Objects, backends.ObjectInfo{
			Key:     bucket + "/" + key,
			Size:    aws.ToInt64(o.Size),
			ModTime: aws.ToTime(o.LastModified),
			Version: trimETag(aws.ToString(o.ETag)),
		})
	}
	for _, p := range out.CommonPrefixes {
		page.Prefixes = append(page.Prefixes, bucket+"/"+aws.ToString(p.Prefix))
	}
	if aws.ToBool(out.IsTruncated) {
		page.Next = aws.ToString(out.NextContinuationToken)
		if page.Next == "" {
			return backends.ListPage{}, &backends.Error{Op: "list", Remote: s.remote, Key: req.Prefix,
				Err: backends.Kind(backends.ErrUnavailable, errors.New("server reported a truncated listing without a continuation token"))}
		}
	}
	return page, nil
}

// trimETag turns an ETag header or field into a Version.
func trimETag(etag string) string { return strings.Trim(etag, `"`) }
