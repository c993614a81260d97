package s3

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/backends"
)

// Upload limits. One PutObject below the threshold; above it a multipart
// upload whose parts grow with the file so that S3's 10,000-part limit
// still covers its 5 TiB object limit (5 TiB / 10,000 is 525 MiB).
const (
	multipartThreshold = 16 << 20
	minPartSize        = 8 << 20
	maxParts           = 10_000
	partConcurrency    = 8
)

var _ backends.Writer = (*Store)(nil)

// partSize returns the part size for an object of size bytes: a multiple
// of 1 MiB, at least minPartSize, at most maxParts parts.
func partSize(size int64) int64 {
	p := (size + maxParts - 1) / maxParts
	p = (p + 1<<20 - 1) &^ (1<<20 - 1)
	return max(p, minPartSize)
}

// Upload implements backends.Writer with PutObject, or a multipart upload
// of partConcurrency parts at a time above multipartThreshold. Bodies are
// section readers, so the SDK can rewind them for a retry.
func (s *Store) Upload(ctx context.Context, key string, body io.ReaderAt, size int64, mtime time.Time) (backends.ObjectInfo, error) {
	bucket, object, ok := splitKey(key)
	if !ok {
		return backends.ObjectInfo{}, &backends.Error{Op: "upload", Remote: s.remote, Key: key, Err: backends.ErrNotSupported, Hint: "files go inside a bucket"}
	}
	meta := map[string]string{backends.MtimeMeta: backends.FormatMtime(mtime)}
	if size < multipartThreshold {
		out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(object), Metadata: meta,
			Body: io.NewSectionReader(body, 0, size), ContentLength: aws.Int64(size),
		})
		if err != nil {
			return backends.ObjectInfo{}, s.fail(ctx, "upload", key, err)
		}
		return backends.ObjectInfo{Key: key, Size: size, ModTime: mtime, Version: trimETag(aws.ToString(out.ETag))}, nil
	}
	etag, err := s.multipart(ctx, bucket, object, body, size, meta)
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, "upload", key, err)
	}
	return backends.ObjectInfo{Key: key, Size: size, ModTime: mtime, Version: etag}, nil
}

// multipart uploads body in parts and completes the upload, or aborts it
// so that no parts are left behind to be billed.
func (s *Store) multipart(ctx context.Context, bucket, object string, body io.ReaderAt, size int64, meta map[string]string) (string, error) {
	psize := partSize(size)
	create := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(object), Metadata: meta}
	return s.runMultipart(ctx, create, size, psize, partConcurrency, func(ctx context.Context, id *string, num *int32, off, length int64) (*string, error) {
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(object), UploadId: id, PartNumber: num,
			Body: io.NewSectionReader(body, off, length), ContentLength: aws.Int64(length),
		})
		if err != nil {
			return nil, err
		}
		return out.ETag, nil
	})
}

// partFunc sends part num ([off, off+length) of the object) of multipart
// upload id and returns the part's ETag.
type partFunc func(ctx context.Context, id *string, num *int32, off, length int64) (*string, error)

// runMultipart creates the multipart upload, sends the parts of psize
// bytes of a size-byte object conc at a time with part, and completes it.
// On any failure it aborts the upload: its parts cost storage.
func (s *Store) runMultipart(ctx context.Context, create *s3.CreateMultipartUploadInput, size, psize int64, conc int, part partFunc) (string, error) {
	created, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return "", err
	}
	id := created.UploadId
	n := int((size + psize - 1) / psize)
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range n {
		g.Go(func() error {
			off := int64(i) * psize
			num := aws.Int32(int32(i + 1))
			etag, err := part(gctx, id, num, off, min(psize, size-off))
			if err != nil {
				return err
			}
			parts[i] = types.CompletedPart{ETag: etag, PartNumber: num}
			return nil
		})
	}
	err = g.Wait()
	if err == nil {
		var out *s3.CompleteMultipartUploadOutput
		out, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: create.Bucket, Key: create.Key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err == nil {
			return trimETag(aws.ToString(out.ETag)), nil
		}
	}
	s.abort(ctx, aws.ToString(create.Bucket), aws.ToString(create.Key), id)
	return "", err
}

// Remove implements backends.Writer with DeleteObject.
func (s *Store) Remove(ctx context.Context, key string) error {
	bucket, object, ok := splitKey(key)
	if !ok {
		return &backends.Error{Op: "remove", Remote: s.remote, Key: key, Err: backends.ErrNotSupported}
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(object)})
	if code, status := errorCode(err); err != nil && (code == "NoSuchKey" || (status == 404 && code != "NoSuchBucket")) {
		return nil // S3 answers 204 for a missing key; some servers 404
	}
	if err != nil {
		return s.fail(ctx, "remove", key, err)
	}
	return nil
}

// modTime is the object's mtime metadata when it has one (written by
// earthmount or rclone), else the store's LastModified.
func modTime(meta map[string]string, lastModified *time.Time) time.Time {
	for k, v := range meta {
		if strings.EqualFold(k, backends.MtimeMeta) {
			if t, ok := backends.ParseMtime(v); ok {
				return t
			}
		}
	}
	return aws.ToTime(lastModified)
}
