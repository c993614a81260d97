package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/integration/testenv"
)

// swiftNativeMount mounts the Swift account through earthmount as a
// `type: swift` remote with v1 (tempauth) login and checks, with the real
// tools, that the containers show up, that find equals the container's
// keys, that cp -r and rsync -a give byte-identical files with the
// objects' times, and that SLO and DLO objects read as one file of their
// whole size.
func swiftNativeMount(t *testing.T, sw *testenv.Swift, client *gophercloud.ServiceClient) {
	const container, segs = "mnt-data", "mnt-data_segments"
	ctx := t.Context()
	h := newHarness(t)
	need(t, testenv.CreateContainer(ctx, client, container))
	need(t, testenv.CreateContainer(ctx, client, segs))
	keys := treeKeys()
	for k, size := range keys {
		_, err := testenv.PutSwift(ctx, client, container, k, testenv.ContentBytes(container+"/"+k, size))
		need(t, err)
	}
	large := map[string][][]byte{
		"large/slo.bin":      segmentsOf("mnt-slo", 3<<20+1, 5<<20, 77),
		"large/dlo/dlo.bin":  segmentsOf("mnt-dlo", 2<<20, 1, 6<<20+9),
		"large/dlo/empty.nc": nil, // a real empty object beside the DLO
	}
	need(t, testenv.PutSLO(ctx, client, container, "large/slo.bin", segs, large["large/slo.bin"]))
	need(t, testenv.PutDLO(ctx, client, container, "large/dlo/dlo.bin", segs, large["large/dlo/dlo.bin"]))
	_, err := testenv.PutSwift(ctx, client, container, "large/dlo/empty.nc", nil)
	need(t, err)
	for k, s := range large {
		keys[k] = int64(len(bytes.Join(s, nil)))
	}

	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	need(t, testenv.WriteRemotes(cfgPath, testenv.CacheConfig{}, map[string]map[string]any{"eosc": sw.SwiftRemoteV1()}))
	m := mountConfig(t, h, cfgPath, "")
	root := filepath.Join(m.Dir, "eosc", container)

	t.Run("the account's containers are directories", func(t *testing.T) {
		got := lsNames(t, filepath.Join(m.Dir, "eosc"))
		for _, c := range []string{container, segs} {
			if !slices.Contains(got, c) {
				t.Errorf("ls eosc = %q, want it to hold %q", got, c)
			}
		}
	})

	t.Run("find equals the container's keys", func(t *testing.T) {
		wantFiles, wantDirs := expectTree(keys)
		var gotFiles map[string]int64
		var gotDirs map[string]bool
		within(t, time.Minute, "find", func() { gotFiles, gotDirs, err = findTree(t.Context(), root) })
		need(t, err)
		diffSets(t, "find: files (with sizes)", gotFiles, wantFiles)
		diffSets(t, "find: directories", gotDirs, wantDirs)
	})

	t.Run("cp -r gives identical files", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "tree")
		run(t, 2*time.Minute, "cp", "-r", filepath.Join(root, "tree"), dst)
		checkCopies(t, dst, container, "tree/", stripPrefix(treeKeys(), "tree/"))
	})

	t.Run("rsync -a twice: identical files and times, then nothing to transfer", func(t *testing.T) {
		dst := t.TempDir()
		src := filepath.Join(root, "tree") + "/"
		run(t, 2*time.Minute, "rsync", "-a", src, dst+"/")
		checkCopies(t, dst, container, "tree/", stripPrefix(treeKeys(), "tree/"))
		st := newSwiftStore(t, client, nil)
		for key := range treeKeys() {
			info, err := st.Stat(ctx, container+"/"+key)
			need(t, err)
			fi, err := os.Stat(filepath.Join(dst, strings.TrimPrefix(key, "tree/")))
			need(t, err)
			if fi.ModTime().Unix() != info.ModTime.Unix() {
				t.Errorf("%s: mtime %v, want the object's %v", key, fi.ModTime(), info.ModTime)
			}
		}
		out := run(t, 2*time.Minute, "rsync", "-a", "--stats", src, dst+"/")
		if !strings.Contains(out, "Number of regular files transferred: 0\n") {
			t.Errorf("second rsync -a transferred files:\n%s", out)
		}
	})

	t.Run("SLO and DLO read as one file", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "large")
		run(t, 2*time.Minute, "cp", "-r", filepath.Join(root, "large"), dst)
		for k, s := range large {
			want := bytes.Join(s, nil)
			got, err := os.ReadFile(filepath.Join(dst, strings.TrimPrefix(k, "large/")))
			need(t, err)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: copy of %d bytes differs from the %d bytes uploaded", k, len(got), len(want))
			}
		}
		// A read across a segment boundary straight from the mount.
		k := "large/dlo/dlo.bin"
		want := bytes.Join(large[k], nil)
		f, err := os.Open(filepath.Join(root, k))
		need(t, err)
		defer f.Close()
		p := make([]byte, 4096)
		off := int64(len(large[k][0])) - 2000
		if n, err := f.ReadAt(p, off); n != len(p) || err != nil || !bytes.Equal(p, want[off:off+int64(n)]) {
			t.Errorf("%s: pread at %d = %d, %v; want %d identical bytes", k, off, n, err, len(p))
		}
	})
}

// mountConfig mounts with a config file written by the test, like
// harness.mount.
func mountConfig(t *testing.T, h *harness, cfgPath, target string) *testenv.Mount {
	t.Helper()
	return h.mount(t, mountSpec{cfgPath: cfgPath, target: target})
}
