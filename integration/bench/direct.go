package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/integration/testenv"
)

// The direct download: what a program that knows it wants the whole object
// does with the SDK. 8 MiB parts is the S3 multipart convention; 16 GETs in
// flight keep the pipe full at 20 ms.
const (
	directPart        = 8 << 20
	directConcurrency = 16
)

// directDownload reads bucket/key (size bytes) with parallel ranged GETs
// into a discarding writer and returns the wall time. Each call has its own
// client and connection pool, so no run inherits warm connections.
func directDownload(ctx context.Context, ep testenv.S3Endpoint, key string, size int64) (time.Duration, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        2 * directConcurrency,
		MaxIdleConnsPerHost: 2 * directConcurrency, // the default (2) would redial most parts
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := s3.New(s3.Options{
		BaseEndpoint:               aws.String(ep.URL),
		Region:                     ep.Region,
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(ep.AccessKey, ep.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Transport: tr},
	})
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(directConcurrency)
	for off := int64(0); off < size; off += directPart {
		end := min(off+directPart, size) - 1
		g.Go(func() error { return getRange(gctx, client, key, off, end) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// getRange GETs bytes off..end (inclusive) and checks the length.
func getRange(ctx context.Context, client *s3.Client, key string, off, end int64) error {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
	})
	if err != nil {
		return fmt.Errorf("direct GET %s bytes %d-%d: %w", key, off, end, err)
	}
	defer out.Body.Close()
	n, err := io.Copy(io.Discard, out.Body)
	if err != nil {
		return fmt.Errorf("direct GET %s bytes %d-%d: %w", key, off, end, err)
	}
	if n != end-off+1 {
		return fmt.Errorf("direct GET %s bytes %d-%d: got %d bytes", key, off, end, n)
	}
	return nil
}
