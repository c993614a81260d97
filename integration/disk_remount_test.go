package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// TestDiskTier: a dataset read through a mount with cache.disk set is read
// again after a remount with no object GET at all and the same bytes; a
// second mount naming the same directory runs without the disk tier
// instead of sharing it; corrupted block files are never served: the
// mount reads those blocks from the store again and returns the right
// bytes.
func TestDiskTier(t *testing.T) {
	objects := map[string][]byte{}
	// 7 blocks (chunks of 8 MiB and less), 24 MiB in all: less than the
	// disk tier's write queue, so that no block can be dropped.
	for i, size := range []int64{12 << 20, 9 << 20, 3 << 20, 64 << 10, 1000} {
		key := fmt.Sprintf("data/obj-%d.bin", i)
		objects[key] = testenv.ContentBytes(key, size)
	}
	e := newDiskEnv(t, objects, nil)

	first := e.mount(t, "128MiB", "1GiB")
	gets, _ := e.readAll(t, first)
	if gets == 0 {
		t.Fatal("the first read made no object GET: the counter does not work")
	}
	stop(t, first)
	blocks := blockFiles(t, e.cacheDir)
	if len(blocks) != 7 {
		t.Fatalf("%d block files after the first mount, want 7 (one per chunk read)", len(blocks))
	}
	for _, p := range []string{e.cacheDir, blocks[0]} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s: %v, mode %v: want private to the owner", p, err, fi.Mode().Perm())
		}
	}

	t.Run("remount reads from disk", func(t *testing.T) {
		m := e.mount(t, "128MiB", "1GiB")
		gets, _ := e.readAll(t, m)
		if gets != 0 {
			t.Fatalf("%d object GETs after the remount, want 0", gets)
		}
		// Another mount naming the same directory must not share it.
		other := e.mount(t, "128MiB", "1GiB")
		// The warning comes before the ready line StartMount waited for.
		if !strings.Contains(readLog(other.LogPath()), "in use by another earthmount") {
			t.Fatal("the second mount on a shared cache dir did not say it runs without the disk tier")
		}
		if gets, _ := e.readAll(t, other); gets == 0 {
			t.Fatal("the mount without the disk tier made no GET")
		}
		stop(t, other)
		stop(t, m)
	})

	t.Run("corrupt blocks are refetched", func(t *testing.T) {
		// Flip a byte in the middle of the largest block, cut another short.
		b, err := os.ReadFile(blocks[0])
		need(t, err)
		b[len(b)/2] ^= 0xff
		need(t, os.WriteFile(blocks[0], b, 0o600))
		need(t, os.Truncate(blocks[1], 100))
		m := e.mount(t, "128MiB", "1GiB")
		gets, _ := e.readAll(t, m)
		if gets != 2 {
			t.Fatalf("%d object GETs with two corrupt blocks, want 2", gets)
		}
		stop(t, m)
		if n := strings.Count(readLog(m.LogPath()), "failed its check"); n != 2 {
			t.Fatalf("%d corrupt blocks logged, want 2", n)
		}
	})
}

// TestDiskTierRemountFigure measures re-reading a dataset after a remount
// at 20 ms round-trip time (toxiproxy), with and without the disk tier,
// side by side. EARTHMOUNT_DISK_FIGURE_MB sets the dataset size (default
// 48; the closing note uses 200):
//
//	CI=true EARTHMOUNT_DISK_FIGURE_MB=200 go test -count=1 -v -run TestDiskTierRemountFigure ./integration/
func TestDiskTierRemountFigure(t *testing.T) {
	mb := 48
	if s := os.Getenv("EARTHMOUNT_DISK_FIGURE_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 4 {
			t.Fatalf("EARTHMOUNT_DISK_FIGURE_MB=%q: want a number of MiB, at least 4", s)
		}
		mb = n
	}
	objects := map[string][]byte{}
	for i := range mb / 4 { // 4 MiB objects, like the chunks of a Zarr store
		key := fmt.Sprintf("store.zarr/var/%d.0.0", i)
		objects[key] = testenv.ContentBytes(key, 4<<20)
	}
	tp := startToxiproxy(t)
	var px *testenv.Proxy
	e := newDiskEnv(t, objects, func(url string) string {
		var err error
		px, err = tp.Proxy("disk-s3", url)
		need(t, err)
		return px.URL
	})
	need(t, px.SetLatency(20*time.Millisecond))

	type result struct {
		gets int64
		wall time.Duration
	}
	// cold: first read; remount: the read after a remount; again: the
	// same read once more in that mount (from the memory cache).
	measure := func(disk string) (cold, remount, again result) {
		m := e.mount(t, "512MiB", disk)
		cold.gets, cold.wall = e.readAll(t, m)
		stop(t, m)
		for line := range strings.SplitSeq(readLog(m.LogPath()), "\n") {
			if strings.Contains(line, "disk cache closed") {
				t.Logf("first mount: %s", line)
			}
		}
		m = e.mount(t, "512MiB", disk)
		remount.gets, remount.wall = e.readAll(t, m)
		again.gets, again.wall = e.readAll(t, m)
		stop(t, m)
		return cold, remount, again
	}
	_, memWarm, memHit := measure("")
	diskCold, diskWarm, _ := measure("4GiB")
	if diskWarm.gets >= memWarm.gets {
		t.Fatalf("after a remount: %d GETs with the disk tier, %d without; want fewer with it", diskWarm.gets, memWarm.gets)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("closing-note | re-read of %d MiB (%d objects of 4 MiB) after a remount, 20 ms RTT | memory cache only: %v, %d GETs | disk tier: %v, %d GETs (first read with the disk tier: %v, %d GETs) | speed-up %.1fx | from the memory cache without a remount: %v | load %s",
		mb, len(objects), memWarm.wall.Round(10*time.Millisecond), memWarm.gets,
		diskWarm.wall.Round(10*time.Millisecond), diskWarm.gets, diskCold.wall.Round(10*time.Millisecond), diskCold.gets,
		memWarm.wall.Seconds()/diskWarm.wall.Seconds(), memHit.wall.Round(10*time.Millisecond), strings.TrimSpace(string(load)))
}
