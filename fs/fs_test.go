package fs

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cache"
)

// requireFUSE skips without /dev/fuse, except in CI, where a missing FUSE
// is a broken machine and must fail loudly.
func requireFUSE(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("/dev/fuse is missing (%v); FUSE tests must run in CI", err)
		}
		t.Skipf("no /dev/fuse: %v", err)
	}
}

// testMount mounts st in-process on a temporary directory as remote "mem"
// and returns the mount's root.
func testMount(t *testing.T, st *memstore.Store, single bool) string {
	t.Helper()
	requireFUSE(t)
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := cache.New(cache.Options{Budget: 64 << 20, ChunkSize: 64 << 10, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := Mount(dir, Options{
		Remotes: []Remote{{Name: "mem", Meta: cache.NewMeta(st, cache.MetaOptions{Remote: "mem", Logger: log}), Source: st}},
		Single:  single,
		Cache:   c,
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	if single {
		return dir
	}
	return filepath.Join(dir, "mem")
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestTreeAndContents(t *testing.T) {
	st := memstore.New()
	st.Put("b/top.txt", []byte("top"))
	st.Put("b/dir/a.nc", []byte("netcdf bytes"))
	st.Put("b/dir/sub/deep/x", []byte("deep"))
	st.Put("b/both", []byte("object under a prefix name"))
	st.Put("b/both/child", []byte("child"))
	st.Put("b/dir/", nil) // a directory marker
	st.Put("b/empty//x", []byte("empty segment: skipped"))
	st.Put("b/sp ace ü.txt", []byte("unicode"))
	mnt := testMount(t, st, false)

	if got, want := names(t, filepath.Dir(mnt)), []string{"mem/"}; !equal(got, want) {
		t.Errorf("root = %v, want %v", got, want)
	}
	tests := []struct {
		dir  string
		want []string
	}{
		{"", []string{"b/"}},
		{"b", []string{"both/", "both~object", "dir/", "empty/", "sp ace ü.txt", "top.txt"}},
		{"b/dir", []string{"a.nc", "sub/"}},
		{"b/dir/sub/deep", []string{"x"}},
		{"b/empty", nil},
	}
	for _, tt := range tests {
		if got := names(t, filepath.Join(mnt, tt.dir)); !equal(got, tt.want) {
			t.Errorf("ls %q = %v, want %v", tt.dir, got, tt.want)
		}
	}
	files := map[string]string{
		"b/top.txt": "top", "b/dir/a.nc": "netcdf bytes", "b/both~object": "object under a prefix name",
		"b/both/child": "child", "b/sp ace ü.txt": "unicode", "b/dir/sub/deep/x": "deep",
	}
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(mnt, p))
		if err != nil || string(got) != want {
			t.Errorf("read %s = %q, %v; want %q", p, got, err, want)
		}
		fi, err := os.Stat(filepath.Join(mnt, p))
		if err != nil || fi.Size() != int64(len(want)) || fi.Mode().Perm() != 0o444 {
			t.Errorf("stat %s = %v, %v", p, fi, err)
		}
	}
	if _, err := os.Stat(filepath.Join(mnt, "b/nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat missing = %v, want ENOENT", err)
	}
}

func TestListingAnswersStat(t *testing.T) {
	st := memstore.New()
	for i := 0; i < 300; i++ {
		st.Put("b/many/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"-"+itoa(i), []byte(itoa(i)))
	}
	mnt := testMount(t, st, true)
	if _, err := os.Stat(filepath.Join(mnt, "b/many")); err != nil {
		t.Fatal(err)
	}
	st.ResetCounts()
	ents, err := os.ReadDir(filepath.Join(mnt, "b/many"))
	if err != nil || len(ents) != 300 {
		t.Fatalf("readdir: %d entries, %v", len(ents), err)
	}
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(mnt, "b/many", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	c := st.Counts()
	if c["stat"] != 0 || c["list"] != 1 {
		t.Errorf("%d stat requests after a listing; want 0 (counts %v)", c["stat"], c)
	}
}

func TestReadOnly(t *testing.T) {
	st := memstore.New()
	st.Put("b/f", []byte("data"))
	mnt := testMount(t, st, true)
	checks := map[string]error{}
	_, err := os.Create(filepath.Join(mnt, "b/new"))
	checks["create"] = err
	checks["mkdir"] = os.Mkdir(filepath.Join(mnt, "b/d"), 0o755)
	checks["remove"] = os.Remove(filepath.Join(mnt, "b/f"))
	checks["rename"] = os.Rename(filepath.Join(mnt, "b/f"), filepath.Join(mnt, "b/g"))
	_, err = os.OpenFile(filepath.Join(mnt, "b/f"), os.O_WRONLY, 0)
	checks["open for write"] = err
	checks["chmod"] = os.Chmod(filepath.Join(mnt, "b/f"), 0o600)
	for op, err := range checks {
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: %v, want EROFS", op, err)
		}
	}
}

func TestChangeMidReadIsStale(t *testing.T) {
	st := memstore.New()
	data := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB
	st.Put("b/big", data)
	mnt := testMount(t, st, true)
	f, err := os.Open(filepath.Join(mnt, "b/big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data[:4096]) {
		t.Fatalf("first read: %v", err)
	}
	st.Put("b/big", bytes.Repeat([]byte("X"), len(data)))
	_, err = f.ReadAt(buf, 7<<20)
	if !errors.Is(err, syscall.ESTALE) {
		t.Errorf("read after the object changed: %v, want ESTALE", err)
	}
	// A new open sees the new version.
	got, err := os.ReadFile(filepath.Join(mnt, "b/big"))
	if err != nil || !bytes.Equal(got, bytes.Repeat([]byte("X"), len(data))) {
		t.Errorf("reopen after ESTALE: %v; want the new version's bytes", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(i int) string {
	return strings.TrimLeft(string([]byte{byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)}), "")
}

func TestKernelReadAheadRaised(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root may change a BDI's read-ahead; others keep the default")
	}
	mnt := testMount(t, memstore.New(), true)
	var st syscall.Stat_t
	if err := syscall.Stat(mnt, &st); err != nil {
		t.Fatal(err)
	}
	major, minor := (st.Dev>>8)&0xfff, (st.Dev&0xff)|((st.Dev>>12)&0xfff00)
	b, err := os.ReadFile("/sys/class/bdi/" + itoa2(major) + ":" + itoa2(minor) + "/read_ahead_kb")
	if want := strconv.Itoa(kernelReadAheadKiB); err != nil || strings.TrimSpace(string(b)) != want {
		t.Errorf("read_ahead_kb = %q, %v; want %s", b, err, want)
	}
}

func itoa2(v uint64) string { return strconv.FormatUint(v, 10) }
