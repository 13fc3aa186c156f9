"""Score a batch against a 1,000,000-class output layer on a 2-worker Dask cluster.

The output layer (V x D float32: 488 MiB at V = 10**6, D = 128) is generated inside the
graph, shard by shard (8 shards of 61 MiB), on two worker processes of 600 MiB each: it is
never whole on one worker nor in this process.  Each task takes one (row chunk, class
shard) pair and gives its rows' shard statistics (fastsmce.linear_cross_entropy_stats: no
logits beyond one block of classes); the shards merge exactly per row and the loss is the
exact linear cross-entropy of the whole vocabulary.

    pip install "fastsmce[dask]"
    python examples/dask_million_classes.py                 # N=1024, D=128, V=10**6
    python examples/dask_million_classes.py --classes 100000 --check   # compares with NumPy
"""

import argparse
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import fastsmce
import fastsmce.dask as fd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1024)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--classes", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--row-chunk", type=int, default=512)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="600MiB", help="per worker")
    ap.add_argument("--check", action="store_true",
                    help="also compute the loss with NumPy here (needs the whole weight)")
    a = ap.parse_args(argv)
    N, D, V = a.rows, a.dim, a.classes
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                      memory_limit=a.memory_limit, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        rng = da.random.default_rng(0)
        W = rng.standard_normal((V, D), chunks=(-(-V // a.shards), D), dtype=np.float32)
        W = W * np.float32(1 / np.sqrt(D))
        h = rng.standard_normal((N, D), chunks=(a.row_chunk, D), dtype=np.float32)
        t = rng.integers(0, V, N, chunks=a.row_chunk)
        loss = fd.linear_cross_entropy(h, W, t)
        workers = set(client.scheduler_info()["workers"])
        t0 = time.perf_counter()
        value = float(loss.compute())
        dt = time.perf_counter() - t0
        killed = len(workers - set(client.scheduler_info()["workers"]))
        print(f"linear cross-entropy, N={N} D={D} V={V} in {len(W.chunks[0])} shards on "
              f"{a.workers} workers of {a.memory_limit}: loss {value:.6f}")
        print(f"  {dt:.2f} s: {N / dt:,.0f} rows/s, {N * V / dt / 1e9:.2f} G logits/s, "
              f"{2 * N * V * D / dt / 1e9:.1f} GFLOP/s (weight: {V * D * 4 / 2**20:.0f} MiB, "
              f"never on one worker); workers lost: {killed}")
        if a.check:
            # the same values, generated here (the local scheduler: not on the workers)
            ref = fastsmce.linear_cross_entropy(*da.compute(h, W, t, scheduler="sync"))
            print(f"  NumPy fastsmce.linear_cross_entropy: {ref:.6f} "
                  f"(relative difference {abs(value - ref) / abs(ref):.1e})")


if __name__ == "__main__":
    main()
