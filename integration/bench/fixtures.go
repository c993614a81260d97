package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/earthmount/earthmount/integration/testenv"
)

// The fixture layout, all in one bucket. Content is pseudo-random and
// derived from the keys, so nothing along the way can compress it.
const (
	bucket = "bench"

	bigKey  = "big/1GiB.bin"
	bigSize = 1 << 30

	treePrefix   = "tree/" // (b): treeDirs prefixes of treePerDir keys
	treeDirs     = 200
	treePerDir   = 100
	treeFileSize = 128

	smallPrefix = "small/" // (c): smallFiles files in smallDirs directories
	smallDirs   = 20
	smallFiles  = 2000
	smallMin    = 16 << 10
	smallMax    = 128 << 10
)

// treeEntries is what `find MOUNT/tree` prints: the top, its prefixes and
// every key.
const treeEntries = 1 + treeDirs + treeDirs*treePerDir

// fixtures describes what was written.
type fixtures struct {
	smallBytes int64  // total size of the (c) files
	smallDir   string // the (c) files in versitygw's data directory: the reference copy
}

// writeFixtures creates the bucket through the API and writes every object
// straight into versitygw's data directory with its ETag xattr. Content and
// sizes are derived from the keys (testenv.Content, SizeFor).
func writeFixtures(ctx context.Context, v *testenv.Versity, progress func(string)) (fixtures, error) {
	var fx fixtures
	if err := v.CreateBucket(ctx, bucket); err != nil {
		return fx, err
	}
	progress("writing the 1 GiB object")
	if _, err := v.WriteObjectFrom(bucket, bigKey, testenv.Content(bigKey, bigSize)); err != nil {
		return fx, err
	}
	progress(fmt.Sprintf("writing %d keys in %d prefixes", treeDirs*treePerDir, treeDirs))
	for d := range treeDirs {
		if err := ctx.Err(); err != nil {
			return fx, err
		}
		for k := range treePerDir {
			key := fmt.Sprintf("%sp%03d/k%05d.dat", treePrefix, d, d*treePerDir+k)
			if _, err := v.WriteObject(bucket, key, testenv.ContentBytes(key, treeFileSize)); err != nil {
				return fx, err
			}
		}
	}
	progress(fmt.Sprintf("writing %d files of %d-%d KiB", smallFiles, smallMin>>10, smallMax>>10))
	for i := range smallFiles {
		if err := ctx.Err(); err != nil {
			return fx, err
		}
		key := fmt.Sprintf("%sd%02d/f%04d.bin", smallPrefix, i%smallDirs, i)
		n := testenv.SizeFor(key, smallMin, smallMax)
		if _, err := v.WriteObject(bucket, key, testenv.ContentBytes(key, n)); err != nil {
			return fx, err
		}
		fx.smallBytes += n
	}
	fx.smallDir = filepath.Join(v.DataDir, bucket, filepath.FromSlash(smallPrefix))
	return fx, nil
}
