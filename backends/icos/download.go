package icos

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/stall"
)

// download fetches the object id whole into an unlinked temporary file
// and checks its SHA-256 against the id. One GET, unless the connection
// breaks: then it resumes with Range and If-Range (a changed ETag gets
// the whole object again). A redirect (to /licence) is retried once with
// a fresh login, then refused.
func (s *Store) download(ctx context.Context, key, id string, size int64) (*os.File, error) {
	if s.cfg.TempDir != "" {
		os.MkdirAll(s.cfg.TempDir, 0o700) // CreateTemp reports a failure
	}
	tmp, err := os.CreateTemp(s.cfg.TempDir, "earthmount-icos-*")
	if err != nil {
		return nil, s.fail("read", key, backends.ErrUnavailable, err, "the temporary directory is not writable")
	}
	os.Remove(tmp.Name()) // the open file lives on; nothing is left after a crash
	d := &fetch{s: s, key: key, id: id, size: size, f: tmp, h: sha256.New()}
	if err := d.run(ctx); err != nil {
		tmp.Close()
		return nil, err
	}
	if got := IDOf(d.h.Sum(nil)); got != id {
		tmp.Close()
		s.log.Error("ICOS object content does not match its id; not serving it", "object", key, "id", id, "content_id", got)
		return nil, s.fail("read", key, backends.ErrUnavailable, fmt.Errorf("content hash %s does not match the object id %s", got, id), "")
	}
	return tmp, nil
}

// fetch is one download in progress.
type fetch struct {
	s       *Store
	key, id string
	size    int64
	f       *os.File
	h       hash.Hash
	written int64
	etag    string
	renewed bool
	lastErr error // of the last failed attempt
}

func (d *fetch) run(ctx context.Context) error {
	s := d.s
	wait := s.cfg.RetryBase
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > s.cfg.MaxRetries {
			return s.fail("read", d.key, backends.ErrUnavailable, last, "")
		}
		if attempt > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			wait *= 2
			if s.cfg.OnRetry != nil {
				s.cfg.OnRetry("download")
			}
		}
		done, err := d.once(ctx)
		if done || err != nil {
			return err
		}
		last = d.lastErr
	}
}

// once sends one GET. It reports done when the whole object is in the
// file; an error ends the download; neither means retry.
func (d *fetch) once(ctx context.Context) (done bool, err error) {
	s := d.s
	// The body is read under its own context, which a stall cancels.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cookie, authErr := s.cookie(ctx)
	for {
		resp, err := d.get(ctx, cookie)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if certificateError(err) {
				return false, s.fail("read", d.key, backends.ErrUnavailable, err, certificateHint)
			}
			d.lastErr = err
			return false, nil
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			resp.Body.Close()
			if next, ok := d.renew(ctx, cookie); ok {
				cookie = next
				continue
			}
			return false, d.refusedLicence(cookie, authErr)
		}
		defer resp.Body.Close()
		body := stall.NewReader(resp.Body, s.cfg.StallTimeout, cancel)
		defer body.Stop()
		resp.Body = struct {
			io.Reader
			io.Closer
		}{body, resp.Body}
		return d.body(resp)
	}
}

// get sends the GET, resuming with Range and If-Range after a break.
func (d *fetch) get(ctx context.Context, cookie auth.Secret) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.s.cfg.DataURL+"/objects/"+d.id, nil)
	if err != nil {
		return nil, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", strings.TrimRight(cookie.Reveal(), ";"))
	}
	if d.written > 0 && d.etag != "" {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(d.written, 10)+"-")
		req.Header.Set("If-Range", d.etag)
	}
	d.s.gets.Add(1)
	return d.s.client.Do(req)
}

// renew logs in again once per download after a redirect, unless the
// cookie is one a renewal already got refused with.
func (d *fetch) renew(ctx context.Context, used auth.Secret) (auth.Secret, bool) {
	s := d.s
	if d.renewed || used == "" || s.cfg.Auth == nil || !s.cfg.Auth.CanRenew() {
		return "", false
	}
	s.mu.Lock()
	denied := s.deniedCookie == used
	s.mu.Unlock()
	if denied {
		return "", false
	}
	d.renewed = true
	next, err := s.cfg.Auth.Renew(ctx, used)
	if err != nil || next == "" {
		s.log.Warn("ICOS re-login failed", "err", err)
		return "", false
	}
	return next, true
}

