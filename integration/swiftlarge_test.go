package integration

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/integration/testenv"
)

// largeObject is one SLO or DLO of the large-objects test.
type largeObject struct {
	key      string // store key
	segments [][]byte
	put      func(name string, segs [][]byte) error
}

func (o largeObject) data() []byte { return bytes.Join(o.segments, nil) }

// segmentsOf cuts seed's content into segments of the given sizes.
func segmentsOf(seed string, sizes ...int) [][]byte {
	var segs [][]byte
	for i, n := range sizes {
		segs = append(segs, testenv.ContentBytes(seed+"#"+string(rune('a'+i)), int64(n)))
	}
	return segs
}

// swiftLargeObjects creates an SLO (PUT ?multipart-manifest=put) and a DLO
// (0-byte manifest with X-Object-Manifest) with the Swift API and checks
// that Stat and every kind of listing give their whole size and the ETag a
// GET returns, that whole and ranged reads (across segment boundaries and
// the end) are byte-identical, and that a changed large object turns an
// open version stale.
func swiftLargeObjects(t *testing.T, client *gophercloud.ServiceClient) {
	const container, segs = "large", "large_segments"
	ctx := t.Context()
	need(t, testenv.CreateContainer(ctx, client, container))
	need(t, testenv.CreateContainer(ctx, client, segs))
	slo := func(name string, s [][]byte) error { return testenv.PutSLO(ctx, client, container, name, segs, s) }
	dlo := func(name string, s [][]byte) error { return testenv.PutDLO(ctx, client, container, name, segs, s) }
	objs := []largeObject{
		{key: "large/slo.bin", segments: segmentsOf("slo", 1<<20+7, 2<<20, 333<<10), put: slo},
		{key: "large/dir/dlo.bin", segments: segmentsOf("dlo", 700<<10, 1<<20, 5, 1<<20+3), put: dlo},
	}
	for _, o := range objs {
		need(t, o.put(o.key[len(container)+1:], o.segments))
	}
	_, err := testenv.PutSwift(ctx, client, container, "dir/empty", nil)
	need(t, err)
	st := newSwiftStore(t, client, nil)

	infos := map[string]backends.ObjectInfo{}
	t.Run("Stat", func(t *testing.T) {
		for _, o := range objs {
			info, err := st.Stat(ctx, o.key)
			if err != nil {
				t.Fatalf("Stat(%q): %v", o.key, err)
			}
			if info.Size != int64(len(o.data())) || info.Version == "" || info.ModTime.IsZero() {
				t.Errorf("Stat(%q) = %+v, want size %d, a version and a time", o.key, info, len(o.data()))
			}
			infos[o.key] = info
		}
	})

	t.Run("listings agree with Stat", func(t *testing.T) {
		listed := map[string]backends.ObjectInfo{}
		for _, req := range []backends.ListRequest{
			{Prefix: "large/", Delimiter: "/"}, {Prefix: "large/dir/", Delimiter: "/"},
			{Prefix: "large/"}, {}, {Limit: 1},
		} {
			for _, o := range listAllObjects(t, st, req) {
				if prev, ok := listed[o.Key]; ok && prev != o {
					t.Errorf("%q listed as %+v and as %+v", o.Key, prev, o)
				}
				listed[o.Key] = o
			}
		}
		for key, info := range infos {
			if got := listed[key]; got.Size != info.Size || got.Version != info.Version || !got.ModTime.Equal(info.ModTime) {
				t.Errorf("%q: listed %+v, Stat %+v", key, got, info)
			}
		}
		if e, ok := listed["large/dir/empty"]; !ok || e.Size != 0 {
			t.Errorf("large/dir/empty listed as %+v (found %v), want 0 bytes", e, ok)
		}
	})

	t.Run("reads", func(t *testing.T) {
		for _, o := range objs {
			info, want := infos[o.key], o.data()
			if info.Key == "" {
				t.Fatal("Stat failed")
			}
			n := int64(len(want))
			b0 := int64(len(o.segments[0]))
			cases := []struct {
				name     string
				off, len int64
			}{
				{"whole", 0, n},
				{"across the first segment boundary", b0 - 1000, 5000},
				{"inside the second segment", b0 + 10, 4096},
				{"across the end", n - 100, 1000},
				{"at the end", n, 10},
			}
			for _, c := range cases {
				for _, ref := range []backends.ObjectRef{info.Ref(), {Key: o.key, Size: -1}} {
					p := make([]byte, c.len)
					got, err := st.ReadAt(ctx, ref, p, c.off)
					wantN := max(0, min(c.len, n-c.off))
					if got != int(wantN) || (err != nil && !(err == io.EOF && c.off+c.len >= n)) {
						t.Errorf("%s %s (pinned %v): ReadAt = %d, %v; want %d bytes", o.key, c.name, ref.Version != "", got, err, wantN)
						continue
					}
					if !bytes.Equal(p[:got], want[c.off:c.off+wantN]) {
						t.Errorf("%s %s: bytes differ", o.key, c.name)
					}
				}
			}
		}
	})

	t.Run("a changed large object turns stale", func(t *testing.T) {
		for _, o := range objs {
			old := infos[o.key]
			if old.Key == "" {
				t.Fatal("Stat failed")
			}
			changed := append(segmentsOf(o.key+"-v2", len(o.segments[0])), o.segments[1:]...)
			need(t, o.put(o.key[len(container)+1:], changed))
			_, err := st.ReadAt(ctx, old.Ref(), make([]byte, 100), 0)
			if !errors.Is(err, backends.ErrStale) {
				t.Errorf("%s: ReadAt with the old version after a change: %v, want ErrStale", o.key, err)
			}
			cur, err := st.Stat(ctx, o.key)
			if err != nil || cur.Version == old.Version {
				t.Errorf("%s: Stat after a change = %+v, %v; want a new version", o.key, cur, err)
			}
		}
	})
}

// listAllObjects follows a listing to its end and returns its objects.
func listAllObjects(t *testing.T, st backends.Store, req backends.ListRequest) []backends.ObjectInfo {
	t.Helper()
	var out []backends.ObjectInfo
	for range 10000 {
		page, err := st.List(t.Context(), req)
		if err != nil {
			t.Fatalf("List(%+v): %v", req, err)
		}
		out = append(out, page.Objects...)
		if page.Next == "" {
			return out
		}
		req.Token = page.Next
	}
	t.Fatalf("List(%+v) does not end", req)
	return nil
}
