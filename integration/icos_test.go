package integration

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/integration/icosemu"
	"github.com/earthmount/earthmount/integration/testenv"
)

// icosMount is a mount of the emulator as the remote "icos".
type icosMount struct {
	*testenv.Mount
	root  string // <mountpoint>/icos
	home  string // HOME of earthmount: ~/.icoscp lives here
	creds string // the default credentials file below home
}

// mountICOS mounts emu with extra YAML lines for the remote; setup runs
// before the mount with the credentials file's path (HOME is fresh).
func (h *harness) mountICOS(t *testing.T, emu *icosemu.Server, extra string, setup func(creds string)) *icosMount {
	t.Helper()
	return h.mountICOSYAML(t, emu.RemoteYAML("icos")+extra, setup)
}

// mountICOSYAML mounts the remote "icos" of the config text yaml, with
// extra command-line flags.
func (h *harness) mountICOSYAML(t *testing.T, yaml string, setup func(creds string), flags ...string) *icosMount {
	t.Helper()
	dir := t.TempDir()
	m := &icosMount{home: filepath.Join(dir, "home")}
	m.creds = filepath.Join(m.home, auth.ICOSDefaultCredentialsFile)
	need(t, os.MkdirAll(m.home, 0o755))
	if setup != nil {
		setup(m.creds)
	}
	cfg := filepath.Join(dir, "config.yaml")
	need(t, os.WriteFile(cfg, []byte(yaml), 0o600))
	mo := h.mount(t, mountSpec{cfgPath: cfg, home: m.home, args: append([]string{"--log-level", "debug"}, flags...)})
	m.Mount, m.root = mo, filepath.Join(mo.Dir, "icos")
	return m
}

// writeCreds writes an icoscp_core credentials file by hand, in its exact
// format: the password obfuscated as the library does (test vector:
// "test-password" -> complement of each byte, in hex).
func writeCreds(t *testing.T, path, user, password, cookie string) {
	t.Helper()
	need(t, os.MkdirAll(filepath.Dir(path), 0o755))
	doc := `{"user_id": "` + user + `", "password": "` + auth.EncodeICOSPassword(password) + `"`
	if cookie != "" {
		doc += `, "cookie_value": "` + cookie + `;"`
	}
	need(t, os.WriteFile(path, []byte(doc+"}"), 0o644))
}

// readAll reads a file of the mount within a deadline.
func readAll(t *testing.T, path string) ([]byte, error) {
	t.Helper()
	var data []byte
	var err error
	within(t, 60*time.Second, "read "+path, func() { data, err = os.ReadFile(path) })
	return data, err
}

const (
	icosFlux    = "etcFluxnetProduct/BE-Lon/ICOSETC_BE-Lon_FLUXNET_HH_01.csv"
	icosGCB     = "globalCarbonBudget/Global_Carbon_Budget_2017v1.2.xlsx"
	icosStation = "etcBioMeteoRawSeriesBin/BE-Lon"
)

// TestICOSBrowseWithoutLogin mounts without any credentials: the tree,
// sizes and times come from SPARQL; CC0 data and documents can be read,
// licensed data is EACCES with a message naming the licence page.
func TestICOSBrowseWithoutLogin(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	m := h.mountICOS(t, emu, "", nil)
	want := icosTree(emu, false)

	var got []string
	within(t, 30*time.Second, "walk", func() {
		need(t, filepath.WalkDir(m.root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(m.root, p)
				got = append(got, rel)
				info, ierr := d.Info()
				if o := want[rel]; o != nil && (ierr != nil || info.Size() != int64(len(o.Data)) || !info.ModTime().Equal(o.SubmTime)) {
					t.Errorf("%s: size/mtime %v, want %d %v", rel, info, len(o.Data), o.SubmTime)
				}
			}
			return err
		}))
	})
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("tree:\n got  %q\n want %q", got, keys)
	}
	if c := emu.Counts(); c.Gets != 0 || len(c.Logins) != 0 {
		t.Errorf("browsing sent %d object GETs and logins %v, want none", c.Gets, c.Logins)
	}
	if data, err := readAll(t, filepath.Join(m.root, icosGCB)); err != nil || !bytes.Equal(data, want[icosGCB].Data) {
		t.Errorf("CC0 object: %d bytes, %v", len(data), err)
	}
	entries, err := os.ReadDir(filepath.Join(m.root, "objects"))
	if err != nil || len(entries) != 0 {
		t.Errorf("ls icos/objects = %v, %v; want nothing", entries, err)
	}
	// The id stays reachable after the walk above listed objects/.
	gcb := want[icosGCB]
	if data, err := readAll(t, filepath.Join(m.root, "objects", gcb.ID, filepath.Base(icosGCB))); err != nil || !bytes.Equal(data, gcb.Data) {
		t.Errorf("objects/<id> after a listing: %d bytes, %v", len(data), err)
	}
	_, err = readAll(t, filepath.Join(m.root, icosFlux))
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("licensed object without login: %v, want EACCES", err)
	}
	if log := m.Log(); !strings.Contains(log, "licence") || !strings.Contains(log, emu.AuthURL()+"/home/") || !strings.Contains(log, icosFlux) {
		t.Errorf("no log line naming the object and the licence page:\n%s", log)
	}
}

