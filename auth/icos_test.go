package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test vectors from icos-api.md §2.5 (computed with icoscp_core's code).
func TestICOSPasswordObfuscation(t *testing.T) {
	for _, c := range []struct{ clear, enc string }{
		{"abc", "9e9d9c"},
		{"s3cret", "8ccc9c8d9a8b"},
		{"pässword!", "8f3c5b8c8c88908d9bde"},
		{"", ""},
	} {
		t.Run(c.clear, func(t *testing.T) {
			if got := EncodeICOSPassword(c.clear); got != c.enc {
				t.Errorf("Encode(%q) = %q, want %q", c.clear, got, c.enc)
			}
			if got, err := DecodeICOSPassword(c.enc); err != nil || got != c.clear {
				t.Errorf("Decode(%q) = %q, %v", c.enc, got, err)
			}
		})
	}
	if got, err := DecodeICOSPassword("9E9D9C"); err != nil || got != "abc" {
		t.Errorf("Decode(upper case) = %q, %v", got, err)
	}
	for _, bad := range []string{"9e9", "zz"} {
		if _, err := DecodeICOSPassword(bad); err == nil {
			t.Errorf("Decode(%q) succeeded", bad)
		}
	}
}

// icosTestToken builds a token as cpauth does: std Base64 of the JSON
// array, 0x1E and signature bytes.
func icosTestToken(expiry time.Time, user string) string {
	raw := fmt.Appendf(nil, `[%d,%q,"Password"]`, expiry.UnixMilli(), user)
	raw = append(append(raw, 0x1e), 0x30, 0x81, 0xff, 0x02)
	return base64.StdEncoding.EncodeToString(raw)
}

func TestParseICOSCookie(t *testing.T) {
	exp := time.UnixMilli(1700000000123)
	tok := icosTestToken(exp, "user@example.org")
	for _, c := range []struct{ name, in string }{
		{"cookie", "cpauthToken=" + tok},
		{"as icoscp_core stores it", "cpauthToken=" + tok + ";"},
		{"bare token", tok},
		{"spaces", "  cpauthToken=" + tok + "; \n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseICOSCookie(c.in)
			if err != nil || !got.Expiry.Equal(exp) || got.User != "user@example.org" || got.Source != "Password" {
				t.Fatalf("Parse = %+v, %v", got, err)
			}
			if !strings.HasPrefix(got.Cookie.Reveal(), "cpauthToken=") {
				t.Errorf("cookie %q lacks the cookie name", got.Cookie.Reveal())
			}
		})
	}
	for _, bad := range []string{"cpauthToken=!!!", "cpauthToken=" + base64.StdEncoding.EncodeToString([]byte("[1,2]"))} {
		if _, err := ParseICOSCookie(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestICOSCredentialsFileFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".icoscp", "cpauthToken_auth_conf.json")
	c := ICOSCredentials{User: "ülla@example.org", Password: "pässword!", Cookie: "cpauthToken=WzE3;"}
	if err := WriteICOSCredentials(path, c); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	want := `{"user_id": "\u00fclla@example.org", "password": "8f3c5b8c8c88908d9bde", "cookie_value": "cpauthToken=WzE3;"}`
	if string(raw) != want {
		t.Errorf("file =\n %s\nwant\n %s", raw, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadICOSCredentials(path)
	if err != nil || got != c {
		t.Errorf("read back %+v, %v", got, err)
	}
	// As icoscp_core's init_config_file writes it: no cookie.
	os.WriteFile(path, []byte(`{"user_id": "a@b.c", "password": "9e9d9c"}`), 0o644)
	if got, err := ReadICOSCredentials(path); err != nil || got.User != "a@b.c" || got.Password != "abc" || got.Cookie != "" {
		t.Errorf("read %+v, %v", got, err)
	}
}

// fakeCpauth answers /password/login for one account, with tokens valid
// for validity, and counts logins.
type fakeCpauth struct {
	mu       sync.Mutex
	logins   int
	validity time.Duration
}

// ServeHTTP logs in; each login's token differs (its expiry moves by a
// second per login), as two real logins' tokens do.
func (f *fakeCpauth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.logins++
	n := f.logins
	f.mu.Unlock()
	if r.PostForm.Get("mail") != "u@x.org" || r.PostForm.Get("password") != "pw" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "Incorrect user name or password")
		return
	}
	w.Header().Add("Set-Cookie", "cpauthToken="+icosTestToken(time.Now().Add(f.validity+time.Duration(n)*time.Second), "u@x.org")+"; Path=/; HttpOnly")
	fmt.Fprint(w, "OK")
}

func (f *fakeCpauth) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

func TestICOSSourceFile(t *testing.T) {
	cp := &fakeCpauth{validity: 100000 * time.Second}
	srv := httptest.NewServer(cp)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "creds.json")
	expired := "cpauthToken=" + icosTestToken(time.Now().Add(-time.Minute), "u@x.org") + ";"
	if err := WriteICOSCredentials(path, ICOSCredentials{User: "u@x.org", Password: "pw", Cookie: Secret(expired)}); err != nil {
		t.Fatal(err)
	}
	s, err := NewICOSSource(ICOSOptions{AuthURL: srv.URL, CredentialsFile: path})
	if err != nil || cp.count() != 0 {
		t.Fatalf("New: %v, %d logins (want lazy)", err, cp.count())
	}
	var first Secret
	for i := range 3 {
		c, err := s.Cookie(t.Context())
		if err != nil || c == "" {
			t.Fatalf("Cookie: %v", err)
		}
		if i == 0 {
			first = c
		} else if c != first {
			t.Error("a fresh token was replaced")
		}
	}
	if cp.count() != 1 {
		t.Errorf("%d logins for an expired cached token, want 1", cp.count())
	}
	back, err := ReadICOSCredentials(path)
	if err != nil || back.Cookie != first || back.Password != "pw" {
		t.Errorf("file after login = %+v, %v", back, err)
	}
	// Renew after a refusal logs in again once; a racing caller with the
	// old cookie gets the new one without another login.
	next, err := s.Renew(t.Context(), first)
	if err != nil || cp.count() != 2 {
		t.Fatalf("Renew: %v, %d logins", err, cp.count())
	}
	if again, _ := s.Renew(t.Context(), first); again != next || cp.count() != 2 {
		t.Errorf("second Renew with the old cookie logged in again")
	}
}

