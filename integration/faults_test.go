package integration

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/faultproxy"
	"github.com/earthmount/earthmount/integration/testenv"
)

// faultRate is the share of requests the fault scenarios make fail.
const faultRate = 0.10

// TestFaultsS3 runs the copy and xarray scenarios through a faultproxy
// in front of versitygw that fails 10% of all requests (listings, HEADs
// and GETs) in the retryable ways: 500, 503 SlowDown, 429, bodies cut
// short, bodies stalling half way (1 s, then cut), and well-framed short
// bodies. Every scenario must give results identical to the source. The
// tree is ~70 MiB (the 2 GiB does not fit CI time).
func TestFaultsS3(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket = "faults"
	need(t, v.CreateBucket(ctx, bucket))
	src := t.TempDir()
	writeFaultTree(t, src)
	pyErr := testenv.CheckPython(ctx)
	if pyErr == nil {
		need(t, testenv.WriteScience(ctx, filepath.Join(src, "science")))
	} else if testenv.InCI() {
		t.Fatal(pyErr)
	}
	_, err := v.WriteTree(bucket, "", src)
	need(t, err)

	p, err := faultproxy.Start(faultproxy.Options{Upstream: v.URL, Rate: faultRate, Stall: time.Second, Seed: 6})
	need(t, err)
	t.Cleanup(func() { p.Close() })
	remote := v.Remote(bucket)
	remote.Endpoint = p.URL

	scenario := func(name string, f func(t *testing.T, root string)) {
		t.Run(name, func(t *testing.T) {
			m := h.mount(t, mountSpec{cfg: testenv.Config{
				Cache:   testenv.CacheConfig{Memory: "64MiB"},
				Remotes: map[string]testenv.RemoteConfig{"faulty": remote},
			}})
			before := p.Stats()
			start := time.Now()
			f(t, filepath.Join(m.Dir, "faulty", bucket))
			wall := time.Since(start)
			after := p.Stats()
			result := "identical"
			if t.Failed() {
				result = "FAILED"
			}
			logClosingNote(t, name+" (S3, 10% faults)", after.Requests-before.Requests, after.Faulted()-before.Faulted(),
				wall, result, peakRSS(m.PID()), strings.Count(readLog(m.LogPath()), "level=WARN"))
		})
	}
	scenario("cp -r", func(t *testing.T, root string) {
		dst := filepath.Join(t.TempDir(), "copy")
		run(t, 5*time.Minute, "cp", "-r", root, dst)
		compareTrees(t, src, dst)
	})
	scenario("rsync -a", func(t *testing.T, root string) {
		dst := t.TempDir()
		run(t, 5*time.Minute, "rsync", "-a", root+"/", dst+"/")
		compareTrees(t, src, dst)
	})
	scenario("xarray reduction", func(t *testing.T, root string) {
		if pyErr != nil {
			t.Skip(pyErr)
		}
		for _, f := range []string{"sample.zarr", "sample.nc"} {
			out, err := testenv.CompareScience(ctxTimeout(t, 3*time.Minute), filepath.Join(src, "science", f), filepath.Join(root, "science", f))
			need(t, err)
			t.Logf("%s: %s", f, out)
		}
	})
}

// writeFaultTree writes ~64 MiB: 12 files of 3-7 MiB and 300 of 1-60 KiB
// in nested directories.
func writeFaultTree(t *testing.T, dir string) {
	t.Helper()
	write := func(rel string, size int64) {
		path := filepath.Join(dir, rel)
		need(t, os.MkdirAll(filepath.Dir(path), 0o755))
		need(t, os.WriteFile(path, testenv.ContentBytes(rel, size), 0o644))
	}
	for i := range 12 {
		rel := fmt.Sprintf("big/part-%02d.bin", i)
		write(rel, testenv.SizeFor(rel, 3<<20, 7<<20))
	}
	for i := range 300 {
		rel := fmt.Sprintf("small/d%d/f%03d.dat", i%10, i)
		write(rel, testenv.SizeFor(rel, 1<<10, 60<<10))
	}
}

// compareTrees fails unless every regular file below want has an
// identical copy below got, and got has no other files.
func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(want, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(want, path)
		seen[rel] = true
		a, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: copy of %d bytes differs from the %d bytes uploaded", rel, len(b), len(a))
		}
		return nil
	})
	need(t, err)
	filepath.WalkDir(got, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if rel, _ := filepath.Rel(got, path); !seen[rel] {
				t.Errorf("%s: in the copy but not in the source", rel)
			}
		}
		return nil
	})
}

// peakRSS returns a process's peak resident set (VmHWM) in bytes, 0 when
// unknown.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// logClosingNote prints one row of the closing-note table.
func logClosingNote(t *testing.T, scenario string, requests, faults int64, wall time.Duration, result string, rss int64, warnings int) {
	t.Logf("closing-note | %s | requests %d | injected faults %d | retry warnings logged %d | wall %v | %s | peak RSS %d MiB",
		scenario, requests, faults, warnings, wall.Round(10*time.Millisecond), result, rss>>20)
}
