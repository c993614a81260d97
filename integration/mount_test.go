package integration

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestMount mounts one versitygw bucket holding the end-to-end fixture and
// checks, through the real mount and with the real tools, that listings
// equal the bucket's keys and that copies are byte-identical. The other
// mount behaviours (read-only, concurrent reads, xarray) share this mount;
// see readers_test.go.
func TestMount(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	const bucket = "data"
	keys := e2eFixture(t, v, bucket)
	ctx := t.Context()
	// A directory marker of an otherwise empty directory, as consoles
	// create them; only the API can make one in versitygw.
	_, err := v.Put(ctx, bucket, "markers/empty-dir/", nil)
	need(t, err)
	keys["markers/empty-dir/"] = 0

	sciLocal := t.TempDir()
	sciErr := testenv.CheckPython(ctx)
	if sciErr == nil {
		need(t, testenv.WriteScience(ctx, sciLocal))
		sci, err := v.WriteTree(bucket, "science/", sciLocal)
		need(t, err)
		maps.Copy(keys, sci)
	}

	m := h.mount(t, mountSpec{cfg: testenv.Config{Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}}})
	root := filepath.Join(m.Dir, "local", bucket)

	t.Run("fixture is what the bucket lists", func(t *testing.T) {
		listed, err := v.Keys(ctx, bucket)
		need(t, err)
		diffSets(t, "ListObjectsV2 vs fixture", listed, keys)
	})

	t.Run("top level shows the remote and its bucket", func(t *testing.T) {
		for dir, want := range map[string][]string{m.Dir: {"local"}, filepath.Join(m.Dir, "local"): {bucket}} {
			got := lsNames(t, dir)
			if !slices.Equal(got, want) {
				t.Errorf("ls %s = %q, want %q", dir, got, want)
			}
		}
	})

	t.Run("find equals the bucket's keys", func(t *testing.T) {
		listed, err := v.Keys(ctx, bucket)
		need(t, err)
		wantFiles, wantDirs := expectTree(listed)
		var gotFiles map[string]int64
		var gotDirs map[string]bool
		took := within(t, 2*time.Minute, "find", func() { gotFiles, gotDirs, err = findTree(t.Context(), root) })
		t.Logf("find over %d files and %d directories took %v", len(gotFiles), len(gotDirs), took.Round(time.Millisecond))
		need(t, err)
		diffSets(t, "find: files (with sizes)", gotFiles, wantFiles)
		diffSets(t, "find: directories", gotDirs, wantDirs)
	})

	t.Run("ls of 5000 keys in one prefix", func(t *testing.T) {
		var want []string
		for k := range keys {
			if name, ok := strings.CutPrefix(k, "many/"); ok {
				want = append(want, name)
			}
		}
		slices.Sort(want)
		got := lsNames(t, filepath.Join(root, "many"))
		if len(got) != manyKeys || !slices.Equal(got, want) {
			t.Errorf("ls many: %d names, want %d; first %q", len(got), len(want), got[:min(3, len(got))])
		}
	})

	t.Run("unicode and special names read back", func(t *testing.T) {
		for _, k := range namesKeys() {
			t.Run(k, func(t *testing.T) {
				got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(k)))
				if err != nil {
					t.Fatal(err)
				}
				if want := testenv.ContentBytes(bucket+"/"+k, keys[k]); string(got) != string(want) {
					t.Errorf("content differs: %d bytes, want %d", len(got), len(want))
				}
			})
		}
	})

	t.Run("cp -r gives identical files", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "tree")
		run(t, 2*time.Minute, "cp", "-r", filepath.Join(root, "tree"), dst)
		checkCopies(t, dst, bucket, "tree/", stripPrefix(treeKeys(), "tree/"))
	})

	t.Run("rsync -a twice: identical files, then nothing to transfer", func(t *testing.T) {
		dst := t.TempDir()
		src := filepath.Join(root, "tree") + "/"
		run(t, 2*time.Minute, "rsync", "-a", src, dst+"/")
		checkCopies(t, dst, bucket, "tree/", stripPrefix(treeKeys(), "tree/"))
		for key := range treeKeys() {
			checkModTime(t, filepath.Join(v.DataDir, bucket, key), filepath.Join(dst, strings.TrimPrefix(key, "tree/")))
		}
		out := run(t, 2*time.Minute, "rsync", "-a", "--itemize-changes", "--stats", src, dst+"/")
		if !strings.Contains(out, "Number of regular files transferred: 0\n") {
			t.Errorf("second rsync -a transferred files:\n%s", out)
		}
		for line := range strings.SplitSeq(out, "\n") {
			if strings.HasPrefix(line, ">f") || strings.HasPrefix(line, "c") {
				t.Errorf("second rsync -a changed %q", line)
			}
		}
	})

	t.Run("16 concurrent readers of one large object", func(t *testing.T) {
		concurrentReaders(t, filepath.Join(root, largeKey), testenv.ContentBytes(bucket+"/"+largeKey, largeSize), 16)
	})

	t.Run("xarray opens Zarr and NetCDF", func(t *testing.T) {
		need(t, sciErr)
		for _, name := range []string{"sample.zarr", "sample.nc"} {
			out, err := testenv.CompareScience(ctxTimeout(t, 2*time.Minute), filepath.Join(root, "science", name), filepath.Join(sciLocal, name))
			if err != nil {
				t.Error(err)
				continue
			}
			t.Logf("%s: %s", name, out)
		}
	})

	t.Run("writes get EROFS", func(t *testing.T) {
		checkReadOnly(t, m.Dir, root, filepath.Join(root, "tree/c/small.txt"), filepath.Join(root, "markers/empty-dir"))
	})
}

// lsNames runs ls -A on dir and returns the names, one per line.
func lsNames(t *testing.T, dir string) []string {
	t.Helper()
	out := run(t, time.Minute, "ls", "-1A", dir)
	return strings.FieldsFunc(out, func(r rune) bool { return r == '\n' })
}

// run runs a command with a timeout, fails the test on error and returns
// its standard output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctxTimeout(t, timeout), name, args...)
	cmd.Env = testenv.Env("")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderrOf(err))
	}
	return string(out)
}

// stripPrefix returns the keys with prefix below it, without the prefix.
func stripPrefix(keys map[string]int64, prefix string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range keys {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

// checkModTime checks that a copy kept the object's last-modified time
// (versitygw reports the data file's mtime), to the second.
func checkModTime(t *testing.T, stored, copied string) {
	t.Helper()
	a, err := os.Stat(stored)
	need(t, err)
	b, err := os.Stat(copied)
	need(t, err)
	if a.ModTime().Unix() != b.ModTime().Unix() {
		t.Errorf("%s: mtime %v, want the object's %v", copied, b.ModTime(), a.ModTime())
	}
}
