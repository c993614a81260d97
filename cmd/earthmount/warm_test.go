package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWarmReadsWhatIsSelected(t *testing.T) {
	dir := t.TempDir()
	files := map[string]int{
		"s.zarr/.zmetadata": 100, "s.zarr/t2m/0.0.0": 5000, "s.zarr/t2m/0.0.1": 7000,
		"data/a.nc": 3000, "data/b.nc": 4000, "data/readme.txt": 10,
	}
	for rel, n := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, path, include string
		files, bytes        int64
	}{
		{"a directory", dir, "", 6, 19110},
		{"by name", dir, "*.nc", 2, 7000},
		{"by relative path", dir, "s.zarr/t2m/*", 2, 12000},
		{"one file", filepath.Join(dir, "data/a.nc"), "", 1, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := warm(t.Context(), warmOptions{path: tt.path, include: tt.include, jobs: 3, progress: &out, tick: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if res.files != tt.files || res.bytes != tt.bytes || res.totalFiles != tt.files || res.totalB != tt.bytes {
				t.Errorf("warmed %d files, %d bytes (of %d, %d); want %d, %d", res.files, res.bytes, res.totalFiles, res.totalB, tt.files, tt.bytes)
			}
			if !strings.Contains(out.String(), "warmed ") {
				t.Errorf("no summary: %q", out.String())
			}
		})
	}
}

func TestWarmStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	for i := range 50 {
		if err := os.WriteFile(filepath.Join(dir, "f"+strings.Repeat("x", i)), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Ctrl-C before anything was read
	var out bytes.Buffer
	res, err := warm(ctx, warmOptions{path: dir, jobs: 2, progress: &out, tick: time.Millisecond})
	if err == nil || !strings.Contains(out.String(), "(interrupted)") {
		t.Errorf("warm after Ctrl-C: %v, %q; want an interruption and its summary", err, out.String())
	}
	if res.files == 50 {
		t.Errorf("every file was read after Ctrl-C")
	}
}

func TestWarmRefusesOtherFilesystems(t *testing.T) {
	err := onEarthmount(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not on an earthmount mount") {
		t.Errorf("onEarthmount(tempdir) = %v", err)
	}
	_, err = warm(t.Context(), warmOptions{path: t.TempDir(), jobs: 1, include: "[", progress: &bytes.Buffer{}})
	if err == nil {
		t.Errorf("a bad glob was accepted")
	}
}

func TestStatusLine(t *testing.T) {
	tests := []struct {
		bytes, total, files, totalFiles int64
		elapsed                         time.Duration
		want                            []string
	}{
		{0, 100 << 20, 0, 10, time.Second, []string{"[------------------------]", "0%", "0 B / 100.0 MiB", "0/10 objects", "ETA -"}},
		{50 << 20, 100 << 20, 5, 10, 2 * time.Second, []string{"50%", "50.0 MiB / 100.0 MiB", "5/10 objects", "25.0 MiB/s", "ETA 2s"}},
		{100 << 20, 100 << 20, 10, 10, 4 * time.Second, []string{"100%", "[########################]", "ETA 0s"}},
	}
	for _, tt := range tests {
		got := statusLine(tt.bytes, tt.total, tt.files, tt.totalFiles, tt.elapsed)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("statusLine = %q, missing %q", got, w)
			}
		}
	}
	if got := unescapeOctal(`/mnt/with\040space`); got != "/mnt/with space" {
		t.Errorf("unescapeOctal = %q", got)
	}
}
