package swift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/backends"
)

// The real Swift runs in integration/ (contract suite, SLO, DLO); these
// tests cover what a healthy Swift never does: failures, broken bodies,
// ignored headers.

const testToken = "AUTH_tk-secret-token-0123456789"

// fakeStore returns a Store whose requests h answers, and a counter of
// the requests made.
func fakeStore(t *testing.T, cfg Config, h http.HandlerFunc) (*Store, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("X-Auth-Token") != testToken {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{}, TokenID: testToken}
	cfg.Client = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: srv.URL + "/v1/AUTH_test/"}
	cfg.Remote = "fake"
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st, &n
}

func TestErrorKinds(t *testing.T) {
	cases := []struct {
		status   int
		kind     error
		attempts int32 // requests made with MaxAttempts 3
	}{
		{404, backends.ErrNotExist, 1},
		{401, backends.ErrUnauthenticated, 1},
		{403, backends.ErrPermission, 1},
		{429, backends.ErrThrottled, 3},
		{498, backends.ErrThrottled, 3},
		{503, backends.ErrThrottled, 3},
		{500, backends.ErrUnavailable, 3},
		{502, backends.ErrUnavailable, 3},
	}
	ops := map[string]func(st *Store) error{
		"stat": func(st *Store) error { _, err := st.Stat(context.Background(), "c/k"); return err },
		"list": func(st *Store) error {
			_, err := st.List(context.Background(), backends.ListRequest{Prefix: "c/", Delimiter: "/"})
			return err
		},
		"read": func(st *Store) error {
			_, err := st.ReadAt(context.Background(), backends.ObjectRef{Key: "c/k", Size: -1}, make([]byte, 5), 0)
			return err
		},
	}
	for _, c := range cases {
		for name, op := range ops {
			t.Run(fmt.Sprintf("%s %d", name, c.status), func(t *testing.T) {
				st, n := fakeStore(t, Config{MaxAttempts: 3}, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(c.status)
				})
				err := op(st)
				var be *backends.Error
				switch {
				case !errors.Is(err, c.kind):
					t.Errorf("error %v, want one that is %v", err, c.kind)
				case !errors.As(err, &be) || be.Remote != "fake" || be.Op != name:
					t.Errorf("error %#v is not a *backends.Error of remote fake, op %s", err, name)
				case strings.Contains(err.Error(), testToken):
					t.Errorf("the message holds the token: %v", err)
				}
				if got := n.Load(); got != c.attempts {
					t.Errorf("%d requests, want %d", got, c.attempts)
				}
			})
		}
	}
}

func TestUnknownContainerHint(t *testing.T) {
	st, n := fakeStore(t, Config{Containers: []string{"data"}}, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	_, err := st.List(t.Context(), backends.ListRequest{Prefix: "other/", Delimiter: "/"})
	var be *backends.Error
	if !errors.Is(err, backends.ErrNotExist) || !errors.As(err, &be) || !strings.Contains(be.Hint, `"other"`) {
		t.Errorf("List of an unconfigured container: %v, want ErrNotExist with a hint naming it", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests for an unconfigured container, want none", n.Load())
	}
}

// object serves GETs of one object version; broken, when set, decides how
// a response goes wrong.
func object(data []byte, etag string, broken func(r *http.Request, w http.ResponseWriter) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if im := r.Header.Get("If-Match"); im != "" && strings.Trim(im, `"`) != etag {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		if broken != nil && broken(r, w) {
			return
		}
		w.Header().Set("Etag", `"`+etag+`"`) // quoted, as ServeContent wants
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(data)))
	}
}

func TestReadAtBrokenResponses(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 1000))
	const etag = "5f2b51ca2fdc5baa31ec02e002f69aec"
	cases := []struct {
		name     string
		broken   func(r *http.Request, w http.ResponseWriter) bool
		kind     error // nil: the read succeeds
		requests int32
	}{
		{"healthy", nil, nil, 1},
		{"body breaks off once", func() func(*http.Request, http.ResponseWriter) bool {
			var once atomic.Bool
			return func(r *http.Request, w http.ResponseWriter) bool {
				if once.Swap(true) {
					return false
				}
				w.Header().Set("Etag", etag)
				w.Header().Set("Content-Range", "bytes 100-4195/10000")
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusPartialContent)
				w.Write(data[100:1100]) // then the connection ends
				return true
			}
		}(), nil, 2},
		{"wrong start in Content-Range", func(r *http.Request, w http.ResponseWriter) bool {
			w.Header().Set("Content-Range", "bytes 0-4095/10000")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[:4096])
			return true
		}, backends.ErrUnavailable, 1},
		{"If-Match ignored", func(r *http.Request, w http.ResponseWriter) bool {
			w.Header().Set("Etag", "0123456789abcdef0123456789abcdef")
			w.Header().Set("Content-Range", "bytes 100-4195/10000")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[100:4196])
			return true
		}, backends.ErrStale, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, n := fakeStore(t, Config{}, object(data, etag, c.broken))
			p := make([]byte, 4096)
			got, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "c/k", Version: etag, Size: int64(len(data))}, p, 100)
			switch {
			case c.kind == nil && (err != nil || got != len(p) || string(p) != string(data[100:100+len(p)])):
				t.Errorf("ReadAt = %d, %v; want %d correct bytes", got, err, len(p))
			case c.kind != nil && (got != 0 || !errors.Is(err, c.kind)):
				t.Errorf("ReadAt = %d, %v; want 0 bytes and %v", got, err, c.kind)
			}
			if n.Load() != c.requests {
				t.Errorf("%d requests, want %d", n.Load(), c.requests)
			}
		})
	}
}

