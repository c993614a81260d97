package integration

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/earthmount/earthmount/integration/testenv"
)

// bigWriteEnv runs TestWriteBigFile when set (README, "Writing"): it
// moves 3 GiB four times through the mount and back, several minutes on
// two cores, too long for every CI run.
const bigWriteEnv = "EARTHMOUNT_TEST_BIG_WRITE"

const bigWriteSize = 3 << 30

// writeRandomFile writes size bytes of a seeded ChaCha8 stream to path,
// with an old mtime, and returns its SHA-256.
func writeRandomFile(t *testing.T, path string, size int64, seed byte) [32]byte {
	t.Helper()
	f, err := os.Create(path)
	need(t, err)
	h := sha256.New()
	_, err = io.CopyN(io.MultiWriter(f, h), rand.NewChaCha8([32]byte{seed}), size)
	need(t, err)
	need(t, f.Close())
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	need(t, os.Chtimes(path, mtime, mtime))
	return [32]byte(h.Sum(nil))
}

// hashStream returns the SHA-256 and length of r, read to the end.
func hashStream(t *testing.T, r io.ReadCloser) ([32]byte, int64) {
	t.Helper()
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	need(t, err)
	return [32]byte(h.Sum(nil)), n
}

// TestWriteBigFile copies a 3 GiB file into a writable remote with cp and
// with rsync -a, on versitygw (S3 multipart) and on the real Swift (SLO),
// and reads each object back through the store's own API: the SHA-256
// must match. A second rsync -a sends nothing.
func TestWriteBigFile(t *testing.T) {
	if os.Getenv(bigWriteEnv) == "" {
		t.Skipf("set %s=1 to copy a 3 GiB file through the mount (several minutes)", bigWriteEnv)
	}
	h := newHarness(t)
	src := t.TempDir()
	start := time.Now()
	sum := writeRandomFile(t, filepath.Join(src, "big.bin"), bigWriteSize, 3)
	t.Logf("generated 3 GiB in %v", time.Since(start).Round(time.Millisecond))
	// copyIn runs cp and rsync -a into dir (a directory of the mount) and
	// returns where each put the file, relative to dir.
	copyIn := func(t *testing.T, dir string) []string {
		need(t, os.Mkdir(filepath.Join(dir, "cp"), 0o755))
		for _, c := range []struct {
			name string
			args []string
		}{
			{"cp", []string{"cp", filepath.Join(src, "big.bin"), filepath.Join(dir, "cp", "big.bin")}},
			{"rsync -a", []string{"rsync", "-a", src + "/", filepath.Join(dir, "rs") + "/"}},
		} {
			took := within(t, 5*time.Minute, c.name, func() { run(t, 5*time.Minute, c.args[0], c.args[1:]...) })
			t.Logf("%s of 3 GiB: %v (%.0f MiB/s)", c.name, took.Round(time.Millisecond), float64(bigWriteSize>>20)/took.Seconds())
		}
		var out string
		took := within(t, time.Minute, "rsync", func() {
			out = run(t, time.Minute, "rsync", "-a", "--stats", src+"/", filepath.Join(dir, "rs")+"/")
		})
		t.Logf("second rsync -a: %v", took.Round(time.Millisecond))
		if !strings.Contains(out, "Number of regular files transferred: 0\n") {
			t.Errorf("second rsync -a transferred files:\n%s", out)
		}
		return []string{"cp/big.bin", "rs/big.bin"}
	}
	spool := testenv.CacheConfig{Spool: t.TempDir(), SpoolSize: "8GiB"}

	t.Run("s3", func(t *testing.T) {
		v := startVersity(t, testenv.VersityOptions{})
		need(t, v.CreateBucket(t.Context(), "inbox"))
		writable := false
		rw := v.Remote("inbox")
		rw.ReadOnly = &writable
		m := h.mount(t, mountSpec{cfg: testenv.Config{Cache: spool, Remotes: map[string]testenv.RemoteConfig{"rw": rw}}})
		for _, key := range copyIn(t, filepath.Join(m.Dir, "rw", "inbox")) {
			out, err := v.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key)})
			need(t, err)
			got, n := hashStream(t, out.Body)
			if n != bigWriteSize || !bytes.Equal(got[:], sum[:]) {
				t.Errorf("%s read back through S3: %d bytes, SHA-256 differs: %v", key, n, got != sum)
			}
		}
	})

	t.Run("swift", func(t *testing.T) {
		sw := startSwift(t)
		client, err := sw.SwiftClient(t.Context())
		need(t, err)
		need(t, testenv.CreateContainer(t.Context(), client, "inbox"))
		remote := sw.SwiftRemoteV1("inbox")
		remote["read_only"] = false
		cfgPath := filepath.Join(t.TempDir(), "config.yaml")
		need(t, testenv.WriteRemotes(cfgPath, spool, map[string]map[string]any{"eosc": remote}))
		m := mountConfig(t, h, cfgPath, "")
		for _, key := range copyIn(t, filepath.Join(m.Dir, "eosc", "inbox")) {
			r := objects.Download(t.Context(), client, "inbox", key, nil)
			need(t, r.Err)
			if r.Header.Get("X-Static-Large-Object") != "True" {
				t.Errorf("%s is not a static large object (headers %v)", key, r.Header)
			}
			got, n := hashStream(t, r.Body)
			if n != bigWriteSize || !bytes.Equal(got[:], sum[:]) {
				t.Errorf("%s read back through Swift: %d bytes, SHA-256 differs: %v", key, n, got != sum)
			}
		}
	})
}
