package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestReplacedDuringRead replaces an object while a program reads it
// through the mount: the reader gets the old bytes or EIO/ESTALE, never a
// mix of the two versions; a new open reads the new version.
func TestReplacedDuringRead(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket, key, size = "replace", "big.bin", 48 << 20
	need(t, v.CreateBucket(ctx, bucket))
	oldData := testenv.ContentBytes("old", size)
	newData := testenv.ContentBytes("new", size)
	_, err := v.Put(ctx, bucket, key, oldData)
	need(t, err)
	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{Memory: "16MiB", ChunkSize: "1MiB"},
		Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)},
	}})
	path := filepath.Join(m.Dir, "local", bucket, key)

	start := time.Now()
	f, err := os.Open(path)
	need(t, err)
	defer f.Close()
	got := make([]byte, 0, size)
	buf := make([]byte, 1<<20)
	n, err := io.ReadFull(f, buf)
	need(t, err)
	got = append(got, buf[:n]...)
	_, err = v.Put(ctx, bucket, key, newData)
	need(t, err)
	var readErr error
	within(t, time.Minute, "reading on after the replacement", func() {
		for {
			n, err := f.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
		}
	})
	switch {
	case !bytes.Equal(got, oldData[:len(got)]):
		i := 0
		for i < len(got) && got[i] == oldData[i] {
			i++
		}
		t.Fatalf("read %d bytes: they differ from the old version from byte %d on (mixed versions)", len(got), i)
	case readErr == nil && len(got) != size:
		t.Fatalf("read %d of %d bytes without an error", len(got), size)
	case readErr != nil && !errors.Is(readErr, syscall.EIO) && !errors.Is(readErr, syscall.ESTALE):
		t.Fatalf("read error %v, want EIO or ESTALE", readErr)
	}
	result := "old bytes, complete"
	if readErr != nil {
		result = "clean error (" + readErr.(*os.PathError).Err.Error() + ") after " + fmt.Sprintf("%.1f MiB", float64(len(got))/(1<<20)) + " of old bytes"
	}
	f.Close()

	// A new open must see the new version (the stale read dropped the
	// cached metadata), within a few tries.
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && bytes.Equal(data, newData) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reopen: %d bytes, %v; want the %d new bytes", len(data), err, size)
		}
		time.Sleep(100 * time.Millisecond)
	}
	logClosingNote(t, "object replaced during a read (S3)", -1, 0, time.Since(start), result, peakRSS(m.PID()),
		strings.Count(readLog(m.LogPath()), "level=WARN"))
}

// TestStoreDownAtMountStart starts the mount while the store is
// unreachable (toxiproxy in front of versitygw, disabled): the mount
// starts, access fails with EIO and a log line naming the remote and the
// endpoint, and once the store is back, access works.
func TestStoreDownAtMountStart(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	tp := startToxiproxy(t)
	ctx := t.Context()
	const bucket = "down"
	need(t, v.CreateBucket(ctx, bucket))
	_, err := v.Put(ctx, bucket, "dir/file.txt", []byte("content\n"))
	need(t, err)
	px, err := tp.Proxy("down", v.URL)
	need(t, err)
	need(t, px.Disable())
	remote := v.Remote(bucket)
	remote.Endpoint = px.URL

	start := time.Now()
	m := h.mount(t, mountSpec{cfg: testenv.Config{
		Cache:   testenv.CacheConfig{NegativeTTL: "1s"},
		Remotes: map[string]testenv.RemoteConfig{"local": remote},
	}})
	path := filepath.Join(m.Dir, "local", bucket, "dir", "file.txt")
	var err1 error
	within(t, 30*time.Second, "stat while the store is down", func() { _, err1 = os.Stat(path) })
	if !errors.Is(err1, syscall.EIO) {
		t.Errorf("stat while the store is down: %v, want EIO", err1)
	}
	hostport := strings.TrimPrefix(px.URL, "http://")
	if line, ok := waitLogLine(m, []string{"local", hostport}, 5*time.Second); ok {
		t.Logf("log: %s", line)
	} else {
		t.Errorf("no log line names the remote and %s", hostport)
	}

	need(t, px.Enable())
	deadline := time.Now().Add(30 * time.Second)
	for {
		var data []byte
		var err error
		within(t, 30*time.Second, "read after the store came back", func() { data, err = os.ReadFile(path) })
		if err == nil && string(data) == "content\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after the store came back: %q, %v", data, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	logClosingNote(t, "store down at mount start, then back (S3)", -1, 0, time.Since(start),
		"EIO while down, recovered", peakRSS(m.PID()), strings.Count(readLog(m.LogPath()), "level=WARN"))
}