func TestReadAtEnd(t *testing.T) {
	data := []byte("hello")
	st, _ := fakeStore(t, Config{}, object(data, "5d41402abc4b2a76b9719d911017c592", nil))
	for _, off := range []int64{3, 5, 9} {
		p := make([]byte, 4)
		got, err := st.ReadAt(t.Context(), backends.ObjectRef{Key: "c/k", Size: -1}, p, off)
		want := max(0, min(4, 5-int(off)))
		if got != want || err != io.EOF {
			t.Errorf("ReadAt(off %d) = %d, %v; want %d, io.EOF", off, got, err, want)
		}
	}
}

func TestConnectHook(t *testing.T) {
	refused := errors.Join(backends.ErrUnauthenticated, errors.New("login step failed"))
	calls := 0
	st, n := fakeStore(t, Config{Connect: func(ctx context.Context) error { calls++; return refused }}, nil)
	_, err := st.Stat(t.Context(), "c/k")
	if !errors.Is(err, backends.ErrUnauthenticated) || calls != 1 || n.Load() != 0 {
		t.Errorf("Stat with a failing Connect: %v after %d calls and %d requests; want ErrUnauthenticated, 1, 0", err, calls, n.Load())
	}
}

func TestParseTimes(t *testing.T) {
	want := time.Date(2026, 11, 23, 14, 45, 7, 996710000, time.UTC)
	if got, ok := parseTimestamp("1795445107.99671"); !ok || !got.Equal(want) {
		t.Errorf("parseTimestamp = %v, %v; want %v", got, ok, want)
	}
	if got := parseListingTime("2026-11-23T14:45:07.996710"); !got.Equal(want) {
		t.Errorf("parseListingTime = %v, want %v", got, want)
	}
	if got := parseListingTime("2026-11-23T14:45:07.996710Z"); !got.Equal(want) {
		t.Errorf("parseListingTime with zone = %v, want %v", got, want)
	}
}

func TestReauth(t *testing.T) {
	cases := []struct {
		name     string
		login    func(pc *gophercloud.ProviderClient) error
		kind     error // nil: the Stat succeeds
		inError  string
		requests int32
		logins   int
	}{
		{"a fresh token works", func(pc *gophercloud.ProviderClient) error { pc.TokenID = testToken; return nil }, nil, "", 2, 1},
		{"the login fails", func(pc *gophercloud.ProviderClient) error {
			return backends.Kind(backends.ErrUnauthenticated, errors.New("OIDC token expired and no refresh token"))
		}, backends.ErrUnauthenticated, "no refresh token", 1, 1},
		// Each try logs in again (a 401 may come at random); the token
		// source's guard, not the store, stops a storage that refuses all.
		{"the fresh token is refused too", func(pc *gophercloud.ProviderClient) error { pc.TokenID = "another-token"; return nil },
			backends.ErrUnauthenticated, "HTTP 401", 2 * defaultAttempts, defaultAttempts},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, n := fakeStore(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5")
				w.Header().Set("Etag", "5d41402abc4b2a76b9719d911017c592")
			})
			pc := st.client.ProviderClient
			pc.TokenID = "expired-token"
			logins := 0
			pc.ReauthFunc = func(context.Context) error { logins++; return c.login(pc) }
			info, err := st.Stat(t.Context(), "c/k")
			switch {
			case c.kind == nil && (err != nil || info.Size != 5):
				t.Errorf("Stat = %+v, %v; want 5 bytes", info, err)
			case c.kind != nil && (!errors.Is(err, c.kind) || !strings.Contains(fmt.Sprint(err), c.inError)):
				t.Errorf("Stat: %v; want %v saying %q", err, c.kind, c.inError)
			case strings.Contains(fmt.Sprint(err), testToken) || strings.Contains(fmt.Sprint(err), "expired-token"):
				t.Errorf("the message holds a token: %v", err)
			}
			if logins != c.logins || n.Load() != c.requests {
				t.Errorf("%d logins and %d requests, want %d and %d", logins, n.Load(), c.logins, c.requests)
			}
		})
	}
}
