package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

// zarrScript writes and compares the stores and files of
// TestZarrAndNetCDFThroughMount with Debian's xarray, zarr 2.13 and
// netCDF4/h5netcdf:
//
//	write DIR          Zarr v2 stores with "." and "/" separators, with and
//	                   without consolidated metadata, each missing one chunk;
//	                   a NetCDF4 file; a NetCDF4 and a NetCDF-3 file larger
//	                   than a chunk (small blocks, direct I/O, mmap'ed)
//	compare MNT LOCAL  opens each through the mount and locally, checks the
//	                   values are identical, that the missing chunk reads as
//	                   the fill value, and runs the reductions the predictor
//	                   is built for; one line per store
const zarrScript = `
import mmap, os, sys
import numpy as np
import xarray as xr
import zarr

STORES = ["dot.zarr", "dot-nocons.zarr", "slash.zarr", "slash-nocons.zarr"]

def dataset(t=40, y=30, x=36):
    rng = np.random.default_rng(7)
    return xr.Dataset(
        {"t2m": (("time", "lat", "lon"), (rng.standard_normal((t, y, x)) * 10 + 280).astype("float32")),
         "precip": (("time", "lat", "lon"), rng.random((t, y, x)).astype("float32"))},
        coords={"time": np.arange(t), "lat": np.linspace(-60, 60, y), "lon": np.linspace(0, 350, x)})

def write(d):
    ds = dataset().chunk({"time": 4, "lat": 15, "lon": 18})
    for name in STORES:
        path = os.path.join(d, name)
        store = zarr.DirectoryStore(path, dimension_separator="/" if name.startswith("slash") else ".")
        ds.to_zarr(store, mode="w", consolidated="nocons" not in name)
        sep = "/" if name.startswith("slash") else "."
        os.remove(os.path.join(path, "t2m", sep.join(["3", "1", "0"])))
    dataset().to_netcdf(os.path.join(d, "sample.nc"), engine="netcdf4",
        encoding={"t2m": {"zlib": True, "chunksizes": (4, 15, 18)}, "precip": {"zlib": True, "chunksizes": (4, 15, 18)}})
    # Larger than one 8 MiB chunk: read in small blocks with direct I/O,
    # NetCDF-3 memory-mapped by scipy.
    big = dataset(72, 180, 180)
    big.to_netcdf(os.path.join(d, "big.nc"), engine="netcdf4", encoding={"t2m": {"chunksizes": (8, 90, 90)}})
    big.to_netcdf(os.path.join(d, "big3.nc"), engine="netcdf4", format="NETCDF3_64BIT")

def open_store(path):
    return xr.open_zarr(path, consolidated="nocons" not in path)

def compare(mnt, local):
    for name in STORES:
        a, b = open_store(os.path.join(mnt, name)), open_store(os.path.join(local, name))
        xr.testing.assert_identical(a.load(), b.load())
        hole = a.t2m.isel(time=slice(12, 16), lat=slice(15, 30), lon=slice(0, 18)).values
        assert np.isnan(hole).all(), "the missing chunk did not read as the fill value"
        assert not np.isnan(a.t2m.isel(time=slice(16, 20)).values).any()
        a, b = open_store(os.path.join(mnt, name)), open_store(os.path.join(local, name))
        for op in (lambda d: d.t2m.mean("time"), lambda d: d.t2m.isel(lat=20, lon=30),
                   lambda d: (d.t2m - d.precip).mean(), lambda d: d.t2m.isel(time=7)):
            xr.testing.assert_identical(op(a).compute(), op(b).compute())
        print(name, "identical")
    for engine in ("netcdf4", "h5netcdf"):
        a = xr.open_dataset(os.path.join(mnt, "sample.nc"), engine=engine).load()
        b = xr.open_dataset(os.path.join(local, "sample.nc"), engine=engine).load()
        xr.testing.assert_identical(a, b)
        print("sample.nc", engine, "identical")
    for name, engine in (("big.nc", "netcdf4"), ("big.nc", "h5netcdf"), ("big3.nc", "netcdf4")):
        a = xr.open_dataset(os.path.join(mnt, name), engine=engine)
        b = xr.open_dataset(os.path.join(local, name), engine=engine)
        xr.testing.assert_identical(a.t2m.isel(time=slice(8, 16), lat=slice(0, 90)).load(), b.t2m.isel(time=slice(8, 16), lat=slice(0, 90)).load())
        xr.testing.assert_identical(a.isel(lat=100, lon=120).load(), b.isel(lat=100, lon=120).load())
        xr.testing.assert_identical(a.load(), b.load())
        a.close()
        print(name, engine, "identical")
    # scipy (not installed here) maps NetCDF-3 files: a shared read-only
    # map of a file opened with direct I/O must work too.
    with open(os.path.join(mnt, "big3.nc"), "rb") as f, open(os.path.join(local, "big3.nc"), "rb") as g:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        assert m[:] == g.read(), "mapped bytes differ"
        m.close()
    print("big3.nc mmap identical")

if sys.argv[1] == "write":
    write(sys.argv[2])
else:
    compare(sys.argv[2], sys.argv[3])
`

