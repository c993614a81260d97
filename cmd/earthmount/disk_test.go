package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

func TestOpenDiskTier(t *testing.T) {
	home := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HOME": home}[k] }
	held := filepath.Join(t.TempDir(), "held")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	first, err := openDiskTier(&config.Config{Cache: config.Cache{Disk: 1 << 30, Dir: held}}, getenv, log)
	if err != nil || first == nil {
		t.Fatalf("opening %s: %v", held, err)
	}
	defer first.close()
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o600)
	tests := []struct {
		name    string
		cache   config.Cache
		wantDir string // "" : no disk tier
		wantErr bool
		wantLog string
	}{
		{name: "off by default", cache: config.Cache{}},
		{name: "default directory", cache: config.Cache{Disk: 1 << 30}, wantDir: filepath.Join(home, ".cache/earthmount/blocks")},
		{name: "tilde expands", cache: config.Cache{Disk: 1 << 30, Dir: "~/blk"}, wantDir: filepath.Join(home, "blk")},
		{name: "directory of another mount", cache: config.Cache{Disk: 1 << 30, Dir: held}, wantLog: "in use by another earthmount"},
		{name: "unusable directory fails the mount", cache: config.Cache{Disk: 1 << 30, Dir: filepath.Join(blocked, "x")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			d, err := openDiskTier(&config.Config{Cache: tc.cache}, getenv, log)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if (d != nil) != (tc.wantDir != "") {
				t.Fatalf("disk tier = %v, want one in %q", d, tc.wantDir)
			}
			if d != nil {
				defer d.close()
				if _, err := os.Stat(filepath.Join(tc.wantDir, "LOCK")); err != nil {
					t.Fatalf("no disk cache in %s: %v", tc.wantDir, err)
				}
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Fatalf("log %q does not say %q", logs.String(), tc.wantLog)
			}
		})
	}
}
