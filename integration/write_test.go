package integration

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestWriteThroughMount writes a small Zarr store and a 200 MiB file into
// a writable versitygw remote with cp -r and rsync -a, and reads every
// object back through the S3 API; a second rsync -a must send nothing. A
// read-only remote beside it refuses writes with EROFS, and a mount whose
// spool is too small answers ENOSPC.
func TestWriteThroughMount(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	need(t, v.CreateBucket(ctx, "inbox"))
	need(t, v.CreateBucket(ctx, "frozen"))
	_, err := v.Put(ctx, "frozen", "f", []byte("read me"))
	need(t, err)

	src := t.TempDir()
	want := writeUploadTree(t, src, 20)
	writable := false
	rw := v.Remote("inbox")
	rw.ReadOnly = &writable
	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Spool: t.TempDir(), SpoolSize: "512MiB"},
		Remotes: map[string]testenv.RemoteConfig{"rw": rw, "ro": v.Remote("frozen")},
	}})
	root := filepath.Join(m.Dir, "rw", "inbox")

	t.Run("cp -r", func(t *testing.T) {
		took := within(t, 2*time.Minute, "cp -r", func() {
			run(t, 2*time.Minute, "cp", "-r", src, filepath.Join(root, "cp"))
		})
		t.Logf("cp -r of %d files (200 MiB in one of them) took %v", len(want), took.Round(time.Millisecond))
		checkUploaded(t, v.S3Endpoint, "inbox", "cp/", want)
	})

	t.Run("rsync -a twice", func(t *testing.T) {
		took := within(t, 2*time.Minute, "rsync", func() {
			run(t, 2*time.Minute, "rsync", "-a", src+"/", filepath.Join(root, "rs")+"/")
		})
		t.Logf("first rsync -a took %v", took.Round(time.Millisecond))
		checkUploaded(t, v.S3Endpoint, "inbox", "rs/", want)
		var out string
		took = within(t, 2*time.Minute, "rsync", func() {
			out = run(t, 2*time.Minute, "rsync", "-a", "--stats", src+"/", filepath.Join(root, "rs")+"/")
		})
		t.Logf("second rsync -a took %v", took.Round(time.Millisecond))
		if !strings.Contains(out, "Number of regular files transferred: 0\n") {
			t.Errorf("second rsync -a transferred files:\n%s", out)
		}
		// A fresh mount knows nothing cached: the mtimes come from the
		// objects' metadata (X-Amz-Meta-Mtime), as rclone writes it.
		head, err := v.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("rs/big.bin")})
		need(t, err)
		if got := head.Metadata["mtime"]; got != "1714979289.000000000" {
			t.Errorf("X-Amz-Meta-Mtime of rs/big.bin = %q, want 1714979289.000000000", got)
		}
		fresh := h.mount(t, mountSpec{cfg: testenv.Config{
			Cache:   testenv.CacheConfig{Spool: t.TempDir()},
			Remotes: map[string]testenv.RemoteConfig{"rw": rw},
		}})
		took = within(t, 2*time.Minute, "rsync", func() {
			out = run(t, 2*time.Minute, "rsync", "-a", "--stats", src+"/", filepath.Join(fresh.Dir, "rw", "inbox", "rs")+"/")
		})
		t.Logf("rsync -a onto a fresh mount took %v", took.Round(time.Millisecond))
		if !strings.Contains(out, "Number of regular files transferred: 0\n") {
			t.Errorf("rsync -a onto a fresh mount transferred files:\n%s", out)
		}
	})

	t.Run("xarray to_zarr onto the mount", func(t *testing.T) {
		need(t, testenv.CheckPython(ctx))
		cmd := exec.CommandContext(ctxTimeout(t, 2*time.Minute), testenv.Python, "-c", toZarrScript, filepath.Join(root, "xr.zarr"))
		cmd.Env = testenv.Env("")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "reopened ok") {
			t.Fatalf("to_zarr onto the mount: %v\n%s", err, out)
		}
		keys, err := v.Keys(ctx, "inbox")
		need(t, err)
		if _, ok := keys["xr.zarr/t2m/.zarray"]; !ok {
			t.Errorf("xr.zarr/t2m/.zarray is not in the bucket")
		}
	})

	t.Run("read-only remote gives EROFS", func(t *testing.T) {
		err := os.WriteFile(filepath.Join(m.Dir, "ro", "frozen", "new"), []byte("x"), 0o644)
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("write on a read-only remote: %v, want EROFS", err)
		}
		if err := os.Remove(filepath.Join(m.Dir, "ro", "frozen", "f")); !errors.Is(err, syscall.EROFS) {
			t.Errorf("unlink on a read-only remote: %v, want EROFS", err)
		}
	})

	t.Run("full spool gives ENOSPC", func(t *testing.T) {
		small := h.mount(t, mountSpec{cfg: testenv.Config{
			Cache:   testenv.CacheConfig{Spool: t.TempDir(), SpoolSize: "1MiB"},
			Remotes: map[string]testenv.RemoteConfig{"rw": rw},
		}})
		err := os.WriteFile(filepath.Join(small.Dir, "rw", "inbox", "toobig"), make([]byte, 3<<20), 0o644)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("write past the spool: %v, want ENOSPC", err)
		}
	})
}

// writeUploadTree writes a small Zarr v2 store (a group, one 2-D array of
// grid×grid chunks) and a 200 MiB file below dir, with mtimes in the past, and
// returns each file's SHA-256 by relative path.
func writeUploadTree(t *testing.T, dir string, grid int) map[string][32]byte {
	t.Helper()
	sums := writeZarrTree(t, dir, grid)
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	big := filepath.Join(dir, "big.bin")
	f, err := os.Create(big)
	need(t, err)
	hash := sha256.New()
	chacha := rand.NewChaCha8([32]byte{1})
	_, err = io.CopyN(io.MultiWriter(f, hash), chacha, 200<<20)
	need(t, err)
	need(t, f.Close())
	need(t, os.Chtimes(big, mtime, mtime))
	sums["big.bin"] = [32]byte(hash.Sum(nil))
	return sums
}