// TestZarrAndNetCDFThroughMount: xarray reads Zarr v2 stores (both
// separators, consolidated or not, a chunk missing) and a NetCDF4 file
// (netCDF4 and h5netcdf, which lock the file) through the mount and gets
// exactly the values of the local copies; Zarr v3 stores with and without
// sharding, written here, read back byte for byte, also the way
// zarr-python 3 reads shards (index, then inner-chunk ranges, each a fresh
// open). earthmount's debug log shows it recognised the stores.
func TestZarrAndNetCDFThroughMount(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	need(t, testenv.CheckPython(ctx))
	v := startVersity(t, testenv.VersityOptions{})
	const bucket = "sci"
	local := t.TempDir()
	out, err := exec.CommandContext(ctxTimeout(t, 2*time.Minute), testenv.Python, "-c", zarrScript, "write", local).CombinedOutput()
	if err != nil {
		t.Fatalf("writing the fixtures: %v\n%s", err, out)
	}
	shards := writeV3Stores(t, local)
	_, err = v.WriteTree(bucket, "", local)
	need(t, err)

	m := h.mount(t, mountSpec{
		cfg:  testenv.Config{Remotes: map[string]testenv.RemoteConfig{"local": v.Remote(bucket)}},
		args: []string{"--log-level", "debug"},
	})
	root := filepath.Join(m.Dir, "local", bucket)

	t.Run("xarray gets the local values", func(t *testing.T) {
		cmd := exec.CommandContext(ctxTimeout(t, 2*time.Minute), testenv.Python, "-c", zarrScript, "compare", root, local)
		cmd.Env = testenv.Env("")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		t.Logf("%s", bytes.TrimSpace(out))
		if n := strings.Count(string(out), "identical"); n != 10 {
			t.Errorf("%d comparisons passed, want 10", n)
		}
	})

	t.Run("v3 stores read back byte for byte", func(t *testing.T) {
		// zarr-python 3 opens the metadata first.
		for _, doc := range []string{"v3.zarr/zarr.json", "v3-sharded.zarr/zarr.json", "v3-sharded.zarr/x/zarr.json"} {
			want, err := os.ReadFile(filepath.Join(local, filepath.FromSlash(doc)))
			need(t, err)
			if got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc))); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %v", doc, err)
			}
		}
		for rel, want := range shards {
			got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil || !bytes.Equal(got, want.data) {
				t.Errorf("%s: %v (equal %v)", rel, err, bytes.Equal(got, want.data))
			}
		}
	})

	t.Run("v3 shards read as zarr-python reads them", func(t *testing.T) {
		for rel, want := range shards {
			if want.inner == nil {
				continue
			}
			path := filepath.Join(root, filepath.FromSlash(rel))
			index := readRange(t, path, int64(len(want.data))-int64(16*len(want.inner)), int64(16*len(want.inner)))
			for i, inner := range want.inner {
				off := int64(binary.LittleEndian.Uint64(index[16*i:]))
				n := int64(binary.LittleEndian.Uint64(index[16*i+8:]))
				if got := readRange(t, path, off, n); !bytes.Equal(got, inner) {
					t.Errorf("%s inner chunk %d differs", rel, i)
				}
				// zarr reads the index again before every inner chunk.
				readRange(t, path, int64(len(want.data))-int64(16*len(want.inner)), int64(16*len(want.inner)))
			}
		}
	})

	t.Run("earthmount warm fetches a store", func(t *testing.T) {
		var want int
		need(t, filepath.WalkDir(filepath.Join(local, "slash.zarr"), func(_ string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				want++
			}
			return err
		}))
		cmd := exec.CommandContext(ctxTimeout(t, time.Minute), h.bin, "warm", filepath.Join(root, "slash.zarr"))
		cmd.Env = testenv.Env("")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("earthmount warm: %v\n%s", err, out)
		}
		if line := fmt.Sprintf("warmed %d of %d objects", want, want); !strings.Contains(string(out), line) {
			t.Errorf("earthmount warm printed %q; want %q", out, line)
		}
		cmd = exec.CommandContext(ctxTimeout(t, time.Minute), h.bin, "warm", local)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not on an earthmount mount") {
			t.Errorf("earthmount warm of a local directory: %v, %s", err, out)
		}
	})

	t.Run("stores recognised", func(t *testing.T) {
		// Documents are parsed in the background: poll the log.
		var missing []string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			log, err := os.ReadFile(m.LogPath())
			need(t, err)
			missing = missing[:0]
			for _, doc := range []string{"dot.zarr/.zmetadata", "slash.zarr/.zmetadata", "slash-nocons.zarr/t2m/.zarray", "v3.zarr/zarr.json", "v3-sharded.zarr/x/zarr.json"} {
				line := fmt.Sprintf(`msg="zarr: metadata parsed" remote=local key=%s/%s`, bucket, doc)
				if !bytes.Contains(log, []byte(line)) {
					missing = append(missing, line)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
		}
		for _, line := range missing {
			t.Errorf("earthmount's log has no %s", line)
		}
	})
}

