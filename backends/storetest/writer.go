package storetest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// WriterStore is a store with the write capability.
type WriterStore interface {
	backends.Store
	backends.Writer
}

// RunWriter checks st's backends.Writer below root ("" or ending in "/",
// naming an existing bucket for stores with buckets): uploads small and
// multipart-sized, mtime kept to the nanosecond, server-side rename, mtime
// changed in place, removal. bigSize should exceed the store's multipart
// threshold (S3: 16 MiB).
func RunWriter(t *testing.T, st WriterStore, root string, bigSize int) {
	t.Helper()
	mtime := time.Unix(1_600_000_000, 123_456_789)
	small := pseudoRandom(1000, 7)
	big := pseudoRandom(bigSize, 8)
	cases := []struct {
		name string
		key  string
		data []byte
	}{
		{"empty", root + "w/empty", []byte{}},
		{"small", root + "w/small.bin", small},
		{"multipart", root + "w/big.bin", big},
	}
	for _, c := range cases {
		t.Run("Upload/"+c.name, func(t *testing.T) {
			info, err := st.Upload(t.Context(), c.key, bytes.NewReader(c.data), int64(len(c.data)), mtime)
			if err != nil {
				t.Fatalf("Upload(%q): %v", c.key, err)
			}
			got := checkObject(t, st, c.key, c.data, mtime)
			if info.Size != got.Size || (info.Version != "" && info.Version != got.Version) {
				t.Errorf("Upload returned %+v, Stat %+v", info, got)
			}
		})
	}
	t.Run("UploadReplaces", func(t *testing.T) {
		key := root + "w/small.bin"
		old, err := st.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		data := pseudoRandom(700, 9)
		if _, err := st.Upload(t.Context(), key, bytes.NewReader(data), int64(len(data)), mtime); err != nil {
			t.Fatal(err)
		}
		checkObject(t, st, key, data, mtime)
		if _, err := st.ReadAt(t.Context(), old.Ref(), make([]byte, 10), 0); !errors.Is(err, backends.ErrStale) {
			t.Errorf("read of the replaced version: %v, want ErrStale", err)
		}
	})
	t.Run("Rename", func(t *testing.T) {
		for _, c := range []struct{ src, dst string }{{"w/big.bin", "w/copy/big.bin"}, {"w/small.bin", "w/small2"}} {
			if _, err := st.Rename(t.Context(), root+c.src, root+c.dst); err != nil {
				t.Fatalf("Rename(%s, %s): %v", c.src, c.dst, err)
			}
			if _, err := st.Stat(t.Context(), root+c.src); !errors.Is(err, backends.ErrNotExist) {
				t.Errorf("Stat of the renamed %s: %v, want ErrNotExist", c.src, err)
			}
		}
		checkObject(t, st, root+"w/copy/big.bin", big, mtime)
		_, err := st.Rename(t.Context(), root+"w/missing", root+"w/x")
		if !errors.Is(err, backends.ErrNotExist) {
			t.Errorf("Rename of a missing key: %v, want ErrNotExist", err)
		}
	})
	t.Run("SetModTime", func(t *testing.T) {
		later := mtime.Add(time.Hour + 5)
		if _, err := st.SetModTime(t.Context(), root+"w/copy/big.bin", later); err != nil {
			t.Fatalf("SetModTime: %v", err)
		}
		checkObject(t, st, root+"w/copy/big.bin", big, later)
	})
	t.Run("Remove", func(t *testing.T) {
		for _, key := range []string{root + "w/empty", root + "w/small2", root + "w/copy/big.bin"} {
			if err := st.Remove(t.Context(), key); err != nil {
				t.Errorf("Remove(%q): %v", key, err)
			}
			if _, err := st.Stat(t.Context(), key); !errors.Is(err, backends.ErrNotExist) {
				t.Errorf("Stat after Remove(%q): %v, want ErrNotExist", key, err)
			}
		}
		if err := st.Remove(t.Context(), root+"w/never-there"); err != nil {
			t.Errorf("Remove of a missing key: %v, want nil", err)
		}
	})
}

// checkObject stats and reads key and compares with data and mtime.
func checkObject(t *testing.T, st backends.Store, key string, data []byte, mtime time.Time) backends.ObjectInfo {
	t.Helper()
	info, err := st.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Size != int64(len(data)) || !info.ModTime.Equal(mtime) {
		t.Errorf("Stat(%q) = size %d mtime %v; want %d, %v", key, info.Size, info.ModTime, len(data), mtime)
	}
	p := make([]byte, len(data)+1)
	n, err := st.ReadAt(t.Context(), info.Ref(), p, 0)
	if (err != nil && err != io.EOF) || !bytes.Equal(p[:n], data) {
		t.Errorf("ReadAt(%q) = %d bytes, %v; want the uploaded %d bytes", key, n, err, len(data))
	}
	return info
}
