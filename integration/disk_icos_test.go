package integration

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/icosemu"
)

// TestDiskTierICOS: the ICOS store keeps its whole-object downloads in
// unlinked temporary files, gone when the mount ends; with cache.disk set,
// a station directory copied once is copied again after a remount without
// a single download from the portal (which counts every GET).
func TestDiskTierICOS(t *testing.T) {
	h := newHarness(t)
	emu := startICOS(t, icosemu.Options{})
	cacheYAML := "cache:\n  dir: " + filepath.Join(t.TempDir(), "blocks") + "\n  disk: 1GiB\n"
	var ids []string
	tree := icosTree(emu, false)
	for key, o := range tree {
		if strings.HasPrefix(key, icosStation+"/") {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no objects below %s in the emulator", icosStation)
	}
	copyStation := func(round string) int {
		m := h.mountICOSYAML(t, cacheYAML+strings.TrimPrefix(emu.RemoteYAML("icos"), "\n"), func(creds string) {
			writeCreds(t, creds, icosemu.TestUser, icosemu.TestPassword, "")
		})
		before := emu.Counts().DownloadTotal()
		dst := t.TempDir()
		within(t, 60*time.Second, "cp -r ("+round+")", func() {
			if out, err := exec.Command("cp", "-r", filepath.Join(m.root, icosStation), dst).CombinedOutput(); err != nil {
				t.Fatalf("cp -r (%s): %v: %s", round, err, out)
			}
		})
		for key, o := range tree {
			if !strings.HasPrefix(key, icosStation+"/") {
				continue
			}
			p := filepath.Join(dst, filepath.Base(icosStation), filepath.Base(key))
			if data, err := readAll(t, p); err != nil || !bytes.Equal(data, o.Data) {
				t.Fatalf("%s (%s): %d bytes, %v; want the object's %d bytes", p, round, len(data), err, len(o.Data))
			}
		}
		stop(t, m.Mount)
		return emu.Counts().DownloadTotal() - before
	}
	if n := copyStation("first mount"); n != len(ids) {
		t.Fatalf("first cp -r downloaded %d objects, want %d", n, len(ids))
	}
	if n := copyStation("after a remount"); n != 0 {
		t.Fatalf("cp -r after a remount downloaded %d objects, want 0 (all from the disk tier)", n)
	}
}
