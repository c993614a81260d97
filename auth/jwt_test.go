package auth

import (
	"encoding/base64"
	"testing"
	"time"
)

func jwtWith(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestJWTExpiry(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  time.Time
		bad   bool
	}{
		{"exp", jwtWith(`{"exp":1795425179,"sub":"x"}`), time.Unix(1795425179, 0).UTC(), false},
		{"fractional exp", jwtWith(`{"exp":1795425179.5}`), time.Unix(1795425179, 5e8).UTC(), false},
		{"padded payload", jwtWith(`{"exp":1}`) + "", time.Unix(1, 0).UTC(), false},
		{"no exp", jwtWith(`{"sub":"x"}`), time.Time{}, true},
		{"exp not a number", jwtWith(`{"exp":"soon"}`), time.Time{}, true},
		{"not a JWT", "opaque-token", time.Time{}, true},
		{"payload not base64", "a.%%%.c", time.Time{}, true},
		{"payload not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JWTExpiry(tt.token)
			if (err != nil) != tt.bad || !got.Equal(tt.want) {
				t.Errorf("JWTExpiry = %v, %v; want %v, bad=%v", got, err, tt.want, tt.bad)
			}
		})
	}
}
