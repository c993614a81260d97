package config

import (
	"strings"
	"testing"
)

// FuzzParse: any document either parses into a usable config or gives an
// error with a message; an error never shows a secret's value.
func FuzzParse(f *testing.F) {
	for _, doc := range []string{
		"remotes:\n  r:\n    type: s3\n    endpoint: https://e.org\n",
		"cache:\n  memory: 256MiB\n  chunk_size: 8MiB\n  dir_ttl: 10m\nremotes:\n  r:\n    type: s3\n    endpoint: http://127.0.0.1:7070\n    access_key_id: AK\n    secret_access_key: FUZZSECRET\n",
		"remotes:\n  s:\n    type: swift\n    auth_url: https://k.example.org:5000/v3\n    application_credential_id: id\n    application_credential_secret: FUZZSECRET\n",
		"remotes:\n  i:\n    type: icos\n",
		"remotes:\n  r:\n    type: s3\n    endpoint: https://e.org\n    buckets: [a, b]\n    anonymous: true\n",
		"remotes: []\n", "cache: 5\n", "{", "remotes:\n  r: &a\n    type: *a\n", "- - -\n",
		"remotes:\n  r:\n    type: s3\n    endpoint: https://e.org\n    secret_access_key: [FUZZSECRET]\n",
	} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := Parse([]byte(doc))
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error message for %q", doc)
			}
			if strings.Contains(err.Error(), "FUZZSECRET") {
				t.Fatalf("error shows a secret: %v", err)
			}
			return
		}
		if len(cfg.Remotes) == 0 {
			t.Fatalf("parsed %q without remotes", doc)
		}
		for _, r := range cfg.Remotes {
			if !remoteName.MatchString(r.Name) {
				t.Fatalf("remote name %q accepted", r.Name)
			}
		}
		if cfg.Cache.Memory < 16<<20 {
			t.Fatalf("cache.memory %d accepted", cfg.Cache.Memory)
		}
	})
}

// FuzzParseSize: no panic, never negative, and FormatSize's output reads
// back as the same size (within the rounding of one decimal).
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MiB", "1.5GiB", "10", "0", "8 mib", "1e3K", "-1", ".", "1TiB", "4611686018427387904", "NaN", "Inf"} {
		f.Add(s, int64(0))
	}
	f.Add("", int64(1536))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if v, err := ParseSize(s); err == nil && v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		} else if err != nil && !strings.Contains(err.Error(), "size") {
			t.Fatalf("ParseSize(%q): error does not say what: %v", s, err)
		}
		if n < 0 || n > 1<<50 {
			return
		}
		text := FormatSize(n)
		v, err := ParseSize(text)
		if err != nil {
			t.Fatalf("ParseSize(FormatSize(%d) = %q): %v", n, text, err)
		}
		diff := v - n
		if diff < 0 {
			diff = -diff
		}
		if !strings.Contains(text, ".") && diff != 0 || diff > n/20 {
			t.Fatalf("ParseSize(FormatSize(%d) = %q) = %d", n, text, v)
		}
	})
}
