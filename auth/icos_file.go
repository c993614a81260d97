package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ICOSDefaultCredentialsFile is icoscp_core's credentials file for ICOS,
// relative to the home directory.
const ICOSDefaultCredentialsFile = ".icoscp/cpauthToken_auth_conf.json"

// ICOSCredentials is the content of icoscp_core's credentials file:
// {"user_id": ..., "password": <obfuscated>, "cookie_value": ...}.
type ICOSCredentials struct {
	User     string
	Password Secret // in clear; obfuscated only in the file
	Cookie   Secret // cached "cpauthToken=...;" or ""
}

// ReadICOSCredentials reads an icoscp_core credentials file.
func ReadICOSCredentials(path string) (ICOSCredentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ICOSCredentials{}, fmt.Errorf("icos credentials file: %w", err)
	}
	var doc struct {
		User     *string `json:"user_id"`
		Password *string `json:"password"`
		Cookie   string  `json:"cookie_value"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return ICOSCredentials{}, fmt.Errorf("icos credentials file %s: %w", path, err)
	}
	if doc.User == nil || doc.Password == nil {
		return ICOSCredentials{}, fmt.Errorf("icos credentials file %s: needs user_id and password", path)
	}
	pw, err := DecodeICOSPassword(*doc.Password)
	if err != nil {
		return ICOSCredentials{}, fmt.Errorf("icos credentials file %s: %w", path, err)
	}
	return ICOSCredentials{User: *doc.User, Password: Secret(pw), Cookie: Secret(doc.Cookie)}, nil
}

// WriteICOSCredentials writes c the way icoscp_core's json.dump does
// ({"user_id": "...", "password": "...", "cookie_value": "..."}, no final
// newline; cookie_value left out when empty), but with mode 0600 and
// atomically (a temporary file renamed over the old one), creating the
// directory (0700) when needed.
func WriteICOSCredentials(path string, c ICOSCredentials) error {
	if c.User == "" {
		return errors.New("icos credentials: empty user")
	}
	var b strings.Builder
	b.WriteString(`{"user_id": `)
	b.WriteString(icosPyString(c.User))
	b.WriteString(`, "password": `)
	b.WriteString(icosPyString(EncodeICOSPassword(c.Password.Reveal())))
	if c.Cookie != "" {
		b.WriteString(`, "cookie_value": `)
		b.WriteString(icosPyString(c.Cookie.Reveal()))
	}
	b.WriteString("}")
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("icos credentials file: %w", err)
	}
	f, err := os.CreateTemp(dir, ".cpauth-*.tmp")
	if err != nil {
		return fmt.Errorf("icos credentials file: %w", err)
	}
	_, werr := f.WriteString(b.String())
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o600), os.Rename(f.Name(), path)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("icos credentials file %s: %w", path, err)
	}
	return nil
}

// icosPyString quotes s as Python's json.dump does with ensure_ascii: non-ASCII
// as \uXXXX escapes (surrogate pairs above the BMP).
func icosPyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || (r > 0x7f && r < 0x10000):
			b.WriteString(`\u`)
			b.WriteString(icosPad4(strconv.FormatInt(int64(r), 16)))
		case r >= 0x10000:
			r -= 0x10000
			b.WriteString(`\u` + icosPad4(strconv.FormatInt(int64(0xd800+(r>>10)), 16)))
			b.WriteString(`\u` + icosPad4(strconv.FormatInt(int64(0xdc00+(r&0x3ff)), 16)))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func icosPad4(h string) string { return strings.Repeat("0", 4-len(h)) + h }
