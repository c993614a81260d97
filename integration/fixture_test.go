package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/integration/testenv"
)

// Sizes of the end-to-end fixture.
const (
	manyKeys  = 5000     // keys in one prefix: several list pages
	largeSize = 64 << 20 // the object the concurrent readers share
	largeKey  = "large/blob-64MiB.bin"
)

// namesKeys are keys whose names stress escaping: unicode, spaces, URL and
// shell metacharacters, case.
func namesKeys() []string {
	return []string{
		"names/ünïcødé ∂ir/fïlé with spaces.txt",
		"names/日本語/データ.bin",
		"names/emoji 🌍 globe.dat",
		"names/ leading space.txt",
		"names/trailing space .txt",
		"names/special/a+b=c&d?e%20f#g;h,i@j$k!l'm(n)[o]{p}~q.txt",
		"names/special/percent%2Fslash.txt",
		`names/special/back\slash.txt`,
		"names/Case.txt",
		"names/case.txt",
		"names/.hidden",
	}
}

// treeSizes are the files cp and rsync copy: empty, around a page, around
// chunk sizes, and some MiB.
func treeKeys() map[string]int64 {
	return map[string]int64{
		"tree/empty":               0,
		"tree/one-byte":            1,
		"tree/page-1":              4095,
		"tree/page":                4096,
		"tree/page+1":              4097,
		"tree/a/64KiB":             64 << 10,
		"tree/a/1MiB":              1 << 20,
		"tree/a/b/8MiB+3":          8<<20 + 3,
		"tree/a/b/c/odd 17MiB.bin": 17<<20 + 12345,
		"tree/c/small.txt":         123,
		"tree/c/d/e/f/nested.txt":  4321,
	}
}

// e2eFixture writes the end-to-end fixture into bucket straight into
// versitygw's data directory and returns every key with its size. Content
// is testenv.Content(bucket+"/"+key, size).
func e2eFixture(t *testing.T, v *testenv.Versity, bucket string) map[string]int64 {
	t.Helper()
	need(t, v.CreateBucket(t.Context(), bucket))
	keys := map[string]int64{}
	for i := range manyKeys {
		k := fmt.Sprintf("many/f%05d.dat", i)
		keys[k] = testenv.SizeFor(k, 1, 300)
	}
	deep := "deep"
	for i := 1; i <= 20; i++ {
		deep += "/level" + strconv.Itoa(i)
		keys[deep+"/side.txt"] = int64(10 + i)
	}
	keys[deep+"/leaf.txt"] = 100
	for _, k := range namesKeys() {
		keys[k] = testenv.SizeFor(k, 1, 5000)
	}
	maps.Copy(keys, treeKeys())
	keys[largeKey] = largeSize
	for k, size := range keys {
		_, err := v.WriteObjectFrom(bucket, k, testenv.Content(bucket+"/"+k, size))
		need(t, err)
	}
	return keys
}

// expectTree returns the files (with sizes) and directories a mount must
// show for a bucket's keys, by the rules of the brief: every key prefix is
// a directory; a key ending in "/" is a directory marker; a key that is also
// a prefix keeps the directory's name and appears as "NAME~object" unless it
// is empty (then it is a marker); keys with a segment that cannot be a file
// name (empty, ".", "..", over 255 bytes) are not shown from that segment
// on.
func expectTree(keys map[string]int64) (files map[string]int64, dirs map[string]bool) {
	files, dirs = map[string]int64{}, map[string]bool{}
	for k, size := range keys {
		segs := strings.Split(strings.TrimSuffix(k, "/"), "/")
		if bad := slices.IndexFunc(segs, badName); bad >= 0 {
			// The valid segments before the bad one are still directories
			// (their prefixes exist); the bad one and all below are hidden.
			for i := 1; i <= bad; i++ {
				dirs[strings.Join(segs[:i], "/")] = true
			}
			continue
		}
		for i := 1; i < len(segs); i++ {
			dirs[strings.Join(segs[:i], "/")] = true
		}
		if strings.HasSuffix(k, "/") {
			dirs[strings.Join(segs, "/")] = true
			continue
		}
		files[k] = size
	}
	for f, size := range files {
		if dirs[f] {
			delete(files, f)
			if size > 0 {
				files[f+"~object"] = size
			}
		}
	}
	return files, dirs
}

// badName reports whether a key segment cannot be a file name.
func badName(s string) bool {
	return s == "" || s == "." || s == ".." || len(s) > 255 || strings.ContainsRune(s, 0)
}

// findTree runs find(1) under root and returns the files (with sizes) and
// directories it saw, relative to root. It may run outside the test's
// goroutine, so it returns errors instead of failing the test.
func findTree(ctx context.Context, root string) (files map[string]int64, dirs map[string]bool, err error) {
	out, err := exec.CommandContext(ctx, "find", root, "-mindepth", "1", "-printf", `%y\t%s\t%P\0`).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("find %s: %w (%s)", root, err, stderrOf(err))
	}
	files, dirs = map[string]int64{}, map[string]bool{}
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		typ, rest, _ := strings.Cut(rec, "\t")
		size, name, _ := strings.Cut(rest, "\t")
		switch typ {
		case "f":
			n, _ := strconv.ParseInt(size, 10, 64)
			files[name] = n
		case "d":
			dirs[name] = true
		default:
			return nil, nil, fmt.Errorf("find: %q has type %q, want a file or directory", name, typ)
		}
	}
	return files, dirs, nil
}

// diffSets reports the names only in want and only in got, at most a few of
// each, as a test error.
func diffSets[V comparable](t *testing.T, what string, got, want map[string]V) {
	t.Helper()
	var missing, extra, wrong []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case g != w:
			wrong = append(wrong, fmt.Sprintf("%s: got %v, want %v", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(wrong) == 0 {
		return
	}
	short := func(s []string) []string {
		slices.Sort(s)
		if len(s) > 8 {
			return append(s[:8:8], fmt.Sprintf("… %d more", len(s)-8))
		}
		return s
	}
	t.Errorf("%s: %d missing %q; %d unexpected %q; %d differ %q",
		what, len(missing), short(missing), len(extra), short(extra), len(wrong), short(wrong))
}

// sha256Of returns the hex SHA-256 of r's content.
func sha256Of(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkCopies compares every file below dir with the fixture content of
// bucket/prefix+name: same set of files, same SHA-256.
func checkCopies(t *testing.T, dir, bucket, prefix string, want map[string]int64) {
	t.Helper()
	got := map[string]string{}
	wantSums := map[string]string{}
	for name, size := range want {
		sum, err := sha256Of(testenv.Content(bucket+"/"+prefix+name, size))
		need(t, err)
		wantSums[name] = sum
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(dir, path)
		got[filepath.ToSlash(rel)], err = sha256Of(f)
		return err
	})
	need(t, err)
	diffSets(t, "sha256 of copies in "+dir, got, wantSums)
}

// stderrOf returns the stderr an *exec.ExitError captured, if any.
func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
