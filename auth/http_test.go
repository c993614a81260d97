package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// answer is one scripted response of flakyServer.
type answer func(w http.ResponseWriter)

func status(code int) answer {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(code)
	}
}

func okJSON(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok": true}`))
}

// truncatedJSON is a well-framed answer whose JSON stops half way.
func truncatedJSON(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok": tr`))
}

// cutBody promises more than it sends, then the connection ends.
func cutBody(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "100")
	w.Write([]byte(`{"ok":`))
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// flakyServer answers requests with script in turn, then okJSON.
func flakyServer(t *testing.T, script ...answer) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if b, _ := io.ReadAll(r.Body); !strings.Contains(string(b), "payload") {
			t.Errorf("request %d: body %q, want the payload again", i+1, b)
		}
		if i < len(script) {
			script[i](w)
			return
		}
		okJSON(w)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestDoRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []answer
		once     bool
		requests int32
		kind     error // nil: success
	}{
		{name: "503 then ok", script: []answer{status(503)}, requests: 2},
		{name: "429, 500, 502 then ok", script: []answer{status(429), status(500), status(502)}, requests: 4},
		{name: "cut body then ok", script: []answer{cutBody}, requests: 2},
		{name: "truncated JSON then ok", script: []answer{truncatedJSON}, requests: 2},
		{name: "500 every time gives up", script: []answer{status(500), status(500), status(500), status(500), status(500)}, requests: loginAttempts, kind: ErrUnreachable},
		{name: "401 is not retried", script: []answer{status(401)}, requests: 1, kind: ErrRejected},
		{name: "403 is not retried", script: []answer{status(403)}, requests: 1, kind: ErrRejected},
		{name: "a create is sent once", script: []answer{status(500)}, once: true, requests: 1, kind: ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := flakyServer(t, tt.script...)
			start := time.Now()
			_, body, err := do(t.Context(), srv.Client(), call{
				step: "test step", method: http.MethodPost, url: srv.URL + "/x", body: strings.NewReader(`{"payload": 1}`),
				ok: []int{http.StatusOK}, once: tt.once,
			})
			switch {
			case tt.kind == nil && (err != nil || string(body) != `{"ok": true}`):
				t.Errorf("got %q, %v; want the answer", body, err)
			case tt.kind != nil && !errors.Is(err, tt.kind):
				t.Errorf("error %v, want %v", err, tt.kind)
			}
			if got := n.Load(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestICOSLoginRetries(t *testing.T) {
	login := func(w http.ResponseWriter) {
		w.Header().Add("Set-Cookie", ICOSCookieName+"="+icosTestToken(time.Now().Add(time.Hour), "user@example.org")+"; Path=/")
		w.WriteHeader(http.StatusOK)
	}
	tests := []struct {
		name     string
		script   []answer
		requests int32
		refused  bool
	}{
		{name: "503 and 429 then ok", script: []answer{status(503), status(429), login}, requests: 3},
		{name: "403 is final", script: []answer{status(403)}, requests: 1, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if i < len(tt.script) {
					tt.script[i](w)
					return
				}
				login(w)
			}))
			defer srv.Close()
			_, err := ICOSLogin(t.Context(), srv.Client(), srv.URL, "user@example.org", "pw")
			if tt.refused != errors.Is(err, ErrICOSLoginRefused) || (!tt.refused && err != nil) {
				t.Errorf("error %v, refused %v", err, tt.refused)
			}
			if got := n.Load(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
		})
	}
}

// recordingTransport keeps the Exchange of every request it carries.
type recordingTransport struct {
	seen []Exchange
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	e, _ := ExchangeOf(req.Context())
	r.seen = append(r.seen, e)
	return http.DefaultTransport.RoundTrip(req)
}

func TestExchangeOf(t *testing.T) {
	srv, _ := flakyServer(t, status(503), status(500))
	rt := &recordingTransport{}
	_, _, err := do(t.Context(), &http.Client{Transport: rt}, call{
		step: "test", kind: "keystone_scope", method: http.MethodPost, url: srv.URL, body: strings.NewReader("payload"), ok: []int{http.StatusOK},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Exchange{{"keystone_scope", 1}, {"keystone_scope", 2}, {"keystone_scope", 3}}
	if fmt.Sprint(rt.seen) != fmt.Sprint(want) {
		t.Errorf("exchanges %v, want %v", rt.seen, want)
	}
}
