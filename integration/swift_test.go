package integration

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends/storetest"
	"github.com/earthmount/earthmount/integration/testenv"
)

// swiftOddKeys are keys a flat object store holds but a directory tree
// cannot show as they are: a key that is also a prefix (shown as
// "NAME~object" beside the directory, or not at all when empty, since it is
// then a directory marker), and keys with segments that are not file names
// (skipped). versitygw stores objects as files, so only Swift can hold them.
func swiftOddKeys() map[string]int64 {
	return map[string]int64{
		"odd/both":              1000, // object and prefix: "both~object" and "both/"
		"odd/both/inside.txt":   10,
		"odd/marker":            0, // empty object and prefix: a directory marker
		"odd/marker/inside.txt": 20,
		"odd/dir-marker/":       0,
		"odd/double//slash":     30,
		"odd/./dot":             40,
		"odd/../dotdot":         50,
		"/leading-slash":        60,
		"odd/ünï cödé/名前.txt":   70,
	}
}

// TestSwiftS3API runs against what CESNET runs: S3 served by OpenStack
// Swift's s3api layer, in one Swift all-in-one (it takes seconds to start):
// the backends.Store contract suite, then a smoke test of the mount.
func TestSwiftS3API(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // explicit keys anyway; never ask 169.254.169.254
	sw := startSwift(t)
	t.Run("contract", func(t *testing.T) {
		runContract(t, sw.S3Endpoint, "swift-s3api", storetest.Capabilities{Buckets: true})
	})
	t.Run("mount", func(t *testing.T) { swiftMount(t, newHarness(t), sw) })
}

// swiftMount mounts one bucket as REMOTE:PATH and checks find, cp -r with
// SHA-256, and how keys that are also prefixes or are not valid names
// appear.
func swiftMount(t *testing.T, h *harness, sw *testenv.Swift) {
	const bucket = "cesnet-data"
	ctx := t.Context()
	need(t, sw.CreateBucket(ctx, bucket))
	keys := treeKeys()
	maps.Copy(keys, swiftOddKeys())
	for k, size := range keys {
		_, err := sw.Put(ctx, bucket, k, testenv.ContentBytes(bucket+"/"+k, size))
		need(t, err)
	}
	m := h.mount(t, mountSpec{
		cfg:    testenv.Config{Remotes: map[string]testenv.RemoteConfig{"cesnet": sw.Remote(bucket)}},
		target: "cesnet:" + bucket,
	})

	t.Run("find equals the bucket's keys", func(t *testing.T) {
		listed, err := sw.Keys(ctx, bucket)
		need(t, err)
		diffSets(t, "ListObjectsV2 vs what was uploaded", listed, keys)
		wantFiles, wantDirs := expectTree(listed)
		for _, f := range []string{"odd/both~object", "odd/both/inside.txt", "odd/marker/inside.txt"} {
			if _, ok := wantFiles[f]; !ok {
				t.Fatalf("expectTree lacks %s: the test's rule is wrong", f)
			}
		}
		var gotFiles map[string]int64
		var gotDirs map[string]bool
		within(t, time.Minute, "find", func() { gotFiles, gotDirs, err = findTree(t.Context(), m.Dir) })
		need(t, err)
		diffSets(t, "find: files (with sizes)", gotFiles, wantFiles)
		diffSets(t, "find: directories", gotDirs, wantDirs)
	})

	t.Run("a key that is also a prefix reads as NAME~object", func(t *testing.T) {
		got, err := os.ReadFile(filepath.Join(m.Dir, "odd/both~object"))
		if err != nil {
			t.Fatal(err)
		}
		if want := testenv.ContentBytes(bucket+"/odd/both", 1000); string(got) != string(want) {
			t.Errorf("odd/both~object: %d bytes differ from the object odd/both", len(got))
		}
	})

	t.Run("cp -r gives identical files", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "tree")
		run(t, 2*time.Minute, "cp", "-r", filepath.Join(m.Dir, "tree"), dst)
		checkCopies(t, dst, bucket, "tree/", stripPrefix(treeKeys(), "tree/"))
	})
}
