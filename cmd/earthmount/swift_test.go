package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// fakeSwift is a Swift with v1 auth whose tokens the test can revoke.
type fakeSwift struct {
	srv *httptest.Server

	mu       sync.Mutex
	logins   int
	lists    int
	valid    string // the token the server accepts
	password string
}

func newFakeSwift(t *testing.T) *fakeSwift {
	f := &fakeSwift{password: "testing"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.URL.Path == "/auth/v1.0":
			f.logins++
			if r.Header.Get("X-Auth-Key") != f.password {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			f.valid = fmt.Sprintf("AUTH_tk%d", f.logins)
			w.Header().Set("X-Auth-Token", f.valid)
			w.Header().Set("X-Storage-Url", f.srv.URL+"/v1/AUTH_test")
		case strings.HasPrefix(r.URL.Path, "/v1/AUTH_test/c1"):
			if r.Header.Get("X-Auth-Token") != f.valid || f.valid == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			f.lists++
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "[]")
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSwift) counts() (logins, lists int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.lists
}

func (f *fakeSwift) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valid = ""
}

func TestSwiftStoreLazyLoginAndOneReauth(t *testing.T) {
	f := newFakeSwift(t)
	r := &config.Remote{Name: "saio", Type: "swift", Swift: &config.Swift{
		AuthType: "v1", AuthURL: f.srv.URL + "/auth/v1.0", Username: "test:tester", Password: "testing", Containers: []string{"c1"},
	}}
	st, err := newStore(t.Context(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := f.counts(); l != 0 {
		t.Fatalf("building the store logged in %d times", l)
	}
	if st.credentials != "swift v1 auth (user test:tester)" {
		t.Errorf("credentials %q", st.credentials)
	}
	list := func() error {
		_, err := st.store.List(t.Context(), backends.ListRequest{Prefix: "c1/", Delimiter: "/"})
		return err
	}
	for range 3 {
		if err := list(); err != nil {
			t.Fatal(err)
		}
	}
	if l, n := f.counts(); l != 1 || n != 3 {
		t.Errorf("%d logins and %d listings, want 1 and 3", l, n)
	}
	f.revoke() // the next request gets 401
	if err := list(); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if l, n := f.counts(); l != 2 || n != 4 {
		t.Errorf("after a 401: %d logins and %d listings, want exactly one re-login (2) and 4", l, n)
	}
}

func TestSwiftStoreRefusedLogin(t *testing.T) {
	f := newFakeSwift(t)
	r := &config.Remote{Name: "saio", Type: "swift", Swift: &config.Swift{
		AuthType: "v1", AuthURL: f.srv.URL + "/auth/v1.0", Username: "test:tester", Password: "wrong", Containers: []string{"c1"},
	}}
	st, err := newStore(t.Context(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, err = st.store.List(t.Context(), backends.ListRequest{Prefix: "c1/", Delimiter: "/"})
		if !errors.Is(err, backends.ErrUnauthenticated) || !strings.Contains(err.Error(), "Swift v1 login") {
			t.Fatalf("List: %v, want ErrUnauthenticated naming the step", err)
		}
	}
	if l, _ := f.counts(); l != 1 {
		t.Errorf("%d login attempts for 5 accesses, want 1 (back-off)", l)
	}
}

func TestAuthKind(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{&auth.StepError{Step: "s", Err: auth.ErrRejected}, backends.ErrUnauthenticated},
		{&auth.StepError{Step: "s", Err: auth.ErrUnreachable}, backends.ErrUnavailable},
	}
	for _, tt := range tests {
		if got := authKind(tt.err); !errors.Is(got, tt.want) {
			t.Errorf("authKind(%v) is not %v", tt.err, tt.want)
		}
	}
}
