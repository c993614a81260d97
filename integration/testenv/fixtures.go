package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
)

// Content returns size deterministic pseudo-random bytes named by seed: the
// same seed always gives the same bytes, so expected content never has to
// be stored.
func Content(seed string, size int64) io.Reader {
	sum := sha256.Sum256([]byte(seed))
	return io.LimitReader(rand.NewChaCha8(sum), size)
}

// ContentBytes is Content read into memory.
func ContentBytes(seed string, size int64) []byte {
	b := make([]byte, size)
	if _, err := io.ReadFull(Content(seed, size), b); err != nil {
		panic(fmt.Sprintf("ContentBytes: %v", err)) // cannot happen: ChaCha8 never ends
	}
	return b
}

// SizeFor returns a size in [lo, hi] derived from name, for fixtures whose
// sizes should vary but stay reproducible.
func SizeFor(name string, lo, hi int64) int64 {
	sum := sha256.Sum256([]byte(name))
	return lo + int64(binary.LittleEndian.Uint64(sum[:8])%uint64(hi-lo+1))
}

// WriteTree copies every regular file below local into bucket under
// prefix ("" or ending in "/") with WriteObject, and returns the keys with
// their sizes.
func (v *Versity) WriteTree(bucket, prefix, local string) (map[string]int64, error) {
	keys := make(map[string]int64)
	err := filepath.WalkDir(local, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(local, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		key := prefix + filepath.ToSlash(rel)
		if _, err := v.WriteObjectFrom(bucket, key, f); err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			return err
		}
		keys[key] = st.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s into %s/%s: %w", local, bucket, prefix, err)
	}
	return keys, nil
}

// ScienceScript is a Python program (for Debian's /usr/bin/python3 with
// xarray, zarr and netCDF4) with two modes:
//
//	write DIR    writes DIR/sample.zarr (consolidated, chunked) and DIR/sample.nc
//	compare A B  opens the Zarr store or NetCDF file at A and at B, checks the
//	             values are identical and prints a summary line
const ScienceScript = `
import sys
import numpy as np
import xarray as xr

def dataset():
    t, y, x = 24, 40, 50
    rng = np.random.default_rng(42)
    temp = rng.standard_normal((t, y, x)).astype("float32") * 10 + 280
    return xr.Dataset(
        {"temperature": (("time", "lat", "lon"), temp, {"units": "K"}),
         "mask": (("lat", "lon"), (rng.random((y, x)) > 0.3))},
        coords={"time": np.arange(t), "lat": np.linspace(-60, 60, y), "lon": np.linspace(0, 350, x)},
        attrs={"title": "earthmount sample"})

def open_any(path):
    if path.endswith(".zarr") or path.endswith(".zarr/"):
        return xr.open_zarr(path)
    return xr.open_dataset(path, engine="netcdf4")

if sys.argv[1] == "write":
    ds = dataset()
    ds.chunk({"time": 6}).to_zarr(sys.argv[2] + "/sample.zarr", mode="w", consolidated=True)
    ds.to_netcdf(sys.argv[2] + "/sample.nc", engine="netcdf4",
                 encoding={"temperature": {"zlib": True, "chunksizes": (6, 40, 50)}})
elif sys.argv[1] == "compare":
    a, b = open_any(sys.argv[2]).load(), open_any(sys.argv[3]).load()
    xr.testing.assert_identical(a, b)
    print("identical", a.temperature.shape, float(a.temperature.sum()), int(a.mask.sum()))
else:
    sys.exit("usage: write DIR | compare A B")
`

// Python is Debian's interpreter, which has the science packages (the
// python3 on PATH may be another one).
const Python = "/usr/bin/python3"

// CheckPython reports whether Debian's python3 with xarray, zarr and
// netCDF4 is installed.
func CheckPython(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, Python, "-c", "import xarray, zarr, netCDF4").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s cannot import xarray, zarr and netCDF4 (apt-get install python3-xarray python3-zarr python3-netcdf4): %v %s",
			ErrMissing, Python, err, bytes.TrimSpace(out))
	}
	return nil
}

// WriteScience writes dir/sample.zarr and dir/sample.nc with ScienceScript.
func WriteScience(ctx context.Context, dir string) error {
	out, err := exec.CommandContext(ctx, Python, "-c", ScienceScript, "write", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("writing Zarr and NetCDF samples: %w\n%s", err, out)
	}
	return nil
}

// CompareScience opens the dataset at a and at b with xarray and fails
// unless they are identical; it returns the script's summary line.
func CompareScience(ctx context.Context, a, b string) (string, error) {
	out, err := exec.CommandContext(ctx, Python, "-c", ScienceScript, "compare", a, b).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("xarray compare %s %s: %w\n%s", a, b, err, out)
	}
	return string(bytes.TrimSpace(out)), nil
}
