package fs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cache"
)

// writableMount mounts st writable (single remote "mem") with a spool of
// spoolSize bytes and returns the mount's root and the spool directory.
func writableMount(t *testing.T, st *memstore.Store, spoolSize int64) (string, string) {
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
	spoolDir := t.TempDir()
	sp, err := NewSpool(spoolDir, spoolSize)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := Mount(dir, Options{
		Remotes: []Remote{{Name: "mem", Meta: cache.NewMeta(st, cache.MetaOptions{Remote: "mem", Logger: log}), Source: st, Writer: st}},
		Single:  true, Cache: c, Spool: sp, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return dir, spoolDir
}

// stored returns the content of key in st, or fails.
func stored(t *testing.T, st *memstore.Store, key string) ([]byte, backends.ObjectInfo) {
	t.Helper()
	info, err := st.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("store has no %q: %v", key, err)
	}
	p := make([]byte, info.Size)
	if _, err := st.ReadAt(t.Context(), info.Ref(), p, 0); err != nil && info.Size > 0 {
		t.Fatalf("read %q: %v", key, err)
	}
	return p, info
}

func TestWriteNewAndOverwrite(t *testing.T) {
	st := memstore.New()
	st.Put("b/old", []byte("old content"))
	mnt, spool := writableMount(t, st, 64<<20)
	big := bytes.Repeat([]byte("0123456789"), 300_000)
	tests := []struct {
		name, path, key string
		data            []byte
	}{
		{"new small", "b/new.txt", "b/new.txt", []byte("hello")},
		{"new empty", "b/empty", "b/empty", nil},
		{"new big", "b/sub/big.bin", "b/sub/big.bin", big},
		{"overwrite", "b/old", "b/old", []byte("new")},
	}
	if err := os.Mkdir(filepath.Join(mnt, "b/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(mnt, tt.path), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, _ := stored(t, st, tt.key)
			if !bytes.Equal(got, tt.data) {
				t.Errorf("store holds %d bytes, want %d", len(got), len(tt.data))
			}
			back, err := os.ReadFile(filepath.Join(mnt, tt.path))
			if err != nil || !bytes.Equal(back, tt.data) {
				t.Errorf("read back through the mount: %d bytes, %v", len(back), err)
			}
		})
	}
	if got := names(t, filepath.Join(mnt, "b")); !equal(got, []string{"empty", "new.txt", "old", "sub/"}) {
		t.Errorf("listing after writes = %v", got)
	}
	waitSpoolEmpty(t, spool)
}