// writeZarrTree writes the Zarr v2 store of writeUploadTree alone.
func writeZarrTree(t *testing.T, dir string, grid int) map[string][32]byte {
	t.Helper()
	files := map[string][]byte{
		"my.zarr/.zgroup":      []byte(`{"zarr_format": 2}`),
		"my.zarr/.zattrs":      []byte(`{"title": "upload test"}`),
		"my.zarr/t2m/.zarray":  []byte(`{"chunks":[10,10],"shape":[200,200],"dtype":"<f8","zarr_format":2,"order":"C","compressor":null,"fill_value":null,"filters":null}`),
		"my.zarr/t2m/.zattrs":  []byte(`{"_ARRAY_DIMENSIONS":["y","x"]}`),
		"my.zarr/empty-marker": {},
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range grid {
		for j := range grid {
			b := make([]byte, 800)
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
			files[fmt.Sprintf("my.zarr/t2m/%d.%d", i, j)] = b
		}
	}
	sums := map[string][32]byte{}
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		need(t, os.MkdirAll(filepath.Dir(p), 0o755))
		need(t, os.WriteFile(p, data, 0o644))
		need(t, os.Chtimes(p, mtime, mtime))
		sums[rel] = sha256.Sum256(data)
	}
	return sums
}

// checkUploaded compares every object below prefix in bucket, read through
// the S3 API, with the local files' hashes; no object may be missing or
// extra.
func checkUploaded(t *testing.T, ep testenv.S3Endpoint, bucket, prefix string, want map[string][32]byte) {
	t.Helper()
	keys, err := ep.Keys(t.Context(), bucket)
	need(t, err)
	got := map[string]bool{}
	for k := range keys {
		if rel, ok := strings.CutPrefix(k, prefix); ok && !strings.HasSuffix(k, "/") {
			got[rel] = true
		}
	}
	for rel, sum := range want {
		if !got[rel] {
			t.Errorf("%s%s: not uploaded", prefix, rel)
			continue
		}
		out, err := ep.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + rel)})
		need(t, err)
		h := sha256.New()
		_, err = io.Copy(h, out.Body)
		out.Body.Close()
		need(t, err)
		if !bytes.Equal(h.Sum(nil), sum[:]) {
			t.Errorf("%s%s: content differs from the local file", prefix, rel)
		}
		delete(got, rel)
	}
	for rel := range got {
		t.Errorf("%s%s: unexpected object (a temporary file left behind?)", prefix, rel)
	}
}

// toZarrScript writes a small dataset with xarray's to_zarr onto the path
// given, twice (the second run replaces the store: rmtree, then writes),
// and opens it again.
const toZarrScript = `
import sys
import numpy as np
import xarray as xr
path = sys.argv[1]
ds = xr.Dataset({"t2m": (("time", "y", "x"), np.arange(4 * 30 * 40, dtype="f4").reshape(4, 30, 40))},
                coords={"time": np.arange(4)})
for _ in range(2):
    ds.to_zarr(path, mode="w", encoding={"t2m": {"chunks": (1, 10, 10)}})
back = xr.open_zarr(path)
assert (back.t2m.values == ds.t2m.values).all()
print("reopened ok")
`

// TestWriteUploadFailsThenResumes: the store goes away while a file is
// open for writing; close reports EIO, nothing is visible, and the spool
// keeps the file. The next mount of the remote (the store back, on a new
// port) uploads it before mounting.
func TestWriteUploadFailsThenResumes(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	dataDir, spool := t.TempDir(), t.TempDir()
	v1, err := testenv.StartVersity(ctx, testenv.VersityOptions{Dir: dataDir})
	need(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = v1.Close()
		}
	})
	need(t, v1.CreateBucket(ctx, "inbox"))
	_, err = v1.Put(ctx, "inbox", "present", []byte("x"))
	need(t, err)
	writable := false
	remote := func(v *testenv.Versity) testenv.RemoteConfig {
		r := v.Remote("inbox")
		r.ReadOnly = &writable
		return r
	}
	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Spool: spool},
		Remotes: map[string]testenv.RemoteConfig{"rw": remote(v1)},
	}})
	f, err := os.Create(filepath.Join(m.Dir, "rw", "inbox", "late.txt"))
	need(t, err)
	_, err = f.WriteString("uploaded by the next mount")
	need(t, err)
	need(t, v1.Close())
	stopped = true
	within(t, time.Minute, "close", func() { err = f.Close() })
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("close with the store gone: %v, want EIO", err)
	}

	v2, err := testenv.StartVersity(ctx, testenv.VersityOptions{Dir: dataDir})
	need(t, err)
	t.Cleanup(func() { _ = v2.Close() })
	keys, err := v2.Keys(ctx, "inbox")
	need(t, err)
	if _, ok := keys["late.txt"]; ok {
		t.Fatalf("late.txt is visible after a failed upload")
	}
	h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Spool: spool},
		Remotes: map[string]testenv.RemoteConfig{"rw": remote(v2)},
	}})
	out, err := v2.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("inbox"), Key: aws.String("late.txt")})
	need(t, err)
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	need(t, err)
	if string(body) != "uploaded by the next mount" {
		t.Errorf("resumed object holds %q", body)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool still holds %d files after the resume", len(left))
	}
}
