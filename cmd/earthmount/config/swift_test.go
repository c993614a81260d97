package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSwiftEnvFallbacks(t *testing.T) {
	cfg, err := Parse([]byte(`
remotes:
  eosc:
    type: swift
    project_id: from-config
    containers: [a, b]
`))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"OS_AUTH_URL": "https://identity.example.org/v3", "OS_AUTH_TYPE": "v3oidcaccesstoken",
		"OS_PROJECT_ID": "from-env", "OIDC_ACCESS_TOKEN": "at-oidc", "FEDCLOUD_OIDC_ACCESS_TOKEN": "at-fedcloud",
		"OIDC_REFRESH_TOKEN": "rt", "OS_REGION_NAME": "Brno1",
	}
	if err := cfg.Resolve(envOf(env)); err != nil {
		t.Fatal(err)
	}
	sw := cfg.Remotes[0].Swift
	checks := []struct{ key, got, want, from string }{
		{"auth_url", sw.AuthURL, "https://identity.example.org/v3", "OS_AUTH_URL"},
		{"project_id", sw.ProjectID, "from-config", "config"},
		{"access_token", sw.AccessToken.Reveal(), "at-oidc", "OIDC_ACCESS_TOKEN"},
		{"refresh_token", sw.RefreshToken.Reveal(), "rt", "OIDC_REFRESH_TOKEN"},
		{"region_name", sw.Region, "Brno1", "OS_REGION_NAME"},
	}
	for _, c := range checks {
		if c.got != c.want || sw.From[c.key] != c.from {
			t.Errorf("%s = %q from %q, want %q from %q", c.key, c.got, sw.From[c.key], c.want, c.from)
		}
	}
	if m, err := sw.Method(); m != AuthOIDC || err != nil || sw.Check() != nil {
		t.Errorf("Method %q %v, Check %v", m, err, sw.Check())
	}
	if len(sw.Containers) != 2 {
		t.Errorf("containers %v", sw.Containers)
	}
	env["OS_ACCESS_TOKEN"] = "at-os"
	sw2 := &Swift{}
	sw2.ApplyEnv(envOf(env))
	if sw2.AccessToken.Reveal() != "at-os" || sw2.From["access_token"] != "OS_ACCESS_TOKEN" {
		t.Errorf("OS_ACCESS_TOKEN must come first: %q from %q", sw2.AccessToken.Reveal(), sw2.From["access_token"])
	}
}

