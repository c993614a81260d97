package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestEmptyDirectoryAfterRemount: a directory made by mkdir holds only
// its marker object; a fresh mount finds it by a direct stat, before
// anything listed its parent.
func TestEmptyDirectoryAfterRemount(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	v := startVersity(t, testenv.VersityOptions{})
	const bucket = "inbox"
	need(t, v.CreateBucket(ctx, bucket))
	writable := false
	remote := v.Remote(bucket)
	remote.ReadOnly = &writable
	cfg := testenv.Config{Remotes: map[string]testenv.RemoteConfig{"rw": remote}}

	m1 := h.mount(t, mountSpec{cfg: cfg})
	need(t, os.MkdirAll(filepath.Join(m1.Dir, "rw", bucket, "a", "b", "empty"), 0o755))
	_, err := m1.Stop(20 * time.Second)
	need(t, err)

	// Read-only, so that nothing lists the parents for mtimes: each name
	// is found by its own lookup.
	ro := testenv.Config{Remotes: map[string]testenv.RemoteConfig{"rw": v.Remote(bucket)}}
	m2 := h.mount(t, mountSpec{cfg: ro})
	for _, rel := range []string{"a/b/empty", "a/b", "a"} {
		fi, err := os.Stat(filepath.Join(m2.Dir, "rw", bucket, filepath.FromSlash(rel)))
		if err != nil || !fi.IsDir() {
			t.Errorf("stat %s on a fresh mount: %v, %v; want a directory", rel, fi, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(m2.Dir, "rw", bucket, "a", "b", "empty"))
	if err != nil || len(entries) != 0 {
		t.Errorf("listing the empty directory: %v, %v; want it empty", entries, err)
	}
}
