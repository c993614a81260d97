package icosemu

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Built-in account: logged in with it, every object can be read.
const (
	TestUser     = "test@example.org"
	TestPassword = "test-password"
)

// Options configures a Server. Zero values take the portal's behaviour.
type Options struct {
	// TokenValidity is the lifetime of tokens from a login (100000 s).
	TokenValidity time.Duration
	// FailureDelay delays refused logins (500 ms on the portal).
	FailureDelay time.Duration
}

// Server is a running emulator.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	opts Options
	key  []byte // signs tokens
	srv  *http.Server
	ln   net.Listener

	objects []*Object
	byID    map[string]*Object
	specs   []string

	mu        sync.Mutex
	offset    time.Duration // added to the real clock
	users     map[string]*user
	logins    map[string]int
	queries   map[string]int // by "# fuse:" name
	gets      int            // GET /objects/<id>, any answer
	downloads map[string]int // answers with bytes, by id
	fail503   int            // the next n SPARQL queries get a quota 503
	bandwidth int64          // bytes per second of downloads; 0 unlimited
	dropAfter int64          // break the next download's connection after n bytes
	dropCount int
	fail500   int // the next n object GETs answer 500
	corrupt   map[string]bool
}

type user struct {
	password  string
	licenceOK bool
}

// New returns an emulator with the standard fixtures and the built-in
// account; Start serves it.
func New(opts Options) *Server {
	if opts.TokenValidity <= 0 {
		opts.TokenValidity = 100000 * time.Second
	}
	if opts.FailureDelay <= 0 {
		opts.FailureDelay = 500 * time.Millisecond
	}
	s := &Server{
		opts: opts, key: make([]byte, 32),
		users:  map[string]*user{TestUser: {password: TestPassword, licenceOK: true}},
		logins: map[string]int{}, queries: map[string]int{}, downloads: map[string]int{}, corrupt: map[string]bool{},
	}
	rand.Read(s.key)
	s.objects, s.specs = fixtures()
	s.byID = map[string]*Object{}
	for _, o := range s.objects {
		s.byID[o.ID] = o
	}
	return s
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves in the
// background until ctx ends or Close.
func (s *Server) Start(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("icosemu: %w", err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", http.HandlerFunc(s.serveAuth)))
	mux.Handle("/data/", http.StripPrefix("/data", http.HandlerFunc(s.serveData)))
	mux.Handle("/meta/", http.StripPrefix("/meta", http.HandlerFunc(s.serveMeta)))
	s.srv = &http.Server{Handler: mux, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("icosemu:", err)
		}
	}()
	go func() {
		<-ctx.Done()
		s.srv.Close()
	}()
	return nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// The three base URLs, as a remote's meta_url, data_url and auth_url.
func (s *Server) MetaURL() string { return s.URL + "/meta" }
func (s *Server) DataURL() string { return s.URL + "/data" }
func (s *Server) AuthURL() string { return s.URL + "/auth" }

// RemoteYAML is the config of a remote called name that points at s.
func (s *Server) RemoteYAML(name string) string {
	return fmt.Sprintf("remotes:\n  %s:\n    type: icos\n    meta_url: %s\n    data_url: %s\n    auth_url: %s\n",
		name, s.MetaURL(), s.DataURL(), s.AuthURL())
}

// now is the emulator's clock: the real one moved by Advance.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// Advance moves the emulator's clock forward.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// AddUser creates or replaces an account.
func (s *Server) AddUser(email, password string, licenceOK bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[email] = &user{password: password, licenceOK: licenceOK}
}

// SetLicence sets an account's icosLicenceOk flag.
func (s *Server) SetLicence(email string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[email]; u != nil {
		u.licenceOK = ok
	}
}

// Counts is what the emulator has served.
type Counts struct {
	Logins    map[string]int // by account (refused ones too)
	Queries   map[string]int // SPARQL queries by "# fuse:" name
	Gets      int            // GET /objects/<id>, whatever the answer
	Downloads map[string]int // answers with bytes (200, 206), by id
}

// QueryTotal is the number of SPARQL queries.
func (c Counts) QueryTotal() int { return sum(c.Queries) }

// DownloadTotal is the number of answers with bytes.
func (c Counts) DownloadTotal() int { return sum(c.Downloads) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Counts returns a copy of the counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Counts{Logins: map[string]int{}, Queries: map[string]int{}, Gets: s.gets, Downloads: map[string]int{}}
	for k, v := range s.logins {
		c.Logins[k] = v
	}
	for k, v := range s.queries {
		c.Queries[k] = v
	}
	for k, v := range s.downloads {
		c.Downloads[k] = v
	}
	return c
}

// FailQueries makes the next n SPARQL queries answer the quota 503.
func (s *Server) FailQueries(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail503 = n
}

// SetBandwidth limits each download to bytesPerSecond (0: unlimited).
func (s *Server) SetBandwidth(bytesPerSecond int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bandwidth = bytesPerSecond
}

// DropDownloads breaks the connection of the next count downloads after
// afterBytes bytes of body.
func (s *Server) DropDownloads(count int, afterBytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropCount, s.dropAfter = count, afterBytes
}

// FailDownloads makes the next n object GETs answer 500 with a stack
// trace, as the data host does on an unhandled exception.
func (s *Server) FailDownloads(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail500 = n
}

// Corrupt makes the object id served with one byte changed.
func (s *Server) Corrupt(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[id] = true
}

// Objects returns the fixture objects.
func (s *Server) Objects() []*Object { return s.objects }

// Object returns the fixture object whose file name is name (the first
// one when two share it).
func (s *Server) Object(name string) *Object {
	for _, o := range s.objects {
		if o.FileName == name {
			return o
		}
	}
	return nil
}

func plain(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(code)
	fmt.Fprint(w, text)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
