package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/integration/icosemu"
	"github.com/earthmount/earthmount/integration/testenv"
)

// TestICOSCredentialsFile reads with an icoscp_core credentials file that
// holds no token yet: one login, and the file gains the token, keeps its
// format and becomes 0600.
func TestICOSCredentialsFile(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, "") })
	want := icosTree(emu, false)[icosFlux]
	data, err := readAll(t, filepath.Join(m.root, icosFlux))
	if err != nil || !bytes.Equal(data, want.Data) {
		t.Fatalf("read: %d bytes, %v", len(data), err)
	}
	// By id, before anything lists icos/objects (a listed directory
	// answers lookups from its listing, which is empty, until dir_ttl).
	hexID := ""
	for _, b := range emu.Object("ICOS RI Data Policy.pdf").Hash {
		hexID += string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
	}
	doc := emu.Object("ICOS RI Data Policy.pdf")
	for _, p := range []string{
		filepath.Join(m.root, "objects", doc.ID, doc.FileName),
		filepath.Join(m.root, "objects", hexID, doc.FileName),
		filepath.Join(m.root, "objects", want.ID, want.FileName),
	} {
		data, err := readAll(t, p)
		if err != nil || (!bytes.Equal(data, doc.Data) && !bytes.Equal(data, want.Data)) {
			t.Errorf("%s: %d bytes, %v", p, len(data), err)
		}
	}
	if n := emu.Counts().Logins[icosemu.TestUser]; n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
	if n := emu.Counts().Downloads[want.ID]; n != 1 {
		t.Errorf("the object was downloaded %d times by path and by id, want once", n)
	}
	checkCredsFile(t, m.creds, icosemu.TestUser, icosemu.TestPassword)
}

// checkCredsFile checks that the file is icoscp_core's format with a token.
func checkCredsFile(t *testing.T, path, user, password string) string {
	t.Helper()
	fi, err := os.Stat(path)
	need(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	need(t, err)
	var doc map[string]string
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("credentials file is not JSON: %v: %s", err, raw)
	}
	if doc["user_id"] != user || doc["password"] != auth.EncodeICOSPassword(password) || !strings.HasPrefix(doc["cookie_value"], "cpauthToken=") {
		t.Errorf("credentials file = %s", raw)
	}
	if !strings.HasPrefix(string(raw), `{"user_id": "`) || strings.HasSuffix(string(raw), "\n") {
		t.Errorf("credentials file is not written as Python's json.dump writes it: %s", raw)
	}
	return doc["cookie_value"]
}

// TestICOSExpiredToken starts with an expired cached token: exactly one
// login, and the file holds the new token.
func TestICOSExpiredToken(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	old := emu.MintToken(icosemu.TestUser, time.Now().Add(-time.Hour), false)
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, old) })
	tree := icosTree(emu, false)
	for _, key := range []string{icosFlux, "etcL2Fluxes/BE-Lon/ICOSETC_BE-Lon_FLUXES_INTERIM_L2.zip"} {
		if data, err := readAll(t, filepath.Join(m.root, key)); err != nil || !bytes.Equal(data, tree[key].Data) {
			t.Errorf("read %s: %d bytes, %v", key, len(data), err)
		}
	}
	if n := emu.Counts().Logins[icosemu.TestUser]; n != 1 {
		t.Errorf("%d logins with an expired cached token, want exactly 1", n)
	}
	if tok := checkCredsFile(t, m.creds, icosemu.TestUser, icosemu.TestPassword); strings.TrimSuffix(tok, ";") == old {
		t.Error("the credentials file still holds the expired token")
	}
}

