package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
	"github.com/earthmount/earthmount/fs"
)

func TestOpenSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	rw := &config.Remote{Name: "rw", Type: "s3", S3: &config.S3{Writable: true}}
	ro := &config.Remote{Name: "ro", Type: "s3", S3: &config.S3{}}
	cfg := &config.Config{Cache: config.Cache{Spool: dir}}
	tests := []struct {
		name      string
		remotes   []*config.Remote
		wantSpool bool
	}{
		{"read-only remotes need no spool", []*config.Remote{ro}, false},
		{"a writable remote opens it", []*config.Remote{ro, rw}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := openSpool(cfg, tt.remotes, func(string) string { return "" }, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if (sp != nil) != tt.wantSpool {
				t.Fatalf("spool %v, want one: %v", sp, tt.wantSpool)
			}
		})
	}
}

// TestResumeSpool: a file whose upload failed (with its .target) is
// uploaded by the next mount of its remote; one left by a crash is
// reported and kept.
func TestResumeSpool(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("upload-1", "resume me")
	write("upload-1.target", `{"remote":"rw","key":"b/f","mtime":"2024-01-02T03:04:05Z"}`)
	write("upload-2", "orphan")
	sp, err := fs.NewSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	var logs bytes.Buffer
	err = resumeSpool(t.Context(), sp, []fs.Remote{{Name: "rw", Writer: st}}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(t.Context(), "b/f")
	if err != nil || info.Size != int64(len("resume me")) || info.ModTime.Unix() != 1704164645 {
		t.Errorf("resumed object: %+v, %v", info, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "upload-2" {
		t.Errorf("spool after resume holds %v; want only the orphan", left)
	}
	if !strings.Contains(logs.String(), "upload-2") {
		t.Errorf("orphan not reported; log:\n%s", logs.String())
	}
}
