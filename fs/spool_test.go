package fs

import (
	"os"
	"testing"
	"time"
)

// TestSpoolRecords: a spool file's record (an xattr, or a sidecar file
// where the filesystem keeps no user xattrs) names its remote, key, mtime
// and whether it is partial, and unkeep drops it.
func TestSpoolRecords(t *testing.T) {
	for _, sidecars := range []bool{false, true} {
		name := "xattr"
		if sidecars {
			name = "sidecar"
		}
		t.Run(name, func(t *testing.T) {
			sp, err := NewSpool(t.TempDir(), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			sp.sidecars.Store(sidecars)
			f, err := sp.create()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("content"); err != nil {
				t.Fatal(err)
			}
			mtime := time.Unix(1_700_000_000, 9).UTC()
			if err := sp.keep(f, "rw", "b/k", mtime, true); err != nil {
				if !sidecars {
					t.Skipf("no user xattrs here: %v", err)
				}
				t.Fatal(err)
			}
			if _, err := os.Stat(f.Name() + targetSuffix); (err == nil) != sidecars {
				t.Errorf("sidecar file present: %v, want %v", err == nil, sidecars)
			}
			left, err := sp.Leftovers()
			if err != nil || len(left) != 1 {
				t.Fatalf("Leftovers = %+v, %v", left, err)
			}
			if l := left[0]; l.Remote != "rw" || l.Key != "b/k" || !l.MTime.Equal(mtime) || !l.Partial || l.Path != f.Name() {
				t.Errorf("leftover %+v", l)
			}
			sp.unkeep(f)
			if left, _ := sp.Leftovers(); len(left) != 1 || left[0].Key != "" {
				t.Errorf("after unkeep: %+v, want one file without a record", left)
			}
		})
	}
}

// TestSpoolRecyclesFiles: an emptied spool file is reused by the next
// create, and an empty file without a record (left by a crash) is removed
// by Leftovers rather than reported.
func TestSpoolRecyclesFiles(t *testing.T) {
	sp, err := NewSpool(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sp.create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("done"); err != nil {
		t.Fatal(err)
	}
	sp.recycle(f)
	g, err := sp.create()
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != f.Name() {
		t.Errorf("create made %s, want the recycled %s", g.Name(), f.Name())
	}
	if fi, err := g.Stat(); err != nil || fi.Size() != 0 {
		t.Errorf("recycled file: %v, %v; want empty", fi, err)
	}
	left, err := sp.Leftovers()
	if err != nil || len(left) != 0 {
		t.Errorf("Leftovers = %+v, %v; want none", left, err)
	}
	if _, err := os.Stat(g.Name()); !os.IsNotExist(err) {
		t.Errorf("empty unrecorded file not removed: %v", err)
	}
}
