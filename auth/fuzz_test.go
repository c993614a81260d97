package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseICOSCookie: no panic on any text; what parses keeps the cookie
// name in front; a token built from parts parses back into those parts.
func FuzzParseICOSCookie(f *testing.F) {
	f.Add("cpauthToken=WzE3MDAwMDAwMDAwMDAsInVAZXgub3JnIiwiUGFzc3dvcmQiXR5zaWc=;", int64(1700000000000), "u@ex.org", "Password", []byte("sig"))
	f.Add("WzE3MDAwMDAwMDAwMDAsInUiLCJTYW1sIl0ec2ln", int64(0), "", "", []byte{})
	f.Add("fieldsitesToken=!!!", int64(-1), "ü", "Saml", []byte{0x1e, 0})
	f.Add("=", int64(1<<53), "a\"b", "x", []byte("\xff"))
	f.Fuzz(func(t *testing.T, text string, ms int64, user, source string, sig []byte) {
		if tok, err := ParseICOSCookie(text); err == nil {
			name, _, ok := strings.Cut(tok.Cookie.Reveal(), "=")
			if !ok || !icosCookieNameLike(name) || name == "" {
				t.Fatalf("ParseICOSCookie(%q): cookie %q has no name", text, tok.Cookie.Reveal())
			}
		} else if !strings.HasPrefix(err.Error(), "icos token: ") {
			t.Fatalf("error does not say what failed: %v", err)
		}
		if !utf8.ValidString(user) || !utf8.ValidString(source) || ms < -(1<<53) || ms > 1<<53 {
			return
		}
		js, err := json.Marshal([]any{ms, user, source})
		if err != nil {
			t.Fatal(err)
		}
		raw := append(append(js, 0x1e), sig...)
		cookie := ICOSCookieName + "=" + base64.StdEncoding.EncodeToString(raw) + ";"
		tok, err := ParseICOSCookie(cookie)
		if err != nil {
			t.Fatalf("ParseICOSCookie(%q): %v", cookie, err)
		}
		if !tok.Expiry.Equal(time.UnixMilli(ms)) || tok.User != user || tok.Source != source || tok.Cookie.Reveal() != cookie {
			t.Fatalf("round trip of (%d, %q, %q) gave %+v", ms, user, source, tok)
		}
	})
}

// FuzzJWTExpiry: no panic on any text; a token with an integer exp claim
// gives that time back.
func FuzzJWTExpiry(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.", int64(1700000000), "sub")
	f.Add("a.b.c", int64(0), "")
	f.Add("..", int64(-5), "x")
	f.Add("x.eyJleHAiOiIxZTk5OTkifQ.y", int64(1<<40), "\"")
	f.Fuzz(func(t *testing.T, token string, exp int64, sub string) {
		if _, err := JWTExpiry(token); err != nil && !strings.Contains(err.Error(), "JWT") {
			t.Fatalf("JWTExpiry(%q): error does not say what: %v", token, err)
		}
		if exp < -(1<<40) || exp > 1<<40 || !utf8.ValidString(sub) {
			return
		}
		payload, err := json.Marshal(map[string]any{"exp": exp, "sub": sub, "iat": exp - 60})
		if err != nil {
			t.Fatal(err)
		}
		tok := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
		got, err := JWTExpiry(tok)
		if err != nil || !got.Equal(time.Unix(exp, 0)) {
			t.Fatalf("JWTExpiry(exp=%d) = %v, %v", exp, got, err)
		}
	})
}
