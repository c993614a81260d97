package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestMountHelper runs contrib/mount.fuse.earthmount the way mount(8)
// does for an /etc/fstab line of type fuse.earthmount (SOURCE MOUNTPOINT
// -o OPTIONS): it returns once the mount is ready, with earthmount in the
// background logging to log_file, and the generic fstab options ignored.
func TestMountHelper(t *testing.T) {
	h := newHarness(t)
	v := startVersity(t, testenv.VersityOptions{})
	ctx := t.Context()
	const bucket = "fstab"
	need(t, v.CreateBucket(ctx, bucket))
	_, err := v.Put(ctx, bucket, "hello.txt", []byte("hello\n"))
	need(t, err)
	dir := t.TempDir()
	cfg := writeConfig(t, testenv.Config{Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}})
	mnt := filepath.Join(dir, "mnt")
	need(t, os.Mkdir(mnt, 0o755))
	logFile := filepath.Join(dir, "earthmount.log")
	helper, err := filepath.Abs("../contrib/mount.fuse.earthmount")
	need(t, err)

	cmd := exec.CommandContext(ctxTimeout(t, time.Minute), "/bin/sh", helper, "local", mnt,
		"-o", "rw,noauto,_netdev,x-systemd.automount,config="+cfg+",cache_memory=64MiB,log_file="+logFile)
	cmd.Env = testenv.Env(filepath.Join(dir, "home"), "EARTHMOUNT_BIN="+h.bin)
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		if fstype, _, _ := testenv.MountedAt(mnt); strings.HasPrefix(fstype, "fuse") {
			if err := testenv.Unmount(mnt); err != nil {
				t.Errorf("unmount: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatalf("mount.fuse.earthmount: %v\n%s\nlog:\n%s", err, out, readLog(logFile))
	}
	if fstype, _, _ := testenv.MountedAt(mnt); fstype != testenv.FSType {
		t.Fatalf("after the helper returned: mount type %q, want %s", fstype, testenv.FSType)
	}
	if data, err := os.ReadFile(filepath.Join(mnt, bucket, "hello.txt")); err != nil || string(data) != "hello\n" {
		t.Errorf("read through the helper's mount: %q, %v", data, err)
	}
	log := readLog(logFile)
	if !strings.Contains(log, testenv.ReadyPrefix+"local on "+mnt) {
		t.Errorf("log file lacks the ready line:\n%s", log)
	}
	fi, err := os.Stat(logFile)
	need(t, err)
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("log file mode %04o, want 0600", fi.Mode().Perm())
	}

	// Unmounting ends the background earthmount: the mount must go away
	// and stay away.
	need(t, testenv.Unmount(mnt))
	deadline := time.Now().Add(10 * time.Second)
	for {
		fstype, _, err := testenv.MountedAt(mnt)
		need(t, err)
		if fstype == "" && strings.Contains(readLog(logFile), "unmounted") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10s after unmount: mount type %q; log:\n%s", fstype, readLog(logFile))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
