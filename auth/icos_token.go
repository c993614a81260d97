package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ICOSCookieName is the cpauth cookie of the ICOS and ICOS Cities portals.
const ICOSCookieName = "cpauthToken"

// ICOSToken is a cpauth token as icoscp_core keeps it: the cookie text
// "cpauthToken=<base64>" (possibly with a trailing ";") and what the
// token says about itself. Clients never verify the signature.
type ICOSToken struct {
	Cookie Secret    // sent as the Cookie header, exactly
	Expiry time.Time // from the token's first JSON element (epoch ms)
	User   string
	Source string // "Password", "Saml", ...
}

// ParseICOSCookie parses a cookie text the way icoscp_core does: the part
// after the first "=" (which must come within the first 100 characters;
// a bare token without "cpauthToken=" is accepted too) is standard Base64
// of a JSON array [expiryMs, "user", "Source"], a 0x1E byte and the
// signature. A trailing ";" and whitespace are ignored.
func ParseICOSCookie(s string) (ICOSToken, error) {
	s = strings.TrimSpace(s)
	val := s
	if i := strings.IndexByte(s, '='); i > 0 && i < 100 && icosCookieNameLike(s[:i]) {
		val = s[i+1:]
	} else {
		s = ICOSCookieName + "=" + s
	}
	val = strings.TrimRight(strings.TrimSpace(val), ";")
	raw, err := base64.StdEncoding.DecodeString(val)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(val, "="))
	}
	if err != nil {
		return ICOSToken{}, fmt.Errorf("icos token: not base64: %w", err)
	}
	js, _, found := bytes.Cut(raw, []byte{0x1e})
	if !found {
		return ICOSToken{}, errors.New("icos token: no signature separator")
	}
	var parts []any
	if err := json.Unmarshal(js, &parts); err != nil || len(parts) != 3 {
		return ICOSToken{}, errors.New("icos token: not a [expiry, user, source] array")
	}
	ms, ok1 := parts[0].(float64)
	user, ok2 := parts[1].(string)
	src, ok3 := parts[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return ICOSToken{}, errors.New("icos token: unexpected element types")
	}
	return ICOSToken{Cookie: Secret(s), Expiry: time.UnixMilli(int64(ms)), User: user, Source: src}, nil
}

// icosCookieNameLike reports whether s looks like a cookie name (cpauthToken,
// fieldsitesToken) rather than the start of a bare Base64 token, whose
// expiry digits make it hold digits early on.
func icosCookieNameLike(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// icosSetCookieValue keeps a Set-Cookie header's text up to the first
// whitespace, as icoscp_core does: "cpauthToken=<token>;".
func icosSetCookieValue(h string) string {
	h = strings.TrimSpace(h)
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		h = h[:i]
	}
	return h
}

// EncodeICOSPassword obfuscates a password the way icoscp_core stores it
// in its credentials file: every UTF-8 byte complemented, in lowercase
// hex. It is not encryption; the file's mode is what protects it.
func EncodeICOSPassword(pw string) string {
	b := []byte(pw)
	for i := range b {
		b[i] ^= 0xff
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(out)
}

// DecodeICOSPassword reverses EncodeICOSPassword (hex in either case).
func DecodeICOSPassword(s string) (string, error) {
	if len(s)%2 != 0 {
		return "", errors.New("icos password: odd hex length")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		hi, ok1 := icosUnhex(s[2*i])
		lo, ok2 := icosUnhex(s[2*i+1])
		if !ok1 || !ok2 {
			return "", errors.New("icos password: not hex")
		}
		out[i] = (hi<<4 | lo) ^ 0xff
	}
	return string(out), nil
}

func icosUnhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
