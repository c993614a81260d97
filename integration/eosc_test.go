package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/integration/keystoneemu"
	"github.com/earthmount/earthmount/integration/oidcemu"
	"github.com/earthmount/earthmount/integration/testenv"
)

// The pangeo-eosc chain end to end: an emulated EGI Check-in (oidcemu) and
// Keystone (keystoneemu) in front of the real Swift all-in-one, whose
// tempauth tokens the emulated Keystone hands out as project-scoped
// tokens. earthmount is configured as a pangeo-eosc user is: only OS_*
// and OIDC_* environment variables, no config file (the built-in eosc
// remote), except where an s3 remote with credentials_from is needed.

const (
	eoscProject   = "dbec8bc99a474772a703a0513af98c91"
	eoscUser      = "7b2e5f0c-egi-user"
	eoscContainer = "pangeo-data"
)

// eoscEnv is one test's servers.
type eoscEnv struct {
	sw        *testenv.Swift
	swiftDir  string
	client    *gophercloud.ServiceClient
	h         *harness
	files     map[string][]byte // key in eoscContainer -> content
	proxyURL  string            // Swift through toxiproxy (bandwidth-limited)
	slowProxy *testenv.Proxy
}

// TestEOSC runs the Keystone/OIDC flows against the real Swift.
func TestEOSC(t *testing.T) {
	e := &eoscEnv{h: newHarness(t), swiftDir: t.TempDir()}
	sw, err := testenv.StartSwift(t.Context(), testenv.SwiftOptions{Dir: e.swiftDir})
	need(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("swift logs (tails):\n%s", sw.Logs())
		}
		if err := sw.Close(); err != nil {
			t.Errorf("stopping swift: %v", err)
		}
	})
	e.sw = sw
	e.client, err = sw.SwiftClient(t.Context())
	need(t, err)
	need(t, testenv.CreateContainer(t.Context(), e.client, eoscContainer))
	e.files = map[string][]byte{}
	for i := range 8 {
		key := fmt.Sprintf("zarr/chunk-%02d", i)
		e.files[key] = testenv.ContentBytes(eoscContainer+"/"+key, 300<<10)
	}
	e.files["README.txt"] = []byte("pangeo-eosc test container\n")
	for k, data := range e.files {
		_, err := testenv.PutSwift(t.Context(), e.client, eoscContainer, k, data)
		need(t, err)
	}
	tp := startToxiproxy(t)
	e.slowProxy, err = tp.Proxy("eosc-swift", strings.TrimSuffix(strings.TrimPrefix(sw.AuthURL, "http://"), "/auth/v1.0"))
	need(t, err)
	e.proxyURL = "http://" + strings.TrimPrefix(e.slowProxy.URL, "http://")

	t.Run("federated login lists and reads Swift", e.testFederated)
	t.Run("OIDC token expiring during a long cp is renewed", e.testRenewDuringCopy)
	t.Run("revoked refresh token gives EACCES without a retry storm", e.testRevoked)
	t.Run("Swift 401 triggers exactly one re-auth", e.test401)
	t.Run("EC2 credentials are created once and reused across mounts", e.testEC2)
}

// emulators starts an issuer and a Keystone for one subtest.
func (e *eoscEnv) emulators(t *testing.T, oidcLife, keystoneLife time.Duration, slow bool) (*oidcemu.Issuer, *keystoneemu.Keystone) {
	t.Helper()
	iss, err := oidcemu.Start(oidcemu.Options{Lifetime: oidcLife})
	need(t, err)
	t.Cleanup(func() { iss.Close() })
	opts := keystoneemu.Options{
		Bearer: iss.Valid, ProjectID: eoscProject, ProjectName: "vo.pangeo.eu-swift", UserID: eoscUser,
		SwiftAuthURL: e.sw.AuthURL, SwiftUser: testenv.SwiftUser, SwiftKey: testenv.SwiftKey,
		TokenLifetime: keystoneLife, EC2Access: e.sw.AccessKey, EC2Secret: e.sw.SecretKey, Region: "Brno1",
	}
	if slow {
		proxy := e.proxyURL
		opts.CatalogURL = func(u string) string {
			_, path, _ := strings.Cut(strings.TrimPrefix(u, "http://"), "/")
			return proxy + "/" + path
		}
	}
	ks, err := keystoneemu.Start(opts)
	need(t, err)
	t.Cleanup(func() { ks.Close() })
	return iss, ks
}

// pangeoEnv sets the variables the pangeo-eosc page has the user export.
// The issuer is the emulator's (the default is EGI Check-in's).
func pangeoEnv(t *testing.T, iss *oidcemu.Issuer, ks *keystoneemu.Keystone, access, refresh string) {
	t.Setenv("OIDC_ISSUER", iss.URL)
	t.Setenv("OS_AUTH_URL", ks.URL)
	t.Setenv("OS_AUTH_TYPE", "v3oidcaccesstoken")
	t.Setenv("OS_IDENTITY_PROVIDER", "egi.eu")
	t.Setenv("OS_PROTOCOL", "openid")
	t.Setenv("OS_ACCESS_TOKEN", access)
	t.Setenv("OS_PROJECT_ID", eoscProject)
	t.Setenv("OIDC_REFRESH_TOKEN", refresh)
	t.Setenv("OS_STORAGE_URL", "")
}

