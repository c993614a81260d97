package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// run executes the CLI with args and a private environment.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb, func(k string) string { return env[k] })
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "earthmount ") {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestRemotesNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	doc := `remotes:
  keyed:
    type: s3
    endpoint: http://127.0.0.1:9
    access_key_id: AKIATESTKEY
    secret_access_key: s3cr3t-v4lue
  open:
    type: s3
    endpoint: https://nyu1.osn.mghpcc.org
    anonymous: true
`
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir, "AWS_EC2_METADATA_DISABLED": "true"}
	out, errOut, err := run(t, env, "remotes", "--config", cfg)
	if err != nil {
		t.Fatalf("remotes: %v (%s)", err, errOut)
	}
	if strings.Contains(out+errOut, "s3cr3t") {
		t.Errorf("secret printed:\n%s", out)
	}
	for _, want := range []string{"keyed", "open", "s3", "http://127.0.0.1:9", "anonymous"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMountArgumentErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing mountpoint", []string{"mount", filepath.Join(dir, "nope")}, "does not exist (create it with: mkdir -p"},
		{"not a directory", []string{"mount", file}, "is not a directory"},
		{"already mounted", []string{"mount", "/proc"}, "is already mounted (proc)"},
		{"unknown remote", []string{"mount", "nosuch:x", dir}, `no remote called "nosuch" (configured: osn, icos)`},
		{"bad path", []string{"mount", "osn:a/../b", dir}, "'..'"},
		{"bad cache size", []string{"mount", "--cache-memory", "lots", dir}, "--cache-memory"},
		{"bad log level", []string{"mount", "--log-level", "loud", dir}, "--log-level"},
		{"missing config", []string{"mount", "--config", filepath.Join(dir, "none.yaml"), dir}, "none.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	cfg := config.Builtin(func(string) string { return "" })
	tests := []struct {
		arg         string
		prefix      string
		single      bool
		remoteCount int
	}{
		{"", "", false, 2}, // osn and icos
		{"osn", "", true, 1},
		{"osn:", "", true, 1},
		{"osn:leap-pangeo-manual", "leap-pangeo-manual/", true, 1},
		{"osn:/leap-pangeo-manual/a/b/", "leap-pangeo-manual/a/b/", true, 1},
	}
	for _, tt := range tests {
		got, err := parseTarget(cfg, tt.arg)
		if err != nil || got.prefix != tt.prefix || got.single != tt.single || len(got.remotes) != tt.remoteCount {
			t.Errorf("parseTarget(%q) = %+v, %v", tt.arg, got, err)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/tmp/a\040b\134c`); got != `/tmp/a b\c` {
		t.Errorf("got %q", got)
	}
}