func TestWriteNamespace(t *testing.T) {
	st := memstore.New()
	st.Put("b/a", []byte("a"))
	mnt, _ := writableMount(t, st, 64<<20)
	p := func(rel string) string { return filepath.Join(mnt, rel) }

	t.Run("mkdir rmdir", func(t *testing.T) {
		if err := os.Mkdir(p("b/d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Stat(t.Context(), "b/d/"); err != nil {
			t.Errorf("no marker object: %v", err)
		}
		if err := os.WriteFile(p("b/d/f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p("b/d")); !errors.Is(err, syscall.ENOTEMPTY) {
			t.Errorf("rmdir of a full directory: %v, want ENOTEMPTY", err)
		}
		if err := os.Remove(p("b/d/f")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p("b/d")); err != nil {
			t.Fatalf("rmdir: %v", err)
		}
		if _, err := os.Stat(p("b/d")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after rmdir: %v", err)
		}
	})
	t.Run("rename uploaded", func(t *testing.T) {
		if err := os.Rename(p("b/a"), p("b/a2")); err != nil {
			t.Fatal(err)
		}
		if got, _ := stored(t, st, "b/a2"); string(got) != "a" {
			t.Errorf("b/a2 = %q", got)
		}
		if _, err := st.Stat(t.Context(), "b/a"); !errors.Is(err, backends.ErrNotExist) {
			t.Errorf("b/a still there: %v", err)
		}
		if _, err := os.Stat(p("b/a")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("b/a through the mount: %v", err)
		}
	})
	t.Run("rename while writing", func(t *testing.T) {
		f, err := os.Create(p("b/.tmp"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("temp"); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p("b/.tmp"), p("b/final")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _ := stored(t, st, "b/final"); string(got) != "temp" {
			t.Errorf("b/final = %q", got)
		}
		if _, err := st.Stat(t.Context(), "b/.tmp"); !errors.Is(err, backends.ErrNotExist) {
			t.Errorf("the temporary name was uploaded: %v", err)
		}
		if c := st.Counts(); c["rename"] != 1 {
			t.Errorf("%d store renames; want 1 (only of the uploaded file)", c["rename"])
		}
	})
	t.Run("rename empty directory", func(t *testing.T) {
		if err := os.Mkdir(p("b/dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p("b/dir"), p("b/dir2")); err != nil {
			t.Fatalf("rename of an empty directory: %v", err)
		}
		if fi, err := os.Stat(p("b/dir2")); err != nil || !fi.IsDir() {
			t.Errorf("renamed directory: %v, %v", fi, err)
		}
		if _, err := st.Stat(t.Context(), "b/dir/"); err == nil {
			t.Errorf("old marker left")
		}
	})
	t.Run("utimes chmod", func(t *testing.T) {
		mtime := time.Unix(1_500_000_000, 123_456_789)
		if err := os.Chtimes(p("b/final"), mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if _, info := stored(t, st, "b/final"); !info.ModTime.Equal(mtime) {
			t.Errorf("stored mtime %v, want %v", info.ModTime, mtime)
		}
		fi, err := os.Stat(p("b/final"))
		if err != nil || !fi.ModTime().Equal(mtime) {
			t.Errorf("mtime through the mount %v, %v; want %v", fi.ModTime(), err, mtime)
		}
		if err := os.Chmod(p("b/final"), 0o600); err != nil {
			t.Errorf("chmod: %v, want accepted", err)
		}
	})
}

func TestWriteSpoolFull(t *testing.T) {
	st := memstore.New()
	st.Put("b/keep", nil)
	mnt, _ := writableMount(t, st, 1<<20)
	err := os.WriteFile(filepath.Join(mnt, "b/huge"), make([]byte, 2<<20), 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write past the spool: %v, want ENOSPC", err)
	}
	if _, err := st.Stat(t.Context(), "b/huge"); !errors.Is(err, backends.ErrNotExist) {
		t.Errorf("a partial file was uploaded after ENOSPC: %v", err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "b/small"), []byte("fits"), 0o644); err != nil {
		t.Errorf("small write after a full spool: %v", err)
	}
}

func TestWriteUploadFails(t *testing.T) {
	st := memstore.New()
	st.Hook = func(ctx context.Context, op, key string) error {
		if op == "upload" && key == "b/bad" {
			return &backends.Error{Op: op, Key: key, Err: backends.ErrUnavailable}
		}
		return nil
	}
	st.Put("b/keep", nil)
	mnt, spool := writableMount(t, st, 64<<20)
	f, err := os.Create(filepath.Join(mnt, "b/bad"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("precious"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("close after a failed upload: %v, want EIO", err)
	}
	sp, err := NewSpool(spool, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	left, err := sp.Leftovers()
	if err != nil || len(left) != 1 {
		t.Fatalf("spool holds %v, %v; want the file that failed", left, err)
	}
	if left[0].Remote != "mem" || left[0].Key != "b/bad" {
		t.Errorf("leftover records remote %q key %q, want mem, b/bad", left[0].Remote, left[0].Key)
	}
	if got, _ := os.ReadFile(left[0].Path); string(got) != "precious" {
		t.Errorf("spool file holds %q", got)
	}
	if _, err := st.Stat(t.Context(), "b/bad"); !errors.Is(err, backends.ErrNotExist) {
		t.Errorf("half-written object visible: %v", err)
	}
}

func TestReadOnlyRemoteInWritableMount(t *testing.T) {
	requireFUSE(t)
	ro, rw := memstore.New(), memstore.New()
	ro.Put("b/f", []byte("x"))
	rw.Put("b/keep", nil)
	c, err := cache.New(cache.Options{Budget: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := NewSpool(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := Mount(dir, Options{Cache: c, Spool: sp, Remotes: []Remote{
		{Name: "ro", Meta: cache.NewMeta(ro, cache.MetaOptions{}), Source: ro},
		{Name: "rw", Meta: cache.NewMeta(rw, cache.MetaOptions{}), Source: rw, Writer: rw},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Unmount() })
	if err := os.WriteFile(filepath.Join(dir, "rw/b/ok"), []byte("y"), 0o644); err != nil {
		t.Errorf("write on the writable remote: %v", err)
	}
	checks := map[string]error{
		"create": os.WriteFile(filepath.Join(dir, "ro/b/new"), []byte("y"), 0o644),
		"mkdir":  os.Mkdir(filepath.Join(dir, "ro/b/d"), 0o755),
		"remove": os.Remove(filepath.Join(dir, "ro/b/f")),
	}
	for op, err := range checks {
		if !errors.Is(err, syscall.EROFS) && !errors.Is(err, syscall.EACCES) {
			t.Errorf("%s on the read-only remote: %v, want EROFS", op, err)
		}
	}
}

func TestWriteInPlace(t *testing.T) {
	st := memstore.New()
	st.Put("b/log", []byte("line1\n"))
	st.Put("b/trunc", []byte("0123456789"))
	mnt, _ := writableMount(t, st, 64<<20)
	tests := []struct {
		name, key string
		change    func(path string) error
		want      string
	}{
		{"append", "b/log", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			if _, err := f.WriteString("line2\n"); err != nil {
				return err
			}
			return f.Close()
		}, "line1\nline2\n"},
		{"truncate closed file", "b/trunc", func(p string) error { return os.Truncate(p, 4) }, "0123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.change(filepath.Join(mnt, tt.key)); err != nil {
				t.Fatal(err)
			}
			if got, _ := stored(t, st, tt.key); string(got) != tt.want {
				t.Errorf("store holds %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOpenDuringUpload: a second writer opening (O_TRUNC) a file whose
// first close is still uploading waits for that upload, then its own
// content is uploaded.
func TestOpenDuringUpload(t *testing.T) {
	st := memstore.New()
	entered, gate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	st.Hook = func(ctx context.Context, op, key string) error {
		if op == "upload" && key == "b/x" {
			once.Do(func() {
				close(entered)
				<-gate
			})
		}
		return nil
	}
	mnt, _ := writableMount(t, st, 64<<20)
	if err := os.MkdirAll(filepath.Join(mnt, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(mnt, "b", "x")
	closed := make(chan error, 1)
	go func() { closed <- os.WriteFile(p, []byte("first"), 0o644) }()
	<-entered
	reopened := make(chan error, 1)
	go func() { reopened <- os.WriteFile(p, []byte("second"), 0o644) }()
	close(gate)
	for _, ch := range []chan error{closed, reopened} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("deadlock: a write did not finish within 10 s")
		}
	}
	if data, _ := stored(t, st, "b/x"); string(data) != "second" {
		t.Errorf("stored %q, want the second write", data)
	}
}
