package config

import "testing"

func TestParseDiskTier(t *testing.T) {
	const remotes = "remotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n"
	tests := []struct {
		name, cache string
		dir         string
		disk        int64
		wantErr     bool
	}{
		{"off by default", "", "", 0, false},
		{"dir and cap", "cache:\n  dir: /data/em\n  disk: 20GiB\n", "/data/em", 20 << 30, false},
		{"explicitly off", "cache:\n  disk: 0\n", "", 0, false},
		{"too small", "cache:\n  disk: 1MiB\n", "", 0, true},
		{"not a size", "cache:\n  disk: lots\n", "", 0, true},
		{"dir must be a value", "cache:\n  dir: [a, b]\n", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.cache + remotes))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if cfg.Cache.Dir != tt.dir || cfg.Cache.Disk != tt.disk {
				t.Errorf("dir, disk = %q, %d; want %q, %d", cfg.Cache.Dir, cfg.Cache.Disk, tt.dir, tt.disk)
			}
		})
	}
	env := map[string]string{"HOME": "/h"}
	if got := DefaultDiskDir(func(k string) string { return env[k] }); got != "/h/.cache/earthmount/blocks" {
		t.Errorf("DefaultDiskDir = %q", got)
	}
	env["XDG_CACHE_HOME"] = "/x"
	if got := DefaultDiskDir(func(k string) string { return env[k] }); got != "/x/earthmount/blocks" {
		t.Errorf("DefaultDiskDir with XDG_CACHE_HOME = %q", got)
	}
}
