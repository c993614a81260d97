package config

import "testing"

func TestParseWritable(t *testing.T) {
	tests := []struct {
		name, doc string
		writable  bool
		spool     string
		spoolSize int64
		wantErr   bool
	}{
		{"default read-only", "remotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n", false, "", 0, false},
		{"read_only false", "remotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n    read_only: false\n", true, "", 0, false},
		{"read_only true", "remotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n    read_only: true\n", false, "", 0, false},
		{"spool", "cache:\n  spool: /tmp/sp\n  spool_size: 2GiB\nremotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n", false, "/tmp/sp", 2 << 30, false},
		{"bad read_only", "remotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n    read_only: maybe\n", false, "", 0, true},
		{"tiny spool", "cache:\n  spool_size: 1KiB\nremotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:1\n", false, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.doc))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := cfg.Remotes[0].S3.Writable; got != tt.writable {
				t.Errorf("Writable = %v, want %v", got, tt.writable)
			}
			if cfg.Cache.Spool != tt.spool || cfg.Cache.SpoolSize != tt.spoolSize {
				t.Errorf("spool = %q %d, want %q %d", cfg.Cache.Spool, cfg.Cache.SpoolSize, tt.spool, tt.spoolSize)
			}
		})
	}
	if got := DefaultSpoolDir(func(k string) string { return map[string]string{"HOME": "/h"}[k] }); got != "/h/.cache/earthmount/spool" {
		t.Errorf("DefaultSpoolDir = %q", got)
	}
}
