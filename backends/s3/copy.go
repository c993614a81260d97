package s3

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/earthmount/earthmount/backends"
)

// Server-side copies (rename, mtime change). CopyObject takes objects up
// to 5 GiB; a bigger one is copied as a multipart upload of UploadPartCopy
// parts, copyPartConcurrency at a time, each pinned to the source's ETag
// so that a source replaced mid-copy fails the copy instead of mixing
// versions.
const (
	// copyPartSize is the part of a multipart copy: the bytes stay on the
	// server, so parts may be large. They grow for objects over 2.5 TiB
	// (10,000 parts at most), and shrink to CopyLimit when tests lower it.
	copyPartSize        = 256 << 20
	copyPartConcurrency = 4
)

// copyPartsFor returns the part size of a multipart copy of size bytes: at
// most limit, at least 5 MiB (S3's smallest part), few enough for S3's
// 10,000 parts.
func copyPartsFor(size, limit int64) int64 {
	p := max(min(copyPartSize, limit), (size+maxParts-1)/maxParts, 5<<20)
	return min(p, limit)
}

// Rename implements backends.Writer: a server-side copy, then a delete of
// src.
func (s *Store) Rename(ctx context.Context, src, dst string) (backends.ObjectInfo, error) {
	info, err := s.copyObject(ctx, "rename", src, dst, nil)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := s.Remove(ctx, src); err != nil {
		return backends.ObjectInfo{}, err
	}
	return info, nil
}

// SetModTime implements backends.Writer by copying the object onto itself
// with the new metadata: the content is not sent again.
func (s *Store) SetModTime(ctx context.Context, key string, mtime time.Time) (backends.ObjectInfo, error) {
	return s.copyObject(ctx, "setmodtime", key, key, map[string]string{backends.MtimeMeta: backends.FormatMtime(mtime)})
}

// copySource is the x-amz-copy-source of bucket/object.
func copySource(bucket, object string) string {
	return url.PathEscape(bucket) + "/" + strings.ReplaceAll(url.PathEscape(object), "%2F", "/")
}

// copyObject copies src to dst, keeping the metadata, or replacing it
// with meta when meta is set. A HEAD of src first gives its size (which
// copy can be used), metadata and ETag; the result needs no HEAD after.
func (s *Store) copyObject(ctx context.Context, op, src, dst string, meta map[string]string) (backends.ObjectInfo, error) {
	sb, so, ok1 := splitKey(src)
	db, do, ok2 := splitKey(dst)
	if !ok1 || !ok2 {
		return backends.ObjectInfo{}, &backends.Error{Op: op, Remote: s.remote, Key: src, Err: backends.ErrNotSupported}
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(sb), Key: aws.String(so)})
	if err != nil {
		return backends.ObjectInfo{}, s.fail(ctx, op, src, err)
	}
	size := aws.ToInt64(head.ContentLength)
	info := backends.ObjectInfo{Key: dst, Size: size, ModTime: modTime(head.Metadata, head.LastModified)}
	if meta != nil {
		info.ModTime = modTime(meta, head.LastModified)
	}
	var etag string
	if size <= s.copyLimit {
		in := &s3.CopyObjectInput{
			Bucket: aws.String(db), Key: aws.String(do), CopySource: aws.String(copySource(sb, so)),
			CopySourceIfMatch: head.ETag, MetadataDirective: types.MetadataDirectiveCopy,
		}
		if meta != nil {
			in.MetadataDirective, in.Metadata, in.ContentType = types.MetadataDirectiveReplace, meta, head.ContentType
		}
		out, err := s.client.CopyObject(ctx, in)
		if err != nil {
			return backends.ObjectInfo{}, s.fail(ctx, op, src, err)
		}
		if out.CopyObjectResult != nil {
			etag = trimETag(aws.ToString(out.CopyObjectResult.ETag))
		}
	} else {
		if meta == nil {
			meta = head.Metadata
		}
		etag, err = s.multipartCopy(ctx, sb, so, db, do, head, meta)
		if err != nil {
			return backends.ObjectInfo{}, s.fail(ctx, op, src, err)
		}
	}
	if etag == "" {
		return s.Stat(ctx, dst) // a server that does not say
	}
	info.Version = etag
	return info, nil
}

// multipartCopy copies an object bigger than copyLimit in parts.
func (s *Store) multipartCopy(ctx context.Context, sb, so, db, do string, head *s3.HeadObjectOutput, meta map[string]string) (string, error) {
	size := aws.ToInt64(head.ContentLength)
	create := &s3.CreateMultipartUploadInput{Bucket: aws.String(db), Key: aws.String(do), Metadata: meta, ContentType: head.ContentType}
	return s.runMultipart(ctx, create, size, copyPartsFor(size, s.copyLimit), copyPartConcurrency, func(ctx context.Context, id *string, num *int32, off, length int64) (*string, error) {
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String(db), Key: aws.String(do), UploadId: id, PartNumber: num,
			CopySource: aws.String(copySource(sb, so)), CopySourceIfMatch: head.ETag,
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1)),
		})
		if err != nil {
			return nil, err
		}
		if out.CopyPartResult == nil {
			return nil, fmt.Errorf("part %d: no ETag in the copy result", aws.ToInt32(num))
		}
		return out.CopyPartResult.ETag, nil
	})
}

// abort ends a failed multipart upload or copy, even when the caller gave
// up: its parts cost storage.
func (s *Store) abort(ctx context.Context, bucket, object string, id *string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(object), UploadId: id,
	}); err != nil {
		s.log.Warn("could not abort a failed multipart upload; its parts stay until a lifecycle rule removes them",
			"bucket", bucket, "key", object, "err", err)
	}
}
