package icosemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MintToken returns a cookie value "cpauthToken=<token>" for email that
// expires at expiry, signed by the emulator (so the data host accepts it
// until then). A token minted with corrupt set has a wrong signature.
func (s *Server) MintToken(email string, expiry time.Time, corrupt bool) string {
	ms := expiry.UnixMilli()
	js, _ := json.Marshal([]any{ms, email, "Password"})
	sig := s.sign(email, ms)
	if corrupt {
		sig[0] ^= 0xff
	}
	raw := append(append(js, 0x1e), sig...)
	return "cpauthToken=" + base64.StdEncoding.EncodeToString(raw)
}

// sign stands in for cpauth's ECDSA over "AuthToken(UserId(<email>),<ms>,Password)".
func (s *Server) sign(email string, ms int64) []byte {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "AuthToken(UserId(%s),%d,Password)", email, ms)
	return m.Sum(nil)
}

// userOf returns the account of a request's valid, unexpired token, or "".
// Like the portal's data host, anything wrong means anonymous.
func (s *Server) userOf(r *http.Request) string {
	c, err := r.Cookie("cpauthToken")
	if err != nil {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimRight(c.Value, ";"))
	if err != nil {
		return ""
	}
	js, sig, ok := bytes.Cut(raw, []byte{0x1e})
	var parts []any
	if !ok || json.Unmarshal(js, &parts) != nil || len(parts) != 3 {
		return ""
	}
	msf, _ := parts[0].(float64)
	email, _ := parts[1].(string)
	ms := int64(msf)
	if !hmac.Equal(sig, s.sign(email, ms)) || !s.now().Before(time.UnixMilli(ms)) {
		return ""
	}
	return email
}

// serveAuth is cpauth: /password/login, /whoami, /db/users/<email>.
func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/password/login" && r.Method == http.MethodPost:
		s.login(w, r)
	case r.URL.Path == "/whoami":
		if u := s.userOf(r); u != "" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"email": %q}`, u)
			return
		}
		plain(w, http.StatusUnauthorized, "Authentication/authorization error while Login control: no valid token")
	case strings.HasPrefix(r.URL.Path, "/db/users/"):
		s.profile(w, r, strings.TrimPrefix(r.URL.Path, "/db/users/"))
	case r.URL.Path == "/home/":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><h1>My Account</h1><p>Tick \"I accept the ICOS data licence\".</p></body></html>")
	default:
		plain(w, http.StatusNotFound, "The requested resource could not be found.")
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("mail") == "" || r.PostForm.Get("password") == "" {
		plain(w, http.StatusBadRequest, "Expected 'mail' and 'password' posted as application/x-www-form-urlencoded form fields")
		return
	}
	mail, pw := r.PostForm.Get("mail"), r.PostForm.Get("password")
	s.mu.Lock()
	s.logins[mail]++
	u := s.users[mail]
	ok := u != nil && u.password == pw
	s.mu.Unlock()
	if !ok {
		select {
		case <-time.After(s.opts.FailureDelay):
		case <-r.Context().Done():
		}
		plain(w, http.StatusForbidden, "Incorrect user name or password")
		return
	}
	tok := s.MintToken(mail, s.now().Add(s.opts.TokenValidity), false)
	w.Header().Add("Set-Cookie", tok+"; Path=/; HttpOnly")
	plain(w, http.StatusOK, "OK")
}

// profile serves GET and PATCH of the own profile's icosLicenceOk flag.
func (s *Server) profile(w http.ResponseWriter, r *http.Request, email string) {
	if s.userOf(r) != email {
		plain(w, http.StatusForbidden, "Must be logged in and may only access own profile")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[email]
	if r.Method == http.MethodPatch {
		var doc struct {
			Profile struct {
				LicenceOK bool `json:"icosLicenceOk"`
			} `json:"profile"`
		}
		if json.NewDecoder(r.Body).Decode(&doc) != nil {
			plain(w, http.StatusBadRequest, "bad JSON")
			return
		}
		u.licenceOK = doc.Profile.LicenceOK
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"profile": {"icosLicenceOk": %t}}`, u.licenceOK)
}
