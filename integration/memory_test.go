package integration

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// The budget both memory scenarios mount with, and the overhead the issue
// allows on top of it.
const (
	memBudget   = 256 << 20
	memOverhead = 100 << 20
)

// TestMemoryBoundedManyOpenFiles opens 1,000 files at once through the
// mount, reads all of them concurrently while they stay open, and checks
// that earthmount's peak RSS stays within the budget plus 100 MiB.
func TestMemoryBoundedManyOpenFiles(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket, files, size = "many", 1000, 1 << 20
	need(t, v.CreateBucket(ctx, bucket))
	sums := make([]string, files)
	for i := range files {
		etag, err := v.WriteObjectFrom(bucket, fmt.Sprintf("f%04d.bin", i), testenv.Content(fmt.Sprint("many", i), size))
		need(t, err)
		sums[i] = etag
	}
	m := h.mount(t, mountSpec{
		cfg:  testenv.Config{Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}},
		args: []string{"--cache-memory", "256MiB"},
	})
	dir := filepath.Join(m.Dir, "local", bucket)

	open := make([]*os.File, files)
	for i := range files {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("f%04d.bin", i)))
		need(t, err)
		open[i] = f
	}
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, files)
	sem := make(chan struct{}, 64) // 64 readers at a time over the 1,000 open files
	within(t, 2*time.Minute, "reading 1,000 open files", func() {
		for i, f := range open {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				h := md5.New()
				if _, err := io.Copy(h, f); err != nil {
					errs <- fmt.Errorf("f%04d: %w", i, err)
					return
				}
				if got := hex.EncodeToString(h.Sum(nil)); got != sums[i] {
					errs <- fmt.Errorf("f%04d: md5 %s, want %s", i, got, sums[i])
				}
			}()
		}
		wg.Wait()
	})
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkPeakRSS(t, m.PID(), "1,000 open files")
}

// TestMemoryBoundedStreamingRead streams a 10 GiB object through the mount
// and checks the bytes (MD5 against the ETag) and earthmount's peak RSS.
func TestMemoryBoundedStreamingRead(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket, key, size = "stream", "ten.bin", 10 << 30
	need(t, v.CreateBucket(ctx, bucket))
	etag, err := v.WriteObjectFrom(bucket, key, testenv.Content("ten", size))
	need(t, err)
	m := h.mount(t, mountSpec{
		cfg:  testenv.Config{Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}},
		args: []string{"--cache-memory", "256MiB"},
	})
	f, err := os.Open(filepath.Join(m.Dir, "local", bucket, key))
	need(t, err)
	defer f.Close()
	hash := md5.New()
	var n int64
	took := within(t, 5*time.Minute, "streaming 10 GiB", func() {
		n, err = io.Copy(hash, f)
	})
	need(t, err)
	if n != size || hex.EncodeToString(hash.Sum(nil)) != etag {
		t.Fatalf("read %d bytes with md5 %x, want %d bytes with md5 %s", n, hash.Sum(nil), int64(size), etag)
	}
	t.Logf("10 GiB streamed in %v (%.0f MB/s)", took.Round(time.Millisecond), float64(size)/took.Seconds()/1e6)
	checkPeakRSS(t, m.PID(), "10 GiB streaming read")
}

// checkPeakRSS fails the test when earthmount's resident high-water mark
// exceeds the budget plus the allowed overhead, and logs it either way.
func checkPeakRSS(t *testing.T, pid int, what string) {
	t.Helper()
	rss, err := testenv.PeakRSS(pid)
	need(t, err)
	t.Logf("%s: peak RSS %d MiB (budget %d MiB + %d MiB)", what, rss>>20, memBudget>>20, memOverhead>>20)
	if rss > memBudget+memOverhead {
		t.Errorf("%s: peak RSS %d MiB exceeds the budget %d MiB + %d MiB", what, rss>>20, memBudget>>20, memOverhead>>20)
	}
}
