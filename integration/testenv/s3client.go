package testenv

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Endpoint is where an S3 server listens and how to sign for it.
type S3Endpoint struct {
	URL       string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
}

// Client returns an SDK client for the endpoint: path-style, static keys
// (so the default chain, and with it the EC2 metadata service, is never
// consulted), checksums only when required.
func (e S3Endpoint) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(e.URL),
		Region:                     e.Region,
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(e.AccessKey, e.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Timeout: 2 * time.Minute},
	})
}

// Remote returns an earthmount remote for the endpoint with its keys.
func (e S3Endpoint) Remote(buckets ...string) RemoteConfig {
	return RemoteConfig{
		Type:            "s3",
		Endpoint:        e.URL,
		Region:          e.Region,
		Buckets:         buckets,
		AccessKeyID:     e.AccessKey,
		SecretAccessKey: e.SecretKey,
	}
}

// CreateBucket creates a bucket through the API.
func (e S3Endpoint) CreateBucket(ctx context.Context, bucket string) error {
	_, err := e.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		return fmt.Errorf("create bucket %q at %s: %w", bucket, e.URL, err)
	}
	return nil
}

// Put uploads one object through the API and returns its ETag (hex MD5,
// without quotes).
func (e S3Endpoint) Put(ctx context.Context, bucket, key string, data []byte) (string, error) {
	_, err := e.Client().PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return "", fmt.Errorf("put %s/%s at %s: %w", bucket, key, e.URL, err)
	}
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:]), nil
}

// Keys lists every key of a bucket with its size, through the API.
func (e S3Endpoint) Keys(ctx context.Context, bucket string) (map[string]int64, error) {
	keys := make(map[string]int64)
	p := s3.NewListObjectsV2Paginator(e.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s at %s: %w", bucket, e.URL, err)
		}
		for _, o := range page.Contents {
			keys[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return keys, nil
}

// waitS3 polls ListBuckets until the server answers it, the deadline
// passes, or alive reports that the server has died.
func waitS3(ctx context.Context, e S3Endpoint, timeout time.Duration, alive func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := e.Client()
	var last error
	for {
		if err := alive(); err != nil {
			return err
		}
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.ListBuckets(rctx, &s3.ListBucketsInput{})
		rcancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("S3 at %s not ready after %v: %w", e.URL, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