// body handles a non-redirect answer.
func (d *fetch) body(resp *http.Response) (bool, error) {
	s := d.s
	switch {
	case resp.StatusCode == http.StatusOK:
		if d.written > 0 { // If-Range did not match: start over
			if err := d.restart(); err != nil {
				return false, err
			}
		}
		d.etag = resp.Header.Get("ETag")
	case resp.StatusCode == http.StatusPartialContent && d.written > 0 && rangeStart(resp) == d.written:
	case resp.StatusCode == http.StatusPartialContent:
		// Not the range asked for: start over without one.
		d.etag, d.lastErr = "", fmt.Errorf("answer to a resumed download starts at byte %d, not %d", rangeStart(resp), d.written)
		return false, d.restart()
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		why := strings.TrimSpace(string(text))
		s.tellOnce("refused "+d.id, func() {
			s.log.Warn("the ICOS data portal does not serve this object", "object", d.key, "id", d.id, "status", resp.StatusCode, "why", why)
		})
		return false, s.fail("read", d.key, backends.ErrPermission, fmt.Errorf("HTTP %d: %s", resp.StatusCode, why), "")
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		d.lastErr = fmt.Errorf("HTTP %d", resp.StatusCode)
		return false, nil
	default:
		return false, s.fail("read", d.key, backends.ErrUnavailable, fmt.Errorf("unexpected HTTP %d", resp.StatusCode), "")
	}
	n, err := io.CopyBuffer(io.MultiWriter(d.f, d.h), io.LimitReader(resp.Body, d.size-d.written+1), make([]byte, 1<<20))
	d.written += n
	switch {
	case d.written > d.size:
		return false, s.fail("read", d.key, backends.ErrUnavailable, fmt.Errorf("the object is longer than its listed size %d", d.size), "")
	case d.written == d.size:
		return true, nil
	case err == nil:
		err = io.ErrUnexpectedEOF
	}
	d.lastErr = fmt.Errorf("download broke at byte %d of %d: %w", d.written, d.size, err)
	if d.etag == "" {
		if rerr := d.restart(); rerr != nil {
			return false, rerr
		}
	}
	return false, nil
}

// restart empties the file to download from the start.
func (d *fetch) restart() error {
	d.written = 0
	d.h.Reset()
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return d.f.Truncate(0)
}

// rangeStart parses the first byte of "Content-Range: bytes a-b/n".
func rangeStart(resp *http.Response) int64 {
	v, ok := strings.CutPrefix(resp.Header.Get("Content-Range"), "bytes ")
	if !ok {
		return -1
	}
	a, _, _ := strings.Cut(v, "-")
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// cookie returns the login cookie, "" when anonymous or when the login
// failed (the error then explains a refusal).
func (s *Store) cookie(ctx context.Context) (auth.Secret, error) {
	if s.cfg.Auth == nil {
		return "", nil
	}
	return s.cfg.Auth.Cookie(ctx)
}

// refusedLicence is the error of a redirect to the licence page that a
// fresh login did not cure, logged once per object.
func (d *fetch) refusedLicence(cookie auth.Secret, authErr error) error {
	s := d.s
	page := s.cfg.AuthURL + "/home/"
	licence := s.cfg.DataURL + "/licence?ids=" + url.QueryEscape(`["`+d.id+`"]`)
	var kind error = backends.ErrPermission
	var hint string
	switch {
	case authErr != nil && !errors.Is(authErr, auth.ErrICOSLoginRefused) && !errors.Is(authErr, auth.ErrICOSTokenExpired):
		kind, hint = backends.ErrUnavailable, "the ICOS login failed: "+authErr.Error()
	case authErr != nil:
		hint = authErr.Error()
	case cookie == "":
		hint = "log in first (earthmount login icos), then accept the ICOS data licence at " + page
	default:
		s.mu.Lock()
		s.deniedCookie = cookie
		s.mu.Unlock()
		hint = "accept the ICOS data licence in your profile at " + page
	}
	if kind == backends.ErrPermission {
		s.tellOnce("licence "+d.id, func() {
			s.log.Warn("ICOS data licence not accepted: cannot read the object", "object", d.key, "id", d.id,
				"accept_at", page, "licence", licence, "credentials", s.CredentialSource(), "why", hint)
		})
	}
	return s.fail("read", d.key, kind, errors.New("the portal redirected the download to its licence page"), hint)
}