// mountEOSC mounts target with the config at cfgPath ("" means none: the
// built-in remotes from the environment).
func (e *eoscEnv) mountEOSC(t *testing.T, cfgPath, target string, args ...string) *testenv.Mount {
	t.Helper()
	return e.h.mount(t, mountSpec{cfgPath: cfgPath, noConfig: cfgPath == "", target: target, args: args})
}

func (e *eoscEnv) testFederated(t *testing.T) {
	iss, ks := e.emulators(t, time.Hour, time.Hour, false)
	pangeoEnv(t, iss, ks, iss.AccessToken(), "")

	res, err := testenv.Run(t.Context(), e.h.bin, t.TempDir(), 20*time.Second, "remotes")
	need(t, err)
	if !strings.Contains(res.Stdout, "keystone federated (egi.eu/openid), OIDC token from OS_ACCESS_TOKEN, refresh token: no") {
		t.Errorf("earthmount remotes does not show the route:\n%s", res.Stdout)
	}
	if n := len(ks.Counts()); n != 0 {
		t.Errorf("earthmount remotes contacted Keystone: %v", ks.Counts())
	}

	m := e.mountEOSC(t, "", "eosc")
	if c := ks.Counts(); c["federated"] != 0 || c["scope"] != 0 {
		t.Errorf("mounting logged in already (lazy login expected): %v", c)
	}
	var names []string
	within(t, 30*time.Second, "ls", func() {
		ents, err := os.ReadDir(m.Dir)
		if err != nil {
			t.Errorf("ls: %v", err)
		}
		for _, en := range ents {
			names = append(names, en.Name())
		}
	})
	if !strings.Contains(strings.Join(names, ","), eoscContainer) {
		t.Fatalf("containers %v, want %s", names, eoscContainer)
	}
	got, err := os.ReadFile(filepath.Join(m.Dir, eoscContainer, "zarr/chunk-03"))
	if err != nil || !bytes.Equal(got, e.files["zarr/chunk-03"]) {
		t.Fatalf("read: %d bytes, err %v", len(got), err)
	}
	if c := ks.Counts(); c["federated"] != 1 || c["scope"] != 1 {
		t.Errorf("Keystone requests %v, want one federated login and one scoping", c)
	}
}