// readRange opens path, reads n bytes at off and closes it, as zarr-python
// 3 does for every byte range.
func readRange(t *testing.T, path string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(path)
	need(t, err)
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		t.Fatalf("read %s %d+%d: %v", path, off, n, err)
	}
	return buf
}

// v3Object is one object of a v3 store written by writeV3Stores; inner
// holds a shard's inner chunks in index order.
type v3Object struct {
	data  []byte
	inner [][]byte
}

// writeV3Stores writes two Zarr v3 stores into dir, as zarr-python 3
// would lay them out (no zarr 3 in Debian): v3.zarr, a group with inline
// consolidated metadata and an unsharded uint8 array; v3-sharded.zarr/x,
// an array of 2 shards of 2x2 inner chunks with the index at the end
// (bytes codec only). It returns every chunk object by relative key.
func writeV3Stores(t *testing.T, dir string) map[string]v3Object {
	t.Helper()
	objs := map[string]v3Object{}
	put := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		need(t, os.MkdirAll(filepath.Dir(p), 0o755))
		need(t, os.WriteFile(p, data, 0o644))
	}
	arr := `{"zarr_format": 3, "node_type": "array", "shape": [8, 6], "data_type": "uint8",
		"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 6]}},
		"chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
		"fill_value": 0, "codecs": [{"name": "bytes"}], "dimension_names": ["y", "x"]}`
	put("v3.zarr/zarr.json", []byte(`{"zarr_format": 3, "node_type": "group", "attributes": {},
		"consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": {"a": `+arr+`}}}`))
	put("v3.zarr/a/zarr.json", []byte(arr))
	for i := range 2 {
		data := bytes.Repeat([]byte{byte(10 + i)}, 24)
		rel := fmt.Sprintf("v3.zarr/a/c/%d/0", i)
		put(rel, data)
		objs[rel] = v3Object{data: data}
	}

	put("v3-sharded.zarr/zarr.json", []byte(`{"zarr_format": 3, "node_type": "group", "attributes": {}}`))
	put("v3-sharded.zarr/x/zarr.json", []byte(`{"zarr_format": 3, "node_type": "array", "shape": [128, 128],
		"data_type": "float32", "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [64, 128]}},
		"chunk_key_encoding": {"name": "default"}, "fill_value": 0, "dimension_names": ["y", "x"],
		"codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [32, 64],
			"codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
			"index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}], "index_location": "end"}}]}`))
	for s := range 2 {
		var body, index bytes.Buffer
		var inner [][]byte
		for i := range 4 {
			chunk := testenv.ContentBytes(fmt.Sprintf("shard %d inner %d", s, i), 32*64*4)
			binary.Write(&index, binary.LittleEndian, []uint64{uint64(body.Len()), uint64(len(chunk))})
			body.Write(chunk)
			inner = append(inner, chunk)
		}
		body.Write(index.Bytes())
		rel := fmt.Sprintf("v3-sharded.zarr/x/c/%d/0", s)
		put(rel, body.Bytes())
		objs[rel] = v3Object{data: body.Bytes(), inner: inner}
	}
	return objs
}