func TestSwiftMethodAndCheck(t *testing.T) {
	tests := []struct {
		name    string
		sw      Swift
		method  string
		wantErr string
	}{
		{"oidc inferred", Swift{AuthURL: "https://k/v3", AccessToken: "a"}, AuthOIDC, ""},
		{"oidc without a token", Swift{AuthURL: "https://k/v3", AuthType: "v3oidcaccesstoken"}, AuthOIDC, "needs access_token (OS_ACCESS_TOKEN"},
		{"password", Swift{AuthURL: "https://k/v3", Username: "u", Password: "p"}, AuthPassword, ""},
		{"password without auth_url", Swift{AuthType: "v3password", Username: "u", Password: "p"}, AuthPassword, "needs auth_url (or OS_AUTH_URL"},
		{"application credential", Swift{AuthURL: "https://k/v3", ApplicationCredentialID: "id", ApplicationCredentialSecret: "s"}, AuthAppCredential, ""},
		{"app credential without secret", Swift{AuthURL: "https://k/v3", AuthType: "v3applicationcredential", ApplicationCredentialID: "id"}, AuthAppCredential, "OS_APPLICATION_CREDENTIAL_SECRET"},
		{"token", Swift{AuthToken: "t", StorageURL: "https://s/v1/AUTH_x"}, AuthToken, ""},
		{"token without storage url", Swift{AuthType: "token", AuthToken: "t"}, AuthToken, "needs storage_url (or OS_STORAGE_URL"},
		{"v1 inferred from the URL", Swift{AuthURL: "http://127.0.0.1:8080/auth/v1.0", Username: "test:tester", Password: "testing"}, AuthV1, ""},
		{"unknown auth_type", Swift{AuthType: "v3samlpassword"}, "", `auth_type "v3samlpassword"`},
		{"nothing", Swift{}, "", "cannot tell how to log in"},
		{"bad url", Swift{AuthURL: "identity.example.org", AccessToken: "a"}, AuthOIDC, "auth_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := tt.sw.Method()
			if m != tt.method {
				t.Errorf("Method = %q, want %q", m, tt.method)
			}
			err := tt.sw.Check()
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSwiftParseErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown key", "remotes:\n  e:\n    type: swift\n    auth_ur: x\n", "remotes.e.auth_ur: unknown key"},
		{"region twice", "remotes:\n  e:\n    type: swift\n    region: a\n    region_name: b\n", "region and region_name"},
		{"bad container", "remotes:\n  e:\n    type: swift\n    containers: ['a/b']\n", "remotes.e.containers[0]"},
		{"credentials_from with keys", "remotes:\n  s:\n    type: s3\n    endpoint: https://e.org\n    credentials_from: e\n    anonymous: true\n", "credentials_from: cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCredentialsFromResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(doc string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("remotes:\n  eosc:\n    type: swift\n  eosc-s3:\n    type: s3\n    endpoint: https://s3.example.org\n    credentials_from: eosc\n")
	cfg, err := Load(good, envOf(map[string]string{"OS_AUTH_URL": "https://k/v3"}))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := cfg.Remote("eosc-s3")
	e, _ := cfg.Remote("eosc")
	if r.S3.CredentialsSwift != e.Swift || e.Swift.AuthURL != "https://k/v3" {
		t.Errorf("credentials_from not linked or env not applied: %+v", r.S3)
	}
	bad := write("remotes:\n  osn:\n    type: s3\n    endpoint: https://a.org\n  x:\n    type: s3\n    endpoint: https://s3.example.org\n    credentials_from: osn\n")
	if _, err := Load(bad, envOf(nil)); err == nil || !strings.Contains(err.Error(), `remotes.x.credentials_from: "osn" is not a swift remote`) {
		t.Errorf("Load = %v", err)
	}
}

func TestBuiltinEOSC(t *testing.T) {
	cfg := Builtin(envOf(nil))
	if _, ok := cfg.Remote("eosc"); ok {
		t.Errorf("an eosc remote without OS_AUTH_URL")
	}
	cfg = Builtin(envOf(map[string]string{"OS_AUTH_URL": "https://k/v3", "OS_ACCESS_TOKEN": "a", "OS_PROJECT_ID": "p", "AWS_ENDPOINT_URL_S3": "https://s3.example.org"}))
	e, ok1 := cfg.Remote("eosc")
	s, ok2 := cfg.Remote("eosc-s3")
	if !ok1 || !ok2 || e.Swift.ProjectID != "p" || s.S3.Endpoint != "https://s3.example.org" || s.S3.CredentialsSwift != e.Swift {
		t.Fatalf("built-in remotes %+v", cfg.Remotes)
	}
	cfg = Builtin(envOf(map[string]string{"OS_AUTH_URL": "http://h/auth/v1.0", "OS_USERNAME": "u", "OS_PASSWORD": "p"}))
	if _, ok := cfg.Remote("eosc-s3"); ok {
		t.Errorf("eosc-s3 offered for a v1 login, which has no EC2 credentials")
	}
	if _, ok := cfg.Remote("eosc"); !ok {
		t.Errorf("no eosc remote")
	}
	cfg = Builtin(envOf(map[string]string{"OS_AUTH_URL": "https://k/v3", "OS_ACCESS_TOKEN": "a"}))
	if s, _ := cfg.Remote("eosc-s3"); s == nil || s.S3.Endpoint != DefaultEOSCS3Endpoint {
		t.Errorf("eosc-s3 without an S3 endpoint in the environment: %+v", s)
	}
}
