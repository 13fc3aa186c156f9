"""``python -m fastsmce.bench.dask``: fastsmce.dask against the same computation written
with plain ``dask.array`` operations, on one LocalCluster (``pip install "fastsmce[dask]"``).

The logits are generated inside the graph (``da.random.default_rng(seed).standard_normal``,
float32), never resident; both candidates compute from the same graph of chunks, so the
generation is in both times.  Operations:

* ``logsumexp``: ``fastsmce.dask.logsumexp(x)`` vs ``m + log(sum(exp(x - m)))`` with
  ``m = x.max(axis=1, keepdims=True)``;
* ``cross_entropy``: ``fastsmce.dask.cross_entropy(x, y)`` vs that logsumexp less the target's
  logit (``where(classes == y, x, 0).sum(axis=1)``), averaged.

A third line per run, ``floor``, times the generation alone (``x.sum(axis=1)``, the
cheapest reduction that still makes every chunk): no candidate can beat it, so plain /
floor is the largest speed-up any implementation could show over plain dask here.

Each candidate is timed ``--repeat`` times (median reported) and its result compared with
fastsmce.dask's (largest relative difference).  The issue's target shape, ``--full``:
16384 x 262144 in (1024, 32768) chunks (16 GiB); the default is 2048 x 65536 in (512, 8192)
chunks (512 MiB), ``--quick`` smaller still.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import dask.array as da
import numpy as np

import fastsmce.dask as fd


def _plain_logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return m[:, 0] + da.log(da.exp(x - m).sum(axis=1))


def _plain_cross_entropy(x, y):
    classes = da.arange(x.shape[1], chunks=x.chunks[1])
    picked = da.where(classes[None, :] == y[:, None], x, 0).sum(axis=1)
    return (_plain_logsumexp(x) - picked).mean()


CANDIDATES = {
    "logsumexp": {"fastsmce.dask": lambda x, y: fd.logsumexp(x),
                  "plain dask": lambda x, y: _plain_logsumexp(x)},
    "cross_entropy": {"fastsmce.dask": lambda x, y: fd.cross_entropy(x, y),
                      "plain dask": _plain_cross_entropy},
}


def _timed(client, make, repeat):
    times, value = [], None
    for _ in range(repeat):
        expr = make()
        t0 = time.perf_counter()
        value = np.asarray(client.compute(expr, sync=True), dtype=np.float64)
        times.append(time.perf_counter() - t0)
    return times, value


def run(rows, classes, row_chunk, class_chunk, ops, repeat, client, seed=0):
    x = da.random.default_rng(seed).standard_normal(
        (rows, classes), chunks=(row_chunk, class_chunk), dtype=np.float32)
    y = da.random.default_rng(seed + 1).integers(0, classes, rows, chunks=row_chunk)
    times, _ = _timed(client, lambda: x.sum(axis=1), repeat)
    results = [dict(op="floor", candidate="generate + sum", seconds=statistics.median(times),
                    times=times, max_rel_diff=0.0)]
    for op in ops:
        ref = None
        for name, make in CANDIDATES[op].items():
            times, value = _timed(client, lambda: make(x, y), repeat)
            ref = value if ref is None else ref
            err = float(np.max(np.abs(value - ref) / np.maximum(1.0, np.abs(ref))))
            results.append(dict(op=op, candidate=name, seconds=statistics.median(times),
                                times=times, max_rel_diff=err))
    return results


def report(results, rows, classes):
    gib = rows * classes * 4 / 2**30
    print(f"{'op':<14} {'candidate':<14} {'median s':>9} {'GiB/s':>7} {'speed-up':>9} "
          f"{'max rel diff':>13}")
    base = {}
    for r in results:
        base.setdefault(r["op"], {})[r["candidate"]] = r["seconds"]
    floor = base.get("floor", {}).get("generate + sum")
    for r in results:
        if r["op"] == "floor":
            print(f"{'floor':<14} {r['candidate']:<14} {r['seconds']:>9.3f} {gib / r['seconds']:>7.2f}")
            continue
        sp = base[r["op"]]["plain dask"] / r["seconds"]
        print(f"{r['op']:<14} {r['candidate']:<14} {r['seconds']:>9.3f} {gib / r['seconds']:>7.2f} "
              f"{sp:>8.2f}x {r['max_rel_diff']:>13.1e}")
    for op, cands in base.items():
        if op != "floor" and floor and "plain dask" in cands:
            print(f"{op}: plain dask / floor = {cands['plain dask'] / floor:.2f} (the largest "
                  f"speed-up any implementation could show here); fastsmce.dask / floor = "
                  f"{cands.get('fastsmce.dask', float('nan')) / floor:.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fastsmce.bench.dask",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the issue's 16384 x 262144 (16 GiB)")
    ap.add_argument("--quick", action="store_true", help="512 x 32768 in (256, 4096) chunks")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--classes", type=int)
    ap.add_argument("--row-chunk", type=int)
    ap.add_argument("--class-chunk", type=int)
    ap.add_argument("--ops", default="logsumexp,cross_entropy")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    shape = ((16384, 262144, 1024, 32768) if a.full else (512, 32768, 256, 4096) if a.quick
             else (2048, 65536, 512, 8192))
    rows, classes, rc, cc = (v if v is not None else d for v, d in
                             zip((a.rows, a.classes, a.row_chunk, a.class_chunk), shape))
    ops = [o for o in a.ops.split(",") if o]
    for o in ops:
        if o not in CANDIDATES:
            ap.error(f"unknown op {o!r}; choose from {', '.join(CANDIDATES)}")
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        print(f"fastsmce.dask vs plain dask.array: {rows} x {classes} float32 in ({rc}, {cc}) "
              f"chunks, generated in the graph; {a.workers} workers x 1 thread, "
              f"median of {a.repeat}")
        results = run(rows, classes, rc, cc, ops, a.repeat, client)
    report(results, rows, classes)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(rows=rows, classes=classes, row_chunk=rc, class_chunk=cc,
                           workers=a.workers, results=results), f, indent=1)
    bad = [r for r in results if r["max_rel_diff"] > 1e-4]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
