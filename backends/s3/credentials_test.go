package s3

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

const (
	credentialsFile = `[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default
[osn]
aws_access_key_id = AKIDOSN
aws_secret_access_key = secret-osn
`
	configFile = `[profile cfgonly]
region = us-east-1
[profile imds]
role_arn = arn:aws:iam::123456789012:role/x
credential_source = Ec2InstanceMetadata
`
	configDefaultRegionOnly = "[default]\nregion = us-east-1\n"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialOrder(t *testing.T) {
	cases := []struct {
		name    string
		creds   string            // ~/.aws/credentials
		config  string            // ~/.aws/config
		env     map[string]string // "~" in values means HOME
		cfg     Config
		source  string // want; "" with wantErr
		keyID   string // key that signs requests; "" means unsigned
		wantErr string
		sessTok string
	}{
		{name: "explicit keys first", creds: credentialsFile, env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_PROFILE": "osn"},
			cfg: Config{AccessKeyID: "AKIDCFG", SecretAccessKey: "secret-cfg", Profile: "osn"}, source: "access keys from config", keyID: "AKIDCFG"},
		{name: "anonymous by config", creds: credentialsFile, env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env"},
			cfg: Config{Anonymous: true}, source: "anonymous (unsigned requests)"},
		{name: "profile before environment", creds: credentialsFile, env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env"},
			cfg: Config{Profile: "osn"}, source: `profile "osn" (~/.aws/credentials)`, keyID: "AKIDOSN"},
		{name: "profile missing", creds: credentialsFile, cfg: Config{Profile: "nope"}, wantErr: `profile "nope" not found`},
		{name: "profile without credentials", config: configFile, cfg: Config{Profile: "cfgonly"}, wantErr: `profile "cfgonly" has no credentials`},
		{name: "profile that needs instance metadata", config: configFile, cfg: Config{Profile: "imds"}, wantErr: `profile "imds" has no credentials`},
		{name: "environment keys", creds: credentialsFile, env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_SESSION_TOKEN": "token-env", "AWS_PROFILE": "osn"},
			source: "environment (AWS_ACCESS_KEY_ID)", keyID: "AKIDENV", sessTok: "token-env"},
		{name: "AWS_PROFILE", creds: credentialsFile, env: map[string]string{"AWS_PROFILE": "osn"}, source: `profile "osn" (AWS_PROFILE)`, keyID: "AKIDOSN"},
		{name: "AWS_PROFILE missing", creds: credentialsFile, env: map[string]string{"AWS_PROFILE": "nope"}, wantErr: `profile "nope" (from AWS_PROFILE) not found`},
		{name: "default profile", creds: credentialsFile, source: `shared credentials file, profile "default"`, keyID: "AKIDDEFAULT"},
		{name: "AWS_SHARED_CREDENTIALS_FILE", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "~/elsewhere"},
			source: `shared credentials file, profile "default"`, keyID: "AKIDDEFAULT"},
		{name: "nothing: anonymous", source: "anonymous (unsigned requests)"},
		{name: "default profile without keys: anonymous", config: configDefaultRegionOnly, source: "anonymous (unsigned requests)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := isolateAWS(t)
			if c.creds != "" {
				writeFile(t, filepath.Join(home, ".aws", "credentials"), c.creds)
			}
			if c.config != "" {
				writeFile(t, filepath.Join(home, ".aws", "config"), c.config)
			}
			for k, v := range c.env {
				v = strings.ReplaceAll(v, "~", home)
				t.Setenv(k, v)
				if k == "AWS_SHARED_CREDENTIALS_FILE" {
					writeFile(t, v, credentialsFile)
				}
			}
			f := newFakeS3(t, "b")
			cfg := c.cfg
			cfg.Remote, cfg.Endpoint, cfg.MaxAttempts = "test", f.srv.URL, 1
			st, err := New(t.Context(), cfg)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("New: %v, want an error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := st.CredentialSource(); got != c.source || strings.Contains(got, "secret") {
				t.Errorf("CredentialSource() = %q, want %q", got, c.source)
			}
			if len(f.recorded()) != 0 {
				t.Errorf("New sent %d requests", len(f.recorded()))
			}
			if _, err := st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"}); err != nil {
				t.Fatalf("List: %v", err)
			}
			r := f.recorded()[0]
			auth := r.Header.Get("Authorization")
			if c.keyID == "" && auth != "" || c.keyID != "" && !strings.Contains(auth, "Credential="+c.keyID+"/") {
				t.Errorf("Authorization %q, want signed by %q", auth, c.keyID)
			}
			if got := r.Header.Get("X-Amz-Security-Token"); got != c.sessTok {
				t.Errorf("session token %q, want %q", got, c.sessTok)
			}
		})
	}
}

// TestNeverInstanceMetadata points the SDK's instance metadata endpoint at
// a server that fails the test if asked anything, with no credentials
// anywhere and the SDK's automatic defaults mode requested.
func TestNeverInstanceMetadata(t *testing.T) {
	home := isolateAWS(t)
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("instance metadata service asked %s %s", r.Method, r.URL)
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(imds.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	t.Setenv("AWS_DEFAULTS_MODE", "auto")
	writeFile(t, filepath.Join(home, ".aws", "config"), configDefaultRegionOnly+configFile)

	f := newFakeS3(t, "b")
	for _, cfg := range []Config{{}, {Profile: "imds"}, {Profile: "cfgonly"}} {
		cfg.Remote, cfg.Endpoint, cfg.MaxAttempts = "test", f.srv.URL, 1
		st, err := New(t.Context(), cfg)
		if err != nil {
			continue // refused at New, without asking anyone
		}
		if got := st.CredentialSource(); got != "anonymous (unsigned requests)" {
			t.Errorf("CredentialSource() = %q, want anonymous", got)
		}
		if _, err := st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"}); err != nil {
			t.Errorf("List: %v", err)
		}
	}
}

// TestCABundle checks that TLS is verified and that AWS_CA_BUNDLE adds a
// trusted root, as with every AWS tool.
func TestCABundle(t *testing.T) {
	home := isolateAWS(t)
	f := newFakeS3TLS(t, "b")
	cfg := Config{Remote: "test", Endpoint: f.srv.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret, MaxAttempts: 1}
	list := func() error {
		st, err := New(t.Context(), cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		_, err = st.List(t.Context(), backends.ListRequest{Prefix: "b/", Delimiter: "/"})
		return err
	}
	if err := list(); err == nil {
		t.Error("a self-signed certificate was accepted without AWS_CA_BUNDLE")
	} else {
		checkError(t, err, "list", backends.ErrUnavailable, f.srv.URL)
	}
	bundle := filepath.Join(home, "ca.pem")
	writeFile(t, bundle, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})))
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if err := list(); err != nil {
		t.Errorf("with AWS_CA_BUNDLE: %v", err)
	}
}
