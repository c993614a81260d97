package fs

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// kernelReadAheadKiB is the kernel read-ahead we ask for on the mount's
// backing device. FUSE offers at most 128 KiB at INIT, which makes the
// kernel send 128-256 KiB reads; with 2 MiB it sends 1 MiB reads (the
// max_pages limit), two at a time. Measured on the 2-core test machine, a
// 1 GiB cp from the in-memory store took 0.9-1.35 s at 128 KiB and
// 0.37-0.88 s at 1-2 MiB: fewer, larger FUSE round trips. 8 MiB then
// lets a program's read of a whole 4-8 MB Zarr chunk go out as all its
// 1 MiB FUSE reads at once instead of in waves of two: zarrbench at 20 ms,
// two A/B rounds on the loaded machine, t2m.mean() 2.02/2.08 s at 2 MiB
// against 1.71/1.31 s at 8 MiB, (t2m - precip).mean() 4.13/2.72 against
// 3.20/2.42. Reading past a small file's end costs nothing (the kernel
// stops at EOF), and NetCDF/HDF5 files, whose readers read a chunk out of
// the middle of a large file, bypass it (direct I/O, file.go).
const kernelReadAheadKiB = 8192

// setKernelReadAhead raises read_ahead_kb of the mount's BDI, as
// gcsfuse's max-read-ahead-kb does. Only root may; others keep the kernel
// default, which is correct, only slower.
func setKernelReadAhead(dir string, kib int, log *slog.Logger) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		log.Debug("kernel read-ahead left at its default", "mountpoint", dir, "err", err)
		return
	}
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	if err := os.WriteFile(path, []byte(strconv.Itoa(kib)), 0); err != nil {
		log.Debug("kernel read-ahead left at its default", "path", path, "err", err)
		return
	}
	log.Debug("kernel read-ahead raised", "path", path, "kib", kib)
}