// TestICOSTokenExpiresDuringCopy copies while the token runs out: tokens
// are fresh for 2 s (validity 1 h + 2 s, renewal margin 1 h), the
// downloads take several seconds, and after the first file the
// emulator's clock jumps two hours, so that the portal refuses the first
// token (a redirect, answered by one re-login) unless earthmount renewed
// it first. Either way: two logins, and no read fails.
func TestICOSTokenExpiresDuringCopy(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{TokenValidity: time.Hour + 2*time.Second})
	emu.SetBandwidth(2 << 20)
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, "") })
	tree := icosTree(emu, false)
	keys := []string{
		"etcL2Fluxes/BE-Lon/ICOSETC_BE-Lon_FLUXES_INTERIM_L2.zip",
		icosFlux,
		"etcL2Fluxnet/BE-Lon/ICOSETC_BE-Lon_FLUXNET_INTERIM_HH_L2.zip",
	}
	dst := t.TempDir()
	for i, key := range keys {
		if i == 1 {
			emu.Advance(2 * time.Hour) // the first token is now expired at the portal
		}
		within(t, 60*time.Second, "cp "+key, func() {
			out, err := exec.Command("cp", filepath.Join(m.root, key), dst).CombinedOutput()
			if err != nil {
				t.Errorf("cp %s: %v: %s", key, err, out)
			}
		})
		data, err := os.ReadFile(filepath.Join(dst, filepath.Base(key)))
		if err != nil || !bytes.Equal(data, tree[key].Data) {
			t.Errorf("copy of %s: %d bytes, %v", key, len(data), err)
		}
	}
	if n := emu.Counts().Logins[icosemu.TestUser]; n != 2 {
		t.Errorf("%d logins, want 2 (the first, and one renewal)", n)
	}
}

// TestICOSLicenceNotAccepted: a logged-in account without the licence
// gets EACCES after one re-login, and one log line naming the object and
// the page where the licence is accepted.
func TestICOSLicenceNotAccepted(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	const user, pw = "new-user@example.org", "pässword!"
	emu.AddUser(user, pw, false)
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, user, pw, "") })
	for range 2 {
		if _, err := readAll(t, filepath.Join(m.root, icosFlux)); !errors.Is(err, syscall.EACCES) {
			t.Errorf("read without the licence: %v, want EACCES", err)
		}
	}
	if n := emu.Counts().Logins[user]; n != 2 {
		t.Errorf("%d logins, want 2 (the first and one re-login after the redirect)", n)
	}
	log := m.Log()
	if n := strings.Count(log, "ICOS data licence not accepted"); n != 1 || !strings.Contains(log, emu.AuthURL()+"/home/") || !strings.Contains(log, icosFlux) {
		t.Errorf("%d licence log lines (want 1, naming %s and %s/home/):\n%s", n, icosFlux, emu.AuthURL(), log)
	}
}

// TestICOSWrongPassword: the login is tried once, with a clear message.
func TestICOSWrongPassword(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, icosemu.TestUser, "wrong-password", "") })
	for _, key := range []string{icosFlux, "etcL2Fluxes/BE-Lon/ICOSETC_BE-Lon_FLUXES_INTERIM_L2.zip"} {
		if _, err := readAll(t, filepath.Join(m.root, key)); !errors.Is(err, syscall.EACCES) {
			t.Errorf("read %s with a wrong password: %v, want EACCES", key, err)
		}
	}
	if n := emu.Counts().Logins[icosemu.TestUser]; n != 1 {
		t.Errorf("%d logins with a wrong password, want 1", n)
	}
	if log := m.Log(); !strings.Contains(log, "ICOS login refused") || !strings.Contains(log, "Incorrect user name or password") {
		t.Errorf("no clear login message:\n%s", log)
	}
}

// TestICOSLoginCommand runs `earthmount login icos` with the answers on
// stdin (no terminal: no echo to switch off) and checks the file.
func TestICOSLoginCommand(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	need(t, os.WriteFile(cfg, []byte(emu.RemoteYAML("icos")), 0o600))
	creds := filepath.Join(dir, auth.ICOSDefaultCredentialsFile)
	login := func(answers string) (string, error) {
		cmd := exec.CommandContext(ctxTimeout(t, 30*time.Second), h.bin, "login", "icos", "--config", cfg)
		cmd.Env = testenv.Env(dir)
		cmd.Stdin = strings.NewReader(answers)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := login(icosemu.TestUser + "\nwrong\n")
	if err == nil || !strings.Contains(out, "Incorrect user name or password") {
		t.Errorf("login with a wrong password: %v: %s", err, out)
	}
	if _, err := os.Stat(creds); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused login wrote the credentials file: %v", err)
	}
	out, err = login(icosemu.TestUser + "\n" + icosemu.TestPassword + "\n")
	if err != nil || strings.Contains(out, icosemu.TestPassword) {
		t.Fatalf("login: %v: %s", err, out)
	}
	checkCredsFile(t, creds, icosemu.TestUser, icosemu.TestPassword)
}