func TestICOSSourceNearExpiry(t *testing.T) {
	cp := &fakeCpauth{validity: 30 * time.Minute} // under the 1 h margin: never fresh
	srv := httptest.NewServer(cp)
	defer srv.Close()
	s, err := NewICOSSource(ICOSOptions{AuthURL: srv.URL, Username: "u@x.org", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	s.Cookie(t.Context())
	s.Cookie(t.Context())
	if cp.count() != 2 {
		t.Errorf("%d logins for tokens with 30 min left, want one per call (icoscp_core's rule)", cp.count())
	}
	s2, _ := NewICOSSource(ICOSOptions{AuthURL: srv.URL, Username: "u@x.org", Password: "pw", FreshnessMargin: time.Minute})
	s2.Cookie(t.Context())
	s2.Cookie(t.Context())
	if cp.count() != 3 {
		t.Errorf("%d logins with a 1-minute margin, want 3", cp.count())
	}
}

func TestICOSSourceWrongPassword(t *testing.T) {
	cp := &fakeCpauth{validity: time.Hour * 30}
	srv := httptest.NewServer(cp)
	defer srv.Close()
	s, err := NewICOSSource(ICOSOptions{AuthURL: srv.URL, Username: "u@x.org", Password: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Cookie(t.Context()); !errors.Is(err, ErrICOSLoginRefused) || !strings.Contains(err.Error(), "Incorrect user name or password") {
			t.Errorf("Cookie = %v, want ErrICOSLoginRefused with the server's text", err)
		}
	}
	if cp.count() != 1 {
		t.Errorf("%d logins with a wrong password, want 1", cp.count())
	}
}

func TestICOSSourceOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "creds.json")
	WriteICOSCredentials(file, ICOSCredentials{User: "f@x.org", Password: "pw"})
	tok := "cpauthToken=" + icosTestToken(time.Now().Add(time.Hour), "c@x.org")
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "ICOS_COOKIE_TOKEN" {
				return v
			}
			return ""
		}
	}
	cases := []struct {
		name string
		opts ICOSOptions
		want string
	}{
		{"cookie from config first", ICOSOptions{CookieToken: Secret(tok), Getenv: env(tok), CredentialsFile: file, Username: "u", Password: "p"}, "cookie token from config"},
		{"then the environment", ICOSOptions{Getenv: env(tok), CredentialsFile: file, Username: "u", Password: "p"}, "ICOS_COOKIE_TOKEN"},
		{"then the file", ICOSOptions{CredentialsFile: file, Username: "u", Password: "p"}, "credentials file"},
		{"then user and password", ICOSOptions{CredentialsFile: filepath.Join(dir, "none.json"), Username: "u", Password: "p"}, "user and password"},
		{"else anonymous", ICOSOptions{CredentialsFile: filepath.Join(dir, "none.json")}, "anonymous"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.AuthURL = "http://127.0.0.1:9"
			s, err := NewICOSSource(c.opts)
			if err != nil || !strings.Contains(s.Describe(), c.want) {
				t.Errorf("Describe = %q, %v; want %q", s.Describe(), err, c.want)
			}
		})
	}
	expired := "cpauthToken=" + icosTestToken(time.Now().Add(5*time.Second), "c@x.org")
	s, _ := NewICOSSource(ICOSOptions{CookieToken: Secret(expired)})
	if _, err := s.Cookie(t.Context()); !errors.Is(err, ErrICOSTokenExpired) {
		t.Errorf("a cookie token with 5 s left: %v, want ErrICOSTokenExpired", err)
	}
}
