# Records the chunk keys xarray + dask read, in order, for the workloads of
# integration/zarrbench on its chunk grid (23 x 2 x 2: 368 time steps in
# chunks of 16, two spatial chunks per axis, two variables), with dask's
# default threaded scheduler on a 2-core machine and synchronously. The
# order depends on the grid, not on the chunk size, so the store here is
# small. Recorded with Debian bookworm's python3-xarray 2023.01,
# python3-zarr 2.13.6 and python3-dask 2022.12:
#
#   /usr/bin/python3 record_bench.py /tmp/bench.zarr OUTDIR && gzip -9 OUTDIR/bench-*.txt
#
# cache/zarrpredict_test.go replays the bench-*.txt.gz files.
import sys, os, threading
import numpy as np, xarray as xr, zarr, dask
from collections.abc import MutableMapping

root, out_dir = sys.argv[1], sys.argv[2]
if not os.path.exists(root):
    nt = 368
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), np.random.rand(nt, 4, 8).astype("f4")),
         "precip": (("time", "lat", "lon"), np.random.rand(nt, 4, 8).astype("f4"))},
        coords={"time": np.arange(nt), "lat": np.linspace(-90, 90, 4), "lon": np.linspace(0, 359, 8)})
    ds.chunk({"time": 16, "lat": 2, "lon": 4}).to_zarr(root, consolidated=True)

class Logging(MutableMapping):
    def __init__(self, inner): self.inner, self.log, self.lock = inner, [], threading.Lock()
    def __getitem__(self, k):
        if not k.split("/")[-1].startswith(".") and k.split("/")[0] in ("t2m", "precip"):
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
    with open(os.path.join(out_dir, "bench-" + name + ".txt"), "w") as f:
        f.write("\n".join(store.log) + "\n")
    print(name, len(store.log))

work = {
    "mean": lambda ds: ds.t2m.mean(),
    "point": lambda ds: ds.t2m.isel(lat=1, lon=2),
    "slice": lambda ds: ds.t2m.isel(time=slice(40, 80)).mean(),
    "amb": lambda ds: (ds.t2m - ds.precip).mean(),
}
for name, fn in work.items():
    run(name + "-sync", fn, "synchronous")
    run(name + "-2thr", fn, "threads", 2)
