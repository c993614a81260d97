package main

// allWorkloads are the table's rows, in order. Each runs in a fresh Python
// process on a fresh mount: "open" is xr.open_zarr alone, the others are
// open plus the reduction, timed after the imports.
func allWorkloads() []string { return []string{"open", "mean", "point", "slice", "amb", "nc"} }

// describe names a workload in the table.
func describe(w string) string {
	switch w {
	case "open":
		return "open_zarr (consolidated)"
	case "mean":
		return "t2m.mean() (whole variable)"
	case "point":
		return "t2m.isel(lat=100, lon=200) (time series)"
	case "slice":
		return "t2m.isel(time=40:80).mean()"
	case "amb":
		return "(t2m - precip).mean()"
	case "nc":
		return "NetCDF4: open_dataset + 1-chunk slice mean"
	}
	return w
}

// script is the Python side (Debian's /usr/bin/python3, xarray 2023.01,
// zarr 2.13, dask). Modes:
//
//	write DIR NT        writes DIR/store.zarr (t2m, precip: NT x 360 x 720
//	                    float32, chunks 16 x 180 x 360 uncompressed: 4.15 MB
//	                    objects, as the 4 MB chunks) and
//	                    DIR/sample.nc (t2m, same shape and chunks)
//	run WORK ZARR NC    runs one workload; ZARR and NC are paths on a mount
//	                    or http:// URLs (fsspec); prints "SECS RSS_KB"
//	keys DIR            runs every workload on the local copies and prints,
//	                    as JSON, the chunk objects (Zarr) or byte ranges
//	                    (NetCDF, read through h5netcdf) each one reads
const script = `
import io, json, resource, sys, time
from collections.abc import MutableMapping
import numpy as np
import xarray as xr

def work(name, ds):
    if name == "open":
        return None
    if name == "mean":
        return ds.t2m.mean()
    if name == "point":
        return ds.t2m.isel(lat=100, lon=200)
    if name == "slice":
        return ds.t2m.isel(time=slice(40, 80)).mean()
    if name == "amb":
        return (ds.t2m - ds.precip).mean()
    if name == "nc":
        return ds.t2m.isel(time=slice(0, 16), lat=slice(0, 180), lon=slice(0, 360)).mean()
    raise SystemExit("unknown workload " + name)

def open_nc(src):
    if src.startswith("http"):
        import fsspec
        return xr.open_dataset(fsspec.open(src).open(), engine="h5netcdf")
    return xr.open_dataset(src, engine="netcdf4")

def run(name, zsrc, ncsrc):
    t0 = time.perf_counter()
    ds = open_nc(ncsrc) if name == "nc" else xr.open_zarr(zsrc)
    r = work(name, ds)
    if r is not None:
        r.compute()
    return time.perf_counter() - t0

class LogStore(MutableMapping):
    def __init__(self, inner): self.inner, self.keys_read = inner, set()
    def __getitem__(self, k):
        v = self.inner[k]
        self.keys_read.add(k)
        return v
    def __contains__(self, k): return k in self.inner
    def __setitem__(self, k, v): raise KeyError(k)
    def __delitem__(self, k): raise KeyError(k)
    def __iter__(self): return iter(self.inner)
    def __len__(self): return len(self.inner)

class LogFile(io.FileIO):
    ranges = []
    def readinto(self, b):
        off = self.tell()
        n = super().readinto(b)
        if n:
            LogFile.ranges.append([off, n])
        return n

mode = sys.argv[1]
if mode == "write":
    d, nt = sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(7)
    shape, chunks = (nt, 360, 720), {"time": 16, "lat": 180, "lon": 360}
    def var():
        return (("time", "lat", "lon"), (rng.standard_normal(shape, dtype="float32") * 10 + 280))
    ds = xr.Dataset({"t2m": var(), "precip": var()},
                    coords={"time": np.arange(nt), "lat": np.linspace(-90, 90, 360), "lon": np.linspace(0, 359.5, 720)})
    ds.chunk(chunks).to_zarr(d + "/store.zarr", mode="w", consolidated=True,
                             encoding={v: {"compressor": None} for v in ("t2m", "precip")})
    ds[["t2m"]].to_netcdf(d + "/sample.nc", engine="netcdf4",
                         encoding={"t2m": {"chunksizes": (16, 180, 360)}})
elif mode == "run":
    secs = run(sys.argv[2], sys.argv[3], sys.argv[4])
    print("%.4f %d" % (secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
elif mode == "keys":
    import zarr
    d, out = sys.argv[2], {}
    for name in ["open", "mean", "point", "slice", "amb"]:
        st = LogStore(zarr.DirectoryStore(d + "/store.zarr"))
        r = work(name, xr.open_zarr(st))
        if r is not None:
            r.compute()
        out[name] = {"keys": sorted("store.zarr/" + k for k in st.keys_read)}
    LogFile.ranges = []
    r = work("nc", xr.open_dataset(LogFile(d + "/sample.nc"), engine="h5netcdf"))
    r.compute()
    out["nc"] = {"ranges": LogFile.ranges}
    print(json.dumps(out))
else:
    raise SystemExit("usage: write DIR NT | run WORK ZARR NC | keys DIR")
`
