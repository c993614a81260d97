package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// JWTExpiry reads the exp claim of a JWT without verifying its signature:
// earthmount only schedules refreshes with it, the server does the
// checking. A token that is not a JWT, or has no exp, gives an error.
func JWTExpiry(token string) (time.Time, error) {
	exp, _, err := jwtTimes(token)
	return exp, err
}

// jwtTimes returns the exp and (zero when absent) iat claims.
func jwtTimes(token string) (exp, iat time.Time, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return exp, iat, errors.New("not a JWT (expected three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return exp, iat, errors.New("not a JWT (payload is not base64url)")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
	}
	if err = json.Unmarshal(payload, &claims); err != nil {
		return exp, iat, errors.New("not a JWT (payload is not JSON)")
	}
	if claims.Exp == nil {
		return exp, iat, errors.New("the JWT has no exp claim")
	}
	exp, err = unixClaim(*claims.Exp)
	if err != nil {
		return exp, iat, errors.New("the JWT's exp claim is not a number")
	}
	if claims.Iat != nil {
		iat, _ = unixClaim(*claims.Iat)
	}
	return exp, iat, nil
}

func unixClaim(n json.Number) (time.Time, error) {
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, err
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}