func (e *eoscEnv) testRenewDuringCopy(t *testing.T) {
	// OIDC tokens live 3 s, Keystone tokens 4 s; the copy takes about 8 s
	// through a proxy limited to 300 kB/s per connection.
	iss, ks := e.emulators(t, 3*time.Second, 4*time.Second, true)
	pangeoEnv(t, iss, ks, iss.AccessToken(), iss.RefreshToken())
	need(t, e.slowProxy.SetBandwidth(300))
	t.Cleanup(func() { e.slowProxy.SetBandwidth(0) })
	m := e.mountEOSC(t, "", "eosc:"+eoscContainer, "--log-level", "debug")

	dst := filepath.Join(t.TempDir(), "copy")
	start := time.Now()
	run(t, 2*time.Minute, "cp", "-r", filepath.Join(m.Dir, "zarr"), dst)
	took := time.Since(start)
	for k, want := range e.files {
		name, ok := strings.CutPrefix(k, "zarr/")
		if !ok {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || sha256.Sum256(got) != sha256.Sum256(want) {
			t.Errorf("%s: copy differs (%d bytes, err %v)", k, len(got), err)
		}
	}
	c, o := ks.Counts(), iss.Counts()
	t.Logf("cp took %v; Keystone %v; OIDC %v", took.Round(time.Millisecond), c, o)
	if took < 5*time.Second {
		t.Errorf("cp took %v: too fast for tokens to expire during it (the proxy should slow it)", took)
	}
	if o["refresh"] < 1 || c["federated"] < 2 {
		t.Errorf("no renewal during the copy: OIDC %v, Keystone %v", o, c)
	}
	if o["refused"] != 0 || c["federated_refused"] != 0 || c["scope_refused"] != 0 {
		t.Errorf("refused logins: OIDC %v, Keystone %v", o, c)
	}
	if strings.Contains(m.Log(), "login failed") || strings.Contains(m.Log(), "filesystem operation failed") {
		t.Errorf("failures in the log:\n%s", m.Log())
	}
}

func (e *eoscEnv) testRevoked(t *testing.T) {
	iss, ks := e.emulators(t, time.Hour, time.Hour, false)
	rt := iss.RefreshToken()
	iss.Revoke(rt)
	pangeoEnv(t, iss, ks, iss.ExpiredAccessToken(), rt)
	m := e.mountEOSC(t, "", "eosc")
	for i := range 5 {
		var err error
		within(t, 30*time.Second, "ls", func() { _, err = os.ReadDir(m.Dir) })
		if !errors.Is(err, syscall.EACCES) {
			t.Fatalf("ls #%d: %v, want EACCES", i+1, err)
		}
		_, err = os.Stat(filepath.Join(m.Dir, eoscContainer, "README.txt"))
		if !errors.Is(err, syscall.EACCES) {
			t.Fatalf("stat #%d: %v, want EACCES", i+1, err)
		}
	}
	o, c := iss.Counts(), ks.Counts()
	t.Logf("after 10 refused accesses: OIDC %v, Keystone %v", o, c)
	if o["discovery"] != 1 || o["refused"] != 1 || o["refresh"] != 0 || len(c) != 0 {
		t.Errorf("requests: OIDC %v, Keystone %v; want one discovery, one refused refresh and nothing at Keystone", o, c)
	}
	log := m.Log()
	failed := regexp.MustCompile(`(?m)^.*login failed.*$`).FindAllString(log, -1)
	if len(failed) != 1 {
		t.Errorf("%d 'login failed' lines, want 1:\n%s", len(failed), log)
	} else {
		for _, want := range []string{"OIDC refresh at", "invalid_grant", "OIDC_REFRESH_TOKEN"} {
			if !strings.Contains(failed[0], want) {
				t.Errorf("the log line does not say %q: %s", want, failed[0])
			}
		}
	}
	if strings.Contains(log, rt) {
		t.Errorf("the refresh token appears in the log")
	}
}

func (e *eoscEnv) test401(t *testing.T) {
	iss, ks := e.emulators(t, time.Hour, time.Hour, false)
	pangeoEnv(t, iss, ks, iss.AccessToken(), "")
	m := e.mountEOSC(t, "", "eosc:"+eoscContainer)
	read := func(key string) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(m.Dir, key))
		if err != nil || !bytes.Equal(got, e.files[key]) {
			t.Fatalf("read %s: %d bytes, err %v", key, len(got), err)
		}
	}
	read("zarr/chunk-00")
	if c := ks.Counts(); c["scope"] != 1 {
		t.Fatalf("Keystone %v after the first read, want one scoped token", c)
	}
	// Swift forgets every tempauth token: the next request gets 401.
	need(t, flushMemcached(e.swiftDir))
	read("zarr/chunk-01")
	read("zarr/chunk-02")
	c := ks.Counts()
	if c["federated"] != 2 || c["scope"] != 2 {
		t.Errorf("Keystone %v, want exactly one re-auth (two federated logins and scopings in all)", c)
	}
}

func (e *eoscEnv) testEC2(t *testing.T) {
	iss, ks := e.emulators(t, time.Hour, time.Hour, false)
	pangeoEnv(t, iss, ks, iss.AccessToken(), "")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	// The swift remote takes every key from OS_*; the s3 remote borrows
	// its login for EC2 credentials.
	doc := fmt.Sprintf("remotes:\n  eosc:\n    type: swift\n  eosc-s3:\n    type: s3\n    endpoint: %s\n    credentials_from: eosc\n", e.sw.URL)
	need(t, os.WriteFile(cfg, []byte(doc), 0o600))
	for i := range 2 {
		m := e.mountEOSC(t, cfg, "eosc-s3:"+eoscContainer)
		got, err := os.ReadFile(filepath.Join(m.Dir, "README.txt"))
		if err != nil || !bytes.Equal(got, e.files["README.txt"]) {
			t.Fatalf("mount %d: read through S3: %q, %v", i+1, got, err)
		}
		if strings.Contains(m.Log(), e.sw.SecretKey+"\"") || strings.Contains(m.Log(), "secret="+e.sw.SecretKey) {
			t.Errorf("the EC2 secret appears in the log")
		}
		_, err = m.Stop(15 * time.Second)
		need(t, err)
	}
	c := ks.Counts()
	if c["ec2_create"] != 1 || c["ec2_list"] != 2 || ks.EC2Credentials() != 1 {
		t.Errorf("Keystone %v with %d credentials, want one created, listed by each of the two mounts", c, ks.EC2Credentials())
	}
}

// flushMemcached empties the all-in-one's memcached, where tempauth keeps
// its tokens; the port is read from the proxy's config.
func flushMemcached(swiftDir string) error {
	conf, err := os.ReadFile(filepath.Join(swiftDir, "etc", "proxy-server.conf"))
	if err != nil {
		return err
	}
	mm := regexp.MustCompile(`memcache_servers\s*=\s*(\S+)`).FindSubmatch(conf)
	if mm == nil {
		return errors.New("no memcache_servers in proxy-server.conf")
	}
	c, err := net.DialTimeout("tcp", string(mm[1]), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("flush_all\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "OK" {
		return fmt.Errorf("memcached flush_all: %q, %v", line, err)
	}
	return nil
}
