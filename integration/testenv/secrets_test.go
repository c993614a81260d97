package testenv

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLogSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("remotes:\n  s3:\n    type: s3\n    secret_access_key: s3-secret-value\n    access_key_id: AKIAVISIBLE\n  sw:\n    type: swift\n    password: testing\n"), 0o600)
	home := filepath.Join(dir, "home")
	creds := filepath.Join(home, ICOSCredentialsFile)
	os.MkdirAll(filepath.Dir(creds), 0o700)
	obfuscated := []byte("icos-password")
	for i := range obfuscated {
		obfuscated[i] ^= 0xff
	}
	os.WriteFile(creds, []byte(`{"user_id": "u@x.org", "password": "`+hex.EncodeToString(obfuscated)+`", "cookie_value": "cpauthToken=c2VjcmV0LWNvb2tpZQ==;"}`), 0o600)
	secrets := mountSecrets(MountOptions{Config: cfg, Home: home}, []string{"OS_ACCESS_TOKEN=env-token-value", "OS_AUTH_URL=http://127.0.0.1:1", "PATH=/usr/bin"})

	for _, c := range []struct {
		name, log, want string
	}{
		{"clean", "level=INFO msg=mounted key=AKIAVISIBLE\nattesting testing-ok\n", ""},
		{"s3 secret", "a\nerr=\"signature with s3-secret-value\"\n", "line 2 shows the config remotes.s3.secret_access_key"},
		{"swift password as a word", "password=testing\n", "config remotes.sw.password"},
		{"environment token", "token env-token-value\n", "environment OS_ACCESS_TOKEN"},
		{"icos password", "login icos-password failed\n", "icoscp_core password"},
		{"icos cookie value", "token c2VjcmV0LWNvb2tpZQ== sent\n", "icoscp_core cookie"},
		{"jwt", "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.\n", "shows a JWT"},
		{"cookie", "Cookie: cpauthToken=WzE3MDAwMDAwMDAwMDAsInUiXQ==\n", "a cpauth cookie"},
		{"swift token", "X-Auth-Token: AUTH_tk0123456789abcdef0123\n", "a Swift token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			os.WriteFile(path, []byte(c.log), 0o600)
			err := CheckLogSecrets(path, secrets)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("false alarm: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
			for _, s := range secrets {
				if err != nil && strings.Contains(err.Error(), s.value) {
					t.Fatalf("the error shows the secret: %v", err)
				}
			}
		})
	}
}
