package integration

import (
	"bytes"
	"fmt"
	"io"
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
// short, bodies stalling half way (1 s, then cut), well-framed short
// bodies and bodies shorter than their Content-Length. Every scenario must
// give results identical to the source. The tree is the 2 GiB
// (EARTHMOUNT_FAULT_TREE sets another size, e.g. 64MiB), written straight
// into versitygw's data directory, which the copies are compared with.
func TestFaultsS3(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket = "faults"
	need(t, v.CreateBucket(ctx, bucket))
	start := time.Now()
	size := writeBigFaultTree(t, v, bucket, faultTreeSize(t))
	src := filepath.Join(v.DataDir, bucket) // the objects are these files
	pyErr := testenv.CheckPython(ctx)
	if pyErr == nil {
		science := t.TempDir()
		need(t, testenv.WriteScience(ctx, science))
		_, err := v.WriteTree(bucket, "science/", science)
		need(t, err)
	} else if testenv.InCI() {
		t.Fatal(pyErr)
	}
	t.Logf("tree of %d MiB written in %v", size>>20, time.Since(start).Round(time.Millisecond))

	p, err := faultproxy.Start(faultproxy.Options{Upstream: v.URL, Rate: faultRate, Stall: time.Second, Seed: 6})
	need(t, err)
	t.Cleanup(func() { p.Close() })
	remote := v.Remote(bucket)
	remote.Endpoint = p.URL

	scenario := func(name string, f func(t *testing.T, root string)) {
		t.Run(name, func(t *testing.T) {
			addr := metricsAddr(t)
			m := h.mount(t, mountSpec{cfg: testenv.Config{
				Cache:   testenv.CacheConfig{Memory: "64MiB"},
				Remotes: map[string]testenv.RemoteConfig{"faulty": remote},
			}, args: []string{"--metrics-addr", addr}})
			before := p.Stats()
			start := time.Now()
			f(t, filepath.Join(m.Dir, "faulty", bucket))
			wall := time.Since(start)
			after := p.Stats()
			result := "identical"
			if t.Failed() {
				result = "FAILED"
			}
			logRetries(t, name+" (S3)", addr, "faulty")
			logClosingNote(t, fmt.Sprintf("%s (S3, %d MiB tree, 10%% faults)", name, size>>20), after.Requests-before.Requests, after.Faulted()-before.Faulted(),
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

// faultTreeSize is the size of the S3 fault tree: EARTHMOUNT_FAULT_TREE
// ("64MiB", "2GiB") or 2 GiB.
func faultTreeSize(t *testing.T) int64 {
	s := os.Getenv("EARTHMOUNT_FAULT_TREE")
	if s == "" {
		return 2 << 30
	}
	n, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			n, unit = v, u.mult
			break
		}
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v <= 0 {
		t.Fatalf("EARTHMOUNT_FAULT_TREE=%q: want a size such as 64MiB or 2GiB", s)
	}
	return v * unit
}

// faultTreeSpec lays out about total bytes: 300 files of 1-60 KiB in ten
// directories and the rest in files of 24-40 MiB (3-7 MiB when total is
// under 256 MiB). It returns each file's size by relative path; a file's
// content is testenv.Content(path, size).
func faultTreeSpec(total int64) (map[string]int64, int64) {
	tree := map[string]int64{}
	var sum int64
	for i := range 300 {
		rel := fmt.Sprintf("small/d%d/f%03d.dat", i%10, i)
		tree[rel] = testenv.SizeFor(rel, 1<<10, 60<<10)
		sum += tree[rel]
	}
	lo, hi := int64(24<<20), int64(40<<20)
	if total < 256<<20 {
		lo, hi = 3<<20, 7<<20
	}
	for i := 0; sum < total; i++ {
		rel := fmt.Sprintf("big/part-%03d.bin", i)
		tree[rel] = min(testenv.SizeFor(rel, lo, hi), max(total-sum, 1<<20))
		sum += tree[rel]
	}
	return tree, sum
}

// writeBigFaultTree streams faultTreeSpec(total) straight into bucket's
// directory of versitygw and returns the bytes written.
func writeBigFaultTree(t *testing.T, v *testenv.Versity, bucket string, total int64) int64 {
	t.Helper()
	tree, sum := faultTreeSpec(total)
	for rel, size := range tree {
		_, err := v.WriteObjectFrom(bucket, rel, testenv.Content(rel, size))
		need(t, err)
	}
	return sum
}

// compareGenerated fails unless dir holds exactly the files of tree, each
// with its generated content.
func compareGenerated(t *testing.T, dir string, tree map[string]int64) {
	t.Helper()
	bufA, bufB := make([]byte, 1<<20), make([]byte, 1<<20)
	for rel, size := range tree {
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		want := testenv.Content(rel, size)
		var off int64
		for {
			n, errA := io.ReadFull(f, bufA)
			m, _ := io.ReadFull(want, bufB[:max(n, 1)])
			if n > 0 && (m != n || !bytes.Equal(bufA[:n], bufB[:n])) {
				t.Errorf("%s: differs from the uploaded content in the MiB at %d", rel, off)
				break
			}
			off += int64(n)
			if errA != nil {
				break
			}
		}
		f.Close()
		if off != size {
			t.Errorf("%s: %d bytes, want %d", rel, off, size)
		}
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if rel, _ := filepath.Rel(dir, path); tree[filepath.ToSlash(rel)] == 0 {
				t.Errorf("%s: in the copy but not uploaded", rel)
			}
		}
		return nil
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
