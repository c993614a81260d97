package fs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/earthmount/earthmount/backends/memstore"
)

// TestLocksAccepted: HDF5 (and so netCDF4 and h5py) locks every file it
// opens and fails on filesystems that refuse; the kernel grants locks on
// the mount locally (mount.go leaves EnableLocks off).
func TestLocksAccepted(t *testing.T) {
	st := memstore.New()
	st.Put("b/x.nc", []byte("\x89HDF\r\n\x1a\n"))
	mnt := testMount(t, st, true)
	f, err := os.Open(filepath.Join(mnt, "b/x.nc"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	tests := []struct {
		name string
		lock func() error
	}{
		{"flock shared", func() error { return syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB) }},
		{"flock exclusive", func() error { return syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) }},
		{"flock unlock", func() error { return syscall.Flock(fd, syscall.LOCK_UN) }},
		{"fcntl read lock", func() error {
			return syscall.FcntlFlock(uintptr(fd), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_RDLCK})
		}},
		{"fcntl unlock", func() error {
			return syscall.FcntlFlock(uintptr(fd), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_UNLCK})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.lock(); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		})
	}
}
