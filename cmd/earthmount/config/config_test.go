package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	cfg, err := Parse([]byte(`
cache:
  memory: 256MiB
  dir_ttl: 10m
remotes:
  osn:
    type: s3
    endpoint: https://nyu1.osn.mghpcc.org
    buckets: [leap-pangeo-inbox]
    profile: osn
  local:
    type: s3
    endpoint: http://127.0.0.1:7070
    region: eu-west-1
    access_key_id: AKIAEXAMPLE
    secret_access_key: verysecret
  open:
    type: s3
    endpoint: https://example.org
    anonymous: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache.Memory != 256<<20 || cfg.Cache.DirTTL != 10*time.Minute || cfg.Cache.AttrTTL != DefaultAttrTTL {
		t.Errorf("cache = %+v", cfg.Cache)
	}
	if len(cfg.Remotes) != 3 || cfg.Remotes[0].Name != "osn" || cfg.Remotes[1].Name != "local" {
		t.Fatalf("remotes = %+v", cfg.Remotes)
	}
	osn := cfg.Remotes[0]
	if osn.S3.Region != DefaultRegion || osn.S3.Profile != "osn" || len(osn.S3.Buckets) != 1 {
		t.Errorf("osn = %+v", osn)
	}
	if cfg.Remotes[1].S3.SecretAccessKey.Reveal() != "verysecret" || cfg.Remotes[1].S3.Region != "eu-west-1" {
		t.Errorf("local = %+v", cfg.Remotes[1])
	}
	if !cfg.Remotes[2].S3.Anonymous {
		t.Errorf("open not anonymous")
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	base := "remotes:\n  r:\n    type: s3\n    endpoint: https://e.org\n"
	tests := []struct {
		name, doc, want string
	}{
		{"unknown top key", "cahce: {}\n" + base, "cahce: unknown key"},
		{"unknown cache key", "cache:\n  mem: 1GiB\n" + base, "cache.mem: unknown key"},
		{"unknown remote key", base + "    endpiont: x\n", "remotes.r.endpiont: unknown key"},
		{"bad size", "cache:\n  memory: lots\n" + base, "cache.memory"},
		{"bad unit", "cache:\n  memory: 12 parsecs\n" + base, "unknown unit"},
		{"too small", "cache:\n  memory: 1KiB\n" + base, "cache.memory: 1KiB is too small"},
		{"bad duration", "cache:\n  dir_ttl: forever\n" + base, "cache.dir_ttl"},
		{"wrong type bool", base + "    anonymous: maybe\n", "remotes.r.anonymous: must be true or false"},
		{"wrong type list", base + "    buckets: one\n", "remotes.r.buckets: must be a list"},
		{"wrong type scalar", base + "    endpoint: [a]\n", "remotes.r.endpoint"},
		{"missing type", "remotes:\n  r:\n    endpoint: https://e.org\n", "remotes.r.type: missing"},
		{"unknown type", "remotes:\n  r:\n    type: ftp\n    endpoint: https://e.org\n", `remotes.r.type: unknown store type "ftp"`},
		{"missing endpoint", "remotes:\n  r:\n    type: s3\n", "remotes.r.endpoint: missing"},
		{"bad endpoint", "remotes:\n  r:\n    type: s3\n    endpoint: nyu1.osn\n", "remotes.r.endpoint"},
		{"half keys", base + "    access_key_id: AK\n", "access_key_id and secret_access_key go together"},
		{"anonymous with keys", base + "    anonymous: true\n    profile: p\n", "remotes.r.anonymous"},
		{"bad remote name", "remotes:\n  'a/b':\n    type: s3\n    endpoint: https://e.org\n", "remotes.a/b"},
		{"no remotes", "cache:\n  memory: 1GiB\n", "no remote configured"},
		{"empty", "", "empty"},
		{"duplicate key", base + "    type: s3\n", "remotes.r.type: key given twice"},
		{"bad bucket", base + "    buckets: ['a/b']\n", "remotes.r.buckets[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseErrorNeverShowsSecret(t *testing.T) {
	_, err := Parse([]byte("remotes:\n  r:\n    type: s3\n    endpoint: bad\n    access_key_id: AK\n    secret_access_key: topsecret\n"))
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("error = %v", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"512MiB", 512 << 20, false},
		{"1GiB", 1 << 30, false},
		{"1.5G", 3 << 29, false},
		{"100", 100, false},
		{"64 KiB", 64 << 10, false},
		{"8mb", 8 << 20, false},
		{"", 0, true},
		{"-1MiB", 0, true},
		{"1XB", 0, true},
		{"MiB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestLocateAndLoad(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	getenv := func(k string) string { return env[k] }

	cfg, err := Load("", getenv)
	if err != nil || cfg.Path != "" || cfg.Remotes[0].Name != "osn" {
		t.Fatalf("no file: cfg=%+v err=%v", cfg, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), getenv); err == nil {
		t.Errorf("an explicit missing file must be an error")
	}
	xdg := filepath.Join(dir, "xdg")
	env["XDG_CONFIG_HOME"] = xdg
	p := filepath.Join(xdg, "earthmount", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("remotes:\n  x:\n    type: s3\n    endpoint: http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load("", getenv)
	if err != nil || cfg.Path != p || cfg.Remotes[0].Name != "x" {
		t.Fatalf("xdg: cfg=%+v err=%v", cfg, err)
	}
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte("remotes:\n  y:\n    type: s3\n    endpoint: http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["EARTHMOUNT_CONFIG"] = other
	if cfg, err = Load("", getenv); err != nil || cfg.Remotes[0].Name != "y" {
		t.Fatalf("env: cfg=%+v err=%v", cfg, err)
	}
	if cfg, err = Load(p, getenv); err != nil || cfg.Remotes[0].Name != "x" {
		t.Fatalf("flag wins: cfg=%+v err=%v", cfg, err)
	}
}
