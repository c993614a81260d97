package config

import (
	"strings"
	"testing"
)

func TestParseICOS(t *testing.T) {
	cfg, err := Parse([]byte(`
remotes:
  portal:
    type: icos
  local:
    type: icos
    meta_url: http://127.0.0.1:8765/meta
    data_url: http://127.0.0.1:8765/data
    auth_url: http://127.0.0.1:8765/auth
    credentials_file: ~/icos.json
    username: test@example.org
    password: test-password
    show_deprecated: true
`))
	if err != nil {
		t.Fatal(err)
	}
	p, l := cfg.Remotes[0].ICOS, cfg.Remotes[1].ICOS
	if p.MetaURL != ICOSMetaURL || p.DataURL != ICOSDataURL || p.AuthURL != ICOSAuthURL || p.CredentialsFile != "" || p.ShowDeprecated {
		t.Errorf("defaults = %+v", p)
	}
	if l.MetaURL != "http://127.0.0.1:8765/meta" || l.CredentialsFile != "~/icos.json" || l.Password.Reveal() != "test-password" || !l.ShowDeprecated {
		t.Errorf("local = %+v", l)
	}
	if cfg.Remotes[1].Endpoint() != "http://127.0.0.1:8765/data" {
		t.Errorf("endpoint = %q", cfg.Remotes[1].Endpoint())
	}
	b := Builtin(func(string) string { return "" })
	if r, ok := b.Remote("icos"); !ok || r.ICOS == nil || r.ICOS.DataURL != ICOSDataURL {
		t.Errorf("no built-in icos remote: %+v", b.Remotes)
	}
}

func TestParseICOSErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"unknown key", "    endpoint: x\n", "remotes.r.endpoint: unknown key"},
		{"bad url", "    data_url: data.icos-cp.eu\n", "remotes.r.data_url"},
		{"user without password", "    username: a@b.c\n", "username and password go together"},
		{"bad bool", "    show_deprecated: maybe\n", "remotes.r.show_deprecated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte("remotes:\n  r:\n    type: icos\n" + c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}
