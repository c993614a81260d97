package fs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cache"
)

func TestHeldName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".0.0.a1B2c3", true},
		{".data.nc.XyZ123", true},
		{".zarray", false},
		{".zattrs.abcdef", true},
		{"data.nc.abcdef", false},
		{"..abcdef", false},
		{".x.abc-ef", false},
		{".x.abcdefg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := heldName(tt.name); got != tt.want {
				t.Errorf("heldName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// TestRsyncSequenceUploadsOnce: rsync's write of a temporary file, close,
// utimes and rename into a new directory ends in one upload per file, to
// the final key with the final mtime, and no other request.
func TestRsyncSequenceUploadsOnce(t *testing.T) {
	st := memstore.New()
	mnt, spool := writableMount(t, st, 64<<20)
	need := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Listing the bucket first, as rsync's look at the destination does.
	need(os.MkdirAll(filepath.Join(mnt, "b"), 0o755))
	st.ResetCounts()
	dir := filepath.Join(mnt, "b", "store.zarr")
	need(os.Mkdir(dir, 0o755))
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	const n = 50
	for i := range n {
		final := filepath.Join(dir, fmt.Sprintf("0.%d", i))
		if _, err := os.Lstat(final); !os.IsNotExist(err) {
			t.Fatalf("lstat of a new name: %v", err)
		}
		tmp := filepath.Join(dir, fmt.Sprintf(".0.%d.Ab%04d", i, i))
		need(os.WriteFile(tmp, []byte(fmt.Sprint("chunk ", i)), 0o600))
		need(os.Chtimes(tmp, mtime, mtime))
		need(os.Chmod(tmp, 0o644))
		need(os.Rename(tmp, final))
	}
	counts := st.Counts()
	want := map[string]int{"upload": n + 1} // the files and the directory marker
	if !maps.Equal(counts, want) {
		t.Errorf("requests %v, want %v", counts, want)
	}
	for i := range n {
		data, info := stored(t, st, fmt.Sprintf("b/store.zarr/0.%d", i))
		if string(data) != fmt.Sprint("chunk ", i) || !info.ModTime.Equal(mtime) {
			t.Errorf("0.%d: %q mtime %v", i, data, info.ModTime)
		}
	}
	ents, err := os.ReadDir(dir)
	need(err)
	if len(ents) != n {
		t.Errorf("directory lists %d names, want %d", len(ents), n)
	}
	waitSpoolEmpty(t, spool)
}

// TestHeldFileWithoutRename: a temporary-looking file that is never
// renamed is uploaded under its own name after holdDelay; one unlinked
// first is never uploaded.
func TestHeldFileWithoutRename(t *testing.T) {
	st := memstore.New()
	mnt, spool := writableMount(t, st, 64<<20)
	keep := filepath.Join(mnt, "b", ".kept.abc123")
	gone := filepath.Join(mnt, "b", ".gone.abc123")
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{keep, gone} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := st.Stat(t.Context(), "b/.kept.abc123"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a held file was not uploaded within 10 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the store, bounded by the deadline
	}
	if _, err := st.Stat(t.Context(), "b/.gone.abc123"); err == nil {
		t.Error("an unlinked held file was uploaded")
	}
	waitSpoolEmpty(t, spool)
}

// TestRsyncThroughMountCountsRequests runs the real rsync -a into an
// in-memory store: one upload per file and per directory.
func TestRsyncThroughMountCountsRequests(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync not installed")
	}
	st := memstore.New()
	mnt, _ := writableMount(t, st, 64<<20)
	src := t.TempDir()
	const dirs, files = 3, 40
	for d := range dirs {
		for f := range files {
			p := filepath.Join(src, "s.zarr", fmt.Sprint("a", d), fmt.Sprintf("0.%d", f))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(mnt, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	st.ResetCounts()
	out, err := exec.Command("rsync", "-a", src+"/", filepath.Join(mnt, "b")+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("rsync: %v\n%s", err, out)
	}
	counts := st.Counts()
	uploads := dirs*files + dirs + 1 // files, and the markers of s.zarr and a0..a2
	if counts["upload"] != uploads || counts["rename"]+counts["setmodtime"]+counts["remove"] != 0 {
		t.Errorf("rsync -a of %d files in %d directories: requests %v, want %d uploads and no copy or delete",
			dirs*files, dirs+1, counts, uploads)
	}
	if counts["stat"]+counts["list"] > 4 {
		t.Errorf("rsync -a looked up too much: %v", counts)
	}
	t.Logf("rsync -a requests: %v", counts)
}

// TestLsReadsModTimesInParallel: on a writable remote, ls -l of files
// whose mtime metadata is unknown sends their Stats in parallel, once per
// file, and shows the metadata's mtime.
func TestLsReadsModTimesInParallel(t *testing.T) {
	st := memstore.New()
	const n = 64
	mtime := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		key := fmt.Sprintf("b/d/f%02d", i)
		st.Put(key, []byte("x"))
		if _, err := st.SetModTime(t.Context(), key, mtime); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	inflight, peak, stats := 0, 0, 0
	release := make(chan struct{})
	st.Hook = func(ctx context.Context, op, key string) error {
		if op != "stat" || !strings.HasPrefix(key, "b/d/f") {
			return nil
		}
		mu.Lock()
		stats++
		inflight++
		peak = max(peak, inflight)
		if peak >= 4 {
			select {
			case <-release:
			default:
				close(release) // parallel enough: let everyone go
			}
		}
		mu.Unlock()
		select { // serial Stats would wait here forever: bounded by the test's deadline
		case <-release:
		case <-time.After(200 * time.Millisecond):
		}
		mu.Lock()
		inflight--
		mu.Unlock()
		return nil
	}
	mnt, _ := writableMount(t, st, 64<<20)
	st.ResetCounts()
	ents, err := os.ReadDir(filepath.Join(mnt, "b", "d"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want the metadata's %v", e.Name(), fi.ModTime(), mtime)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if stats != n {
		t.Errorf("%d stats for %d files, want one each", stats, n)
	}
	if peak < 4 {
		t.Errorf("at most %d stats in flight, want them in parallel", peak)
	}
}

// TestSpoolNamesFilesBeingWritten: while a file is open for writing its
// spool file is recorded as partial with its key, so that a restart after
// a crash can name it; the record goes with the upload.
func TestSpoolNamesFilesBeingWritten(t *testing.T) {
	st := memstore.New()
	mnt, spool := writableMount(t, st, 64<<20)
	if err := os.MkdirAll(filepath.Join(mnt, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(mnt, "b", "open.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("half"); err != nil {
		t.Fatal(err)
	}
	sp, err := NewSpool(spool, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	left, err := sp.Leftovers()
	if err != nil || len(left) != 1 || !left[0].Partial || left[0].Key != "b/open.bin" || left[0].Remote != "mem" {
		t.Errorf("while writing, spool leftovers %+v, %v; want one partial b/open.bin of mem", left, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	waitSpoolEmpty(t, spool)
}

// waitSpoolEmpty waits until the spool directory holds no content and no
// record (emptied files kept for reuse may stay): the kernel sends the
// release that empties a spool file after close(2) returns.
func waitSpoolEmpty(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		busy := 0
		left, _ := os.ReadDir(dir)
		for _, e := range left {
			fi, err := e.Info()
			if _, rec := record(filepath.Join(dir, e.Name())); err != nil || fi.Size() > 0 || rec {
				busy++
			}
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("spool still holds %d files with content or a record after 5 s", busy)
			return
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
	}
}

// TestRenameDirectory: a small tree moves server-side (objects, nested
// directories, markers) and shows under its new name at once; a tree of
// more than maxDirRename objects is refused with EXDEV and left alone.
func TestRenameDirectory(t *testing.T) {
	st := memstore.New()
	files := map[string]string{"a.zarr/.zgroup": "{}", "a.zarr/t/0.0": "x", "a.zarr/t/0.1": "yy", "a.zarr/u/.zarray": "{}"}
	for k, v := range files {
		st.Put("b/"+k, []byte(v))
	}
	st.Put("b/a.zarr/empty/", nil)
	for i := range maxDirRename + 1 {
		st.Put(fmt.Sprintf("b/huge/k%04d", i), []byte("z"))
	}
	mnt, _ := writableMount(t, st, 64<<20)
	p := func(rel string) string { return filepath.Join(mnt, rel) }
	if _, err := os.ReadDir(p("b/a.zarr/t")); err != nil { // cached listings must not survive
		t.Fatal(err)
	}
	if err := os.Rename(p("b/a.zarr"), p("b/c.zarr")); err != nil {
		t.Fatalf("rename of a small tree: %v", err)
	}
	for k, v := range files {
		moved := "b/c.zarr/" + strings.TrimPrefix(k, "a.zarr/")
		if data, _ := stored(t, st, moved); string(data) != v {
			t.Errorf("%s holds %q, want %q", moved, data, v)
		}
		if _, err := st.Stat(t.Context(), "b/"+k); err == nil {
			t.Errorf("b/%s is still there", k)
		}
		got, err := os.ReadFile(p(moved))
		if err != nil || string(got) != v {
			t.Errorf("%s through the mount: %q, %v", moved, got, err)
		}
	}
	if fi, err := os.Stat(p("b/c.zarr/empty")); err != nil || !fi.IsDir() {
		t.Errorf("empty directory after the rename: %v, %v", fi, err)
	}
	if _, err := os.Stat(p("b/a.zarr")); !os.IsNotExist(err) {
		t.Errorf("old name after the rename: %v", err)
	}
	if err := os.Rename(p("b/huge"), p("b/huge2")); !errors.Is(err, syscall.EXDEV) {
		t.Errorf("rename of %d objects: %v, want EXDEV", maxDirRename+1, err)
	}
	if _, err := st.Stat(t.Context(), "b/huge/k0000"); err != nil {
		t.Errorf("refused rename changed the store: %v", err)
	}
}

// TestUnmountUploadsHeldFiles: unmount sends a held file at once rather
// than leaving it to the timer or the next mount.
func TestUnmountUploadsHeldFiles(t *testing.T) {
	requireFUSE(t)
	st := memstore.New()
	c, err := cache.New(cache.Options{Budget: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := NewSpool(t.TempDir(), 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := Mount(dir, Options{
		Remotes: []Remote{{Name: "mem", Meta: cache.NewMeta(st, cache.MetaOptions{Remote: "mem"}), Source: st, Writer: st}},
		Single:  true, Cache: c, Spool: sp,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b", ".late.Xy12ab"), []byte("held"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The release that arms the hold follows close asynchronously.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.fsys.held.mu.Lock()
		n := len(srv.fsys.held.files)
		srv.fsys.held.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the file was never held")
		}
		time.Sleep(5 * time.Millisecond) // polling, bounded by the deadline
	}
	if err := srv.Unmount(); err != nil {
		t.Fatal(err)
	}
	if data, _ := stored(t, st, "b/.late.Xy12ab"); string(data) != "held" {
		t.Errorf("stored %q after unmount", data)
	}
}

// TestLookupsReadModTimesAhead: on a fresh mount, rsync's lstat of every
// file of a Zarr array (listed whole) reads the mtime metadata of the next
// files in parallel, not one Stat per lstat.
func TestLookupsReadModTimesAhead(t *testing.T) {
	st := memstore.New()
	const n = 200
	mtime := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	st.Put("b/s.zarr/.zgroup", []byte(`{"zarr_format": 2}`))
	st.Put("b/s.zarr/t/.zarray", []byte(`{"zarr_format": 2, "shape": [200], "chunks": [1], "dtype": "<f8", "compressor": null, "fill_value": 0, "order": "C", "filters": null}`))
	var keys []string
	for i := range n {
		key := fmt.Sprintf("b/s.zarr/t/%d", i)
		keys = append(keys, key)
		st.Put(key, []byte("x"))
		if _, err := st.SetModTime(t.Context(), key, mtime); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(keys)
	var mu sync.Mutex
	inflight, peak := 0, 0
	st.Hook = func(ctx context.Context, op, key string) error {
		if op == "stat" && strings.HasPrefix(key, "b/s.zarr/t/") {
			mu.Lock()
			inflight++
			peak = max(peak, inflight)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond) // a round trip, so that Stats overlap when sent together
			mu.Lock()
			inflight--
			mu.Unlock()
		}
		return nil
	}
	mnt, _ := writableMount(t, st, 64<<20)
	for _, p := range []string{"b/s.zarr", "b/s.zarr/.zgroup", "b/s.zarr/t", "b/s.zarr/t/.zarray"} {
		if _, err := os.Lstat(filepath.Join(mnt, p)); err != nil {
			t.Fatal(err)
		}
	}
	st.ResetCounts()
	for _, k := range keys {
		fi, err := os.Lstat(filepath.Join(mnt, k))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", k, fi.ModTime(), mtime)
		}
	}
	c := st.Counts()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests %v, at most %d Stats in flight", c, peak)
	if c["stat"] > n+2 || peak < 4 {
		t.Errorf("requests %v with at most %d Stats in flight; want one Stat per file, in parallel", c, peak)
	}
}

// TestLookupsOutOfOrderReadOnlyTheirs: a program picking a few files of a
// listed directory (xarray reading chunks on a writable remote) sends one
// Stat per file it looks up; one walking the listing in order gets the
// mtimes of the next files along.
func TestLookupsOutOfOrderReadOnlyTheirs(t *testing.T) {
	st := memstore.New()
	for i := range 100 {
		st.Put(fmt.Sprintf("b/d/f%03d", i), []byte("x"))
	}
	meta := cache.NewMeta(st, cache.MetaOptions{})
	t.Cleanup(func() { _ = meta.Close() })
	r := &Remote{Name: "mem", Meta: meta, Source: st, Writer: st, times: newMtimes()}
	lookup := func(i int) {
		e, err := meta.Lookup(t.Context(), "b/d/", fmt.Sprintf("f%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		r.entryModTime(t.Context(), "b/d/", e)
	}
	d := meta.OpenDir("b/d/")
	for {
		if _, err := d.Next(t.Context()); err != nil {
			break
		}
	}
	st.ResetCounts()
	for _, i := range []int{90, 10, 50, 30, 70} {
		lookup(i)
	}
	if got := st.Counts()["stat"]; got != 5 {
		t.Errorf("%d stats for 5 lookups out of order, want one each", got)
	}
	st.ResetCounts()
	for i := range 10 { // in order: f000 alone, then f001 brings f002..f064 along
		lookup(i)
	}
	want := 1 + 1 + modTimeAhead - 3 // f010, f030 and f050 are known already
	if got := st.Counts()["stat"]; got != want {
		t.Errorf("%d stats for 10 lookups in order, want %d", got, want)
	}
}
