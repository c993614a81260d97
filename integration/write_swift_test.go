package integration

import (
	"bytes"
	"crypto/sha256"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/earthmount/earthmount/integration/testenv"
)

// swiftWriteMount writes the small Zarr store and the 200 MiB file (a
// static large object above 64 MiB) into a writable Swift remote with
// rsync -a, reads every object back through the Swift API, and checks
// that a second rsync -a, onto a fresh mount, sends nothing.
func swiftWriteMount(t *testing.T, sw *testenv.Swift, client *gophercloud.ServiceClient) {
	const container = "inbox"
	ctx := t.Context()
	h := newHarness(t)
	need(t, testenv.CreateContainer(ctx, client, container))
	src := t.TempDir()
	want := writeUploadTree(t, src, 5) // Swift's SAIO is slow per request: fewer chunks
	remote := sw.SwiftRemoteV1()
	remote["read_only"] = false
	remote["containers"] = []string{container}
	mountRW := func() *testenv.Mount {
		cfgPath := filepath.Join(t.TempDir(), "config.yaml")
		need(t, testenv.WriteRemotes(cfgPath, testenv.CacheConfig{Spool: t.TempDir()}, map[string]map[string]any{"eosc": remote}))
		return mountConfig(t, h, cfgPath, "")
	}
	m := mountRW()
	dst := filepath.Join(m.Dir, "eosc", container, "rs") + "/"
	took := within(t, 2*time.Minute, "rsync", func() { run(t, 2*time.Minute, "rsync", "-a", src+"/", dst) })
	t.Logf("rsync -a onto Swift took %v", took.Round(time.Millisecond))

	pages, err := objects.List(client, container, nil).AllPages(ctx)
	need(t, err)
	names, err := objects.ExtractNames(pages)
	need(t, err)
	got := map[string]bool{}
	for _, n := range names {
		if rel, ok := strings.CutPrefix(n, "rs/"); ok && !strings.HasSuffix(n, "/") {
			got[rel] = true
		}
	}
	for rel, sum := range want {
		if !got[rel] {
			t.Errorf("rs/%s: not uploaded", rel)
			continue
		}
		r := objects.Download(ctx, client, container, "rs/"+rel, nil)
		need(t, r.Err)
		hash := sha256.New()
		_, err := io.Copy(hash, r.Body)
		r.Body.Close()
		need(t, err)
		if !bytes.Equal(hash.Sum(nil), sum[:]) {
			t.Errorf("rs/%s: content differs from the local file", rel)
		}
		delete(got, rel)
	}
	for rel := range got {
		t.Errorf("rs/%s: unexpected object", rel)
	}
	fresh := mountRW()
	var out string
	within(t, 2*time.Minute, "rsync", func() {
		out = run(t, 2*time.Minute, "rsync", "-a", "--stats", src+"/", filepath.Join(fresh.Dir, "eosc", container, "rs")+"/")
	})
	if !strings.Contains(out, "Number of regular files transferred: 0\n") {
		t.Errorf("second rsync -a onto Swift transferred files:\n%s", out)
	}
}
