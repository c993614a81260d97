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

// lowerConcurrency GETs in flight: enough to keep the pipe full at 20 ms
// with 4 MB chunks.
const lowerConcurrency = 16

// lowerBound fetches exactly what workload n reads (whole chunk objects,
// NetCDF byte ranges) with lowerConcurrency GETs in flight and returns the
// wall time. Each call has its own connection pool: no run inherits warm
// connections, as no fresh mount does.
func lowerBound(ctx context.Context, ep testenv.S3Endpoint, n need) (time.Duration, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        2 * lowerConcurrency,
		MaxIdleConnsPerHost: 2 * lowerConcurrency, // the default (2) would redial most GETs
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
	g.SetLimit(lowerConcurrency)
	for _, k := range n.Keys {
		g.Go(func() error { return get(gctx, client, k, "") })
	}
	for _, r := range n.Ranges {
		rng := fmt.Sprintf("bytes=%d-%d", r[0], r[0]+r[1]-1)
		g.Go(func() error { return get(gctx, client, "sample.nc", rng) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// get reads one object, or one range of it, to the end and discards it.
func get(ctx context.Context, c *s3.Client, key, rng string) error {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return fmt.Errorf("get %s %s: %w", key, rng, err)
	}
	defer out.Body.Close()
	if _, err := io.Copy(io.Discard, out.Body); err != nil {
		return fmt.Errorf("get %s %s: %w", key, rng, err)
	}
	return nil
}