// TestICOSQuotaAndDownloadOnce: a quota 503 on the first listing is
// retried; every file is downloaded once for a cp -r followed by a
// re-read of everything.
func TestICOSQuotaAndDownloadOnce(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, "") })
	emu.FailQueries(1)
	entries, err := os.ReadDir(m.root)
	if err != nil || len(entries) < 5 {
		t.Fatalf("ls icos after a quota 503: %d entries, %v", len(entries), err)
	}
	dst := t.TempDir()
	src := filepath.Join(m.root, icosStation)
	within(t, 60*time.Second, "cp -r", func() {
		if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp -r: %v: %s", err, out)
		}
	})
	tree := icosTree(emu, false)
	var ids []string
	for key, o := range tree {
		if strings.HasPrefix(key, icosStation+"/") {
			ids = append(ids, o.ID)
			for _, p := range []string{filepath.Join(dst, "BE-Lon", filepath.Base(key)), filepath.Join(m.root, key)} {
				if data, err := readAll(t, p); err != nil || !bytes.Equal(data, o.Data) {
					t.Errorf("%s: %d bytes, %v", p, len(data), err)
				}
			}
		}
	}
	c := emu.Counts()
	for _, id := range ids {
		if c.Downloads[id] != 1 {
			t.Errorf("object %s downloaded %d times, want once", id, c.Downloads[id])
		}
	}
	if c.Gets != len(ids) {
		t.Errorf("%d GETs for %d files", c.Gets, len(ids))
	}
}

// TestICOSFigures measures, for the closing note, the requests of
// `find icos | wc -l` followed by `cp -r` of one station directory, and
// cp throughput against a direct HTTP download of the same object. It
// checks that find costs one query per data type (plus the type list).
func TestICOSFigures(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	m := h.mountICOS(t, emu, "", func(creds string) { writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, "") })
	run := func(script string) string {
		var out []byte
		within(t, 60*time.Second, script, func() {
			var err error
			out, err = exec.Command("sh", "-c", script).CombinedOutput()
			if err != nil {
				t.Errorf("%s: %v: %s", script, err, out)
			}
		})
		return string(out)
	}
	mnt := filepath.Dir(m.root)
	c0 := emu.Counts()
	lines := strings.TrimSpace(run("find " + m.root + " | wc -l"))
	c1 := emu.Counts()
	dst := t.TempDir()
	run("cp -r " + filepath.Join(m.root, icosStation) + " " + dst)
	c2 := emu.Counts()
	t.Logf("find icos | wc -l = %s: %d SPARQL queries %v, %d downloads", lines, c1.QueryTotal()-c0.QueryTotal(), c1.Queries, c1.DownloadTotal()-c0.DownloadTotal())
	t.Logf("then cp -r icos/%s: %d SPARQL queries, %d downloads (%d GETs)", icosStation, c2.QueryTotal()-c1.QueryTotal(), c2.DownloadTotal()-c1.DownloadTotal(), c2.Gets-c1.Gets)
	if n := c1.Queries["objects"]; n > 14 {
		t.Errorf("find sent %d data type queries for 14 data types", n)
	}
	t.Logf("cd MOUNT && find | head -40:\n%s", run("cd "+mnt+" && find | head -40"))

	const big = "miscFluxnetProduct/BE-Bra/FLX_BE-Bra_FLUXNET2015_FULLSET_HH_1996-2018_beta-3.csv.zip"
	obj := icosTree(emu, false)[big]
	timed := func(f func()) float64 {
		start := time.Now()
		f()
		return float64(len(obj.Data)) / (1 << 20) / time.Since(start).Seconds()
	}
	first := timed(func() { run("cp " + filepath.Join(m.root, big) + " " + dst) })
	again := timed(func() { run("cp " + filepath.Join(m.root, big) + " " + filepath.Join(dst, "again")) })
	direct := timed(func() {
		req, _ := http.NewRequest(http.MethodGet, emu.DataURL()+"/objects/"+obj.ID, nil)
		req.Header.Set("Cookie", emu.MintToken(icosemu.TestUser, time.Now().Add(time.Hour), false))
		resp, err := http.DefaultClient.Do(req)
		need(t, err)
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(dst, "direct"))
		need(t, err)
		defer f.Close()
		_, err = io.Copy(f, resp.Body)
		need(t, err)
	})
	t.Logf("a %d MiB file: cp through earthmount %.0f MiB/s (download, SHA-256 check, copy), cp again %.0f MiB/s (cached), direct HTTP GET to a file %.0f MiB/s",
		len(obj.Data)>>20, first, again, direct)
	if n := emu.Counts().Downloads[obj.ID]; n != 2 {
		t.Errorf("the big object was downloaded %d times (two cp and one direct GET), want 2", n)
	}
}
