package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/integration/testenv"
)

// need is what one workload reads: whole chunk objects (Zarr) or byte
// ranges of sample.nc, merged where they touch.
type need struct {
	Keys   []string   `json:"keys"`
	Ranges [][2]int64 `json:"ranges"`
	bytes  int64
}

// writeFixtures writes the store and the NetCDF file with Python, copies
// them into versitygw's data directory, makes the bucket public-read for
// fsspec, and records what each workload reads from the local copy.
func (b *bench) writeFixtures(ctx context.Context) error {
	local := filepath.Join(b.work, "local")
	b.progress(fmt.Sprintf("writing the fixtures (%d time steps)", b.opts.steps))
	if out, err := exec.CommandContext(ctx, testenv.Python, "-c", script, "write", local, strconv.Itoa(b.opts.steps)).CombinedOutput(); err != nil {
		return fmt.Errorf("writing fixtures: %w\n%s", err, out)
	}
	if err := b.versity.CreateBucket(ctx, bucket); err != nil {
		return err
	}
	keys, err := b.versity.WriteTree(bucket, "", local)
	if err != nil {
		return err
	}
	for k, n := range keys {
		if k != "sample.nc" {
			b.zarrBytes += n
		}
	}
	if err := b.publicRead(ctx); err != nil {
		return err
	}
	b.progress("recording the chunk objects and byte ranges each workload reads")
	out, err := exec.CommandContext(ctx, testenv.Python, "-c", script, "keys", local).Output()
	if err != nil {
		return fmt.Errorf("recording reads: %w", err)
	}
	if err := json.Unmarshal(out, &b.needs); err != nil {
		return fmt.Errorf("recording reads: %w", err)
	}
	for w, n := range b.needs {
		n.Ranges = mergeRanges(n.Ranges)
		for _, k := range n.Keys {
			n.bytes += keys[k]
		}
		for _, r := range n.Ranges {
			n.bytes += r[1]
		}
		b.needs[w] = n
	}
	return nil
}

// publicRead lets anonymous clients GET objects and list the bucket, as
// on OSN's public buckets, so that fsspec's HTTP filesystem can read it.
func (b *bench) publicRead(ctx context.Context) error {
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",`+
		`"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::%[1]s","arn:aws:s3:::%[1]s/*"]}]}`, bucket)
	_, err := b.versity.Client().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(bucket), Policy: aws.String(policy),
	})
	if err != nil {
		return fmt.Errorf("public-read policy on %s: %w", bucket, err)
	}
	return nil
}

// mergeRanges sorts [offset, length] pairs and joins overlapping or
// adjacent ones: the lower bound fetches each byte once.
func mergeRanges(rs [][2]int64) [][2]int64 {
	slices.SortFunc(rs, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	var out [][2]int64
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][0]+out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[0]+r[1]-out[n-1][0])
			continue
		}
		out = append(out, r)
	}
	return out
}
