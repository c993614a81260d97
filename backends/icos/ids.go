package icos

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// idBytes is how many bytes of an object's SHA-256 make its hash id.
const idBytes = 18

// ParseID accepts the forms of a data object id the portal accepts in
// URLs (24- or 43-character base64url, 64- or 36-character hex) and
// returns the canonical 24-character base64url hash id.
func ParseID(s string) (string, error) {
	var raw []byte
	var err error
	switch len(s) {
	case 24, 43:
		raw, err = base64.RawURLEncoding.DecodeString(s)
	case 36, 64:
		raw, err = hex.DecodeString(strings.ToLower(s))
	default:
		err = errors.New("wrong length")
	}
	if err != nil || len(raw) < idBytes {
		return "", errors.New("not a data object id (24 or 43 base64url characters, or 64 hex digits)")
	}
	return IDOf(raw), nil
}

// IDOf returns the hash id of a SHA-256 digest: its first 18 bytes in
// base64url, 24 characters.
func IDOf(sum []byte) string {
	return base64.RawURLEncoding.EncodeToString(sum[:idBytes])
}
