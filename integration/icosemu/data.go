package icosemu

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// serveData is the data host: /objects/<id>, /licence, /whoami.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/objects/") && r.Method == http.MethodGet:
		s.object(w, r, strings.TrimPrefix(r.URL.Path, "/objects/"))
	case r.URL.Path == "/licence":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><h1>ICOS CCBY4 Data Licence</h1></body></html>")
	case r.URL.Path == "/whoami":
		w.Header().Set("Content-Type", "application/json")
		if u := s.userOf(r); u != "" {
			fmt.Fprintf(w, `{"email": %q}`, u)
		} else {
			fmt.Fprint(w, `{"email": null}`)
		}
	default: // HEAD included: the portal serves no HEAD
		plain(w, http.StatusNotFound, "Your request did not match any service")
	}
}

// parseID accepts base64url of 18 or 32 bytes and hex of 32 bytes.
func parseID(s string) (string, bool) {
	var raw []byte
	var err error
	switch len(s) {
	case 24, 43:
		raw, err = base64.RawURLEncoding.DecodeString(s)
	case 64:
		raw, err = hex.DecodeString(s)
	default:
		return "", false
	}
	if err != nil {
		return "", false
	}
	return base64.RawURLEncoding.EncodeToString(raw[:18]), true
}

// object follows the portal's decision order (icos-api.md §4.2).
func (s *Server) object(w http.ResponseWriter, r *http.Request, idText string) {
	s.mu.Lock()
	s.gets++
	fail := s.fail500 > 0
	if fail {
		s.fail500--
	}
	s.mu.Unlock()
	if fail {
		plain(w, http.StatusInternalServerError, "java.lang.RuntimeException: emulated failure\n\tat se.lu.nateko.cp.data.Main")
		return
	}
	id, ok := parseID(idText)
	if !ok {
		plain(w, http.StatusBadRequest, "Expected base64Url- or hex-encoded SHA-256 hash")
		return
	}
	o := s.byID[id]
	if o == nil {
		plain(w, http.StatusNotFound, "No metadata found for data object with SHA-256 hash of "+id)
		return
	}
	if !o.Document && !o.CC0 && !s.licensed(r) {
		loc := "/licence?ids=" + url.QueryEscape(`["`+id+`"]`)
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusFound)
		fmt.Fprintf(w, `The requested resource temporarily resides under <a href="%s">this URI</a>.`, htmlEscape(loc))
		return
	}
	switch {
	case o.Unfinished:
		plain(w, http.StatusNotFound, "Uploading of this object has not been completed.")
		return
	case o.SubmTime.After(s.now()):
		plain(w, http.StatusNotFound, "Data object is under moratorium, will be available at "+o.SubmTime.Format(time.RFC3339Nano))
		return
	case o.NotServed:
		plain(w, http.StatusNotFound, "Data object is not distributed by the Data Portal due to ICOS policies")
		return
	}
	s.send(w, r, o)
}

// licensed reports whether the request carries a valid token of an
// account that accepted the licence.
func (s *Server) licensed(r *http.Request) bool {
	email := s.userOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[email]
	return u != nil && u.licenceOK
}

// send writes the object with the portal's headers, honouring a single
// Range (with If-Range) and If-None-Match; bandwidth limits, broken
// connections and corrupted bytes as the test asked.
func (s *Server) send(w http.ResponseWriter, r *http.Request, o *Object) {
	etag := `"` + hex.EncodeToString(o.Hash[:8]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", o.SubmTime.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Disposition", `attachment; filename="`+o.FileName+`"`)
	ct := mime.TypeByExtension(path.Ext(o.FileName))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	start, end, code := int64(0), int64(len(o.Data)), http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && (r.Header.Get("If-Range") == "" || r.Header.Get("If-Range") == etag) {
		a, b, ok := parseRange(rg, int64(len(o.Data)))
		if !ok {
			plain(w, http.StatusNotFound, "Your request did not match any service")
			return
		}
		start, end, code = a, b, http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b-1, len(o.Data)))
	}
	body := o.Data[start:end]
	s.mu.Lock()
	s.downloads[o.ID]++
	bw, corrupt := s.bandwidth, s.corrupt[o.ID]
	drop := int64(-1)
	if s.dropCount > 0 {
		s.dropCount--
		drop = s.dropAfter
	}
	s.mu.Unlock()
	if corrupt {
		body = append([]byte(nil), body...)
		body[len(body)/2] ^= 1
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	s.write(w, r, body, bw, drop)
}

// write sends body at bw bytes per second (0: at once), cutting the
// connection after drop bytes (drop >= 0).
func (s *Server) write(w http.ResponseWriter, r *http.Request, body []byte, bw, drop int64) {
	const slice = 64 << 10
	began := time.Now()
	var sent int64
	for len(body) > 0 {
		n := min(int64(len(body)), slice)
		if drop >= 0 && sent+n > drop {
			n = drop - sent
			w.Write(body[:n])
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		}
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		body, sent = body[n:], sent+n
		if bw > 0 {
			due := began.Add(time.Duration(float64(sent) / float64(bw) * float64(time.Second)))
			select {
			case <-time.After(time.Until(due)):
			case <-r.Context().Done():
				return
			}
		}
	}
}

// parseRange reads "bytes=a-b", "bytes=a-" or "bytes=-n" as [start, end).
func parseRange(v string, size int64) (int64, int64, bool) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, _ := strings.Cut(spec, "-")
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size, true
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start >= size {
		return 0, 0, false
	}
	end := size
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, false
		}
		end = min(e+1, size)
	}
	return start, end, true
}
