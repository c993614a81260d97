# Records the chunk keys xarray + dask read, in order, for the workloads of
# zarr-access.md §2.3 (a 400x90x180 float32 store in chunks of 4x15x30, a
# 100x6x6 chunk grid, two variables), synchronously and with 16 threads.
# Recorded with Debian bookworm's python3-xarray 2023.01, python3-zarr 2.13.6
# and python3-dask 2022.12:
#
#   /usr/bin/python3 record.py /tmp/store.zarr OUTDIR && gzip -9 OUTDIR/*.txt
#
# cache/zarrpredict_test.go replays the *.txt.gz files.
import sys, os, threading
import numpy as np, xarray as xr, zarr, dask
from collections.abc import MutableMapping

root, out_dir = sys.argv[1], sys.argv[2]
if not os.path.exists(root):
    t = np.arange(400)
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), np.random.rand(400, 90, 180).astype("f4")),
         "precip": (("time", "lat", "lon"), np.random.rand(400, 90, 180).astype("f4"))},
        coords={"time": xr.cftime_range("2000-01-01", periods=400, freq="D").to_datetimeindex(),
                "lat": np.linspace(-89, 89, 90), "lon": np.linspace(0, 358, 180)})
    ds.chunk({"time": 4, "lat": 15, "lon": 30}).to_zarr(root, consolidated=True)

class Logging(MutableMapping):
    def __init__(self, inner): self.inner, self.log, self.lock = inner, [], threading.Lock()
    def __getitem__(self, k):
        if not k.split("/")[-1].startswith("."):
            with self.lock: self.log.append(k)
        return self.inner[k]
    def __contains__(self, k): return k in self.inner
    def __setitem__(self, k, v): raise RuntimeError
    def __delitem__(self, k): raise RuntimeError
    def __iter__(self): return iter(self.inner)
    def __len__(self): return len(self.inner)
    def listdir(self, p=""): return self.inner.listdir(p)

def run(name, fn, sched, workers=None):
    store = Logging(zarr.DirectoryStore(root))
    ds = xr.open_zarr(store, consolidated=True)
    store.log.clear()
    kw = {"scheduler": sched}
    if workers: kw["num_workers"] = workers
    with dask.config.set(**kw):
        fn(ds).compute()
    with open(os.path.join(out_dir, name + ".txt"), "w") as f:
        f.write("\n".join(store.log) + "\n")
    print(name, len(store.log))

work = {
    "full-mean": lambda ds: ds.t2m.mean(),
    "time-mean": lambda ds: ds.t2m.mean("time"),
    "slice-mean": lambda ds: ds.t2m.isel(time=slice(0, 100)).mean(),
    "spatial-mean": lambda ds: ds.t2m.mean(("lat", "lon")),
    "point-series": lambda ds: ds.t2m.isel(lat=40, lon=100),
    "subbox-time-mean": lambda ds: ds.t2m.isel(lat=slice(20, 50), lon=slice(40, 100)).mean("time"),
    "one-step": lambda ds: ds.t2m.isel(time=57),
    "climatology": lambda ds: ds.t2m.groupby("time.month").mean(),
    "a-minus-b": lambda ds: (ds.t2m - ds.precip).mean(),
}
for name, fn in work.items():
    run(name + "-sync", fn, "synchronous")
    run(name + "-16thr", fn, "threads", 16)
