"""``python -m fastsmce.bench.linear`` (also ``python -m fastsmce.bench --ops
linear_cross_entropy``): the fused linear + cross-entropy, loss and gradients of input and
weight, against what bounds it and what it replaces.

Candidates, timed interleaved in one run (``fastsmce.bench.timing``):

* ``fastsmce``: ``linear_cross_entropy_with_grad`` (float32 by default);
* ``floor``: the three matrix products alone (logits = X W^T, d X = G W, d W = G^T X) on
  full N x V logits, the same BLAS (SciPy's) as fastsmce; target: fastsmce <= 1.15x;
* ``torch_ref``: ``torch.nn.functional.linear_cross_entropy`` (options=None: full logits)
  + backward; target: >= 1.25x slower than fastsmce;
* ``torch_chunked``: the same with ``LinearCrossEntropyOptions()`` (its chunked path);
  target: >= 2x slower than fastsmce.

With ``--paths``, also each path of fastsmce forced (``fastsmce_rows``: chunks of rows with
all their logits; ``fastsmce_blocks``: two sweeps over blocks of 512 classes): the figures
behind the automatic choice.  ``--filter EPS`` times ``filter_eps=EPS`` against the exact
gradients on peaked, trained-model-like logits (see ``make_peaked_problem``) and reports the
share of tiles skipped and the gradients' error.

Peak RSS growth of one call of each, measured from outside in a fresh subprocess (so that
allocations in C, BLAS and PyTorch count): target: fastsmce <= its gradients' size + 64 MiB
and <= PyTorch's chunked path.  Every candidate's loss is checked against fastsmce's first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

import fastsmce
from fastsmce import _core

from .timing import TimingConfig, time_interleaved, timed_call

#: the issue's shapes (N, D, V)
SHAPES_FULL = [(2048, 512, 32000), (1024, 512, 128256)]
SHAPES_QUICK = [(512, 256, 32000)]


def make_problem(N, D, V, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D), dtype=np.float32).astype(dtype, copy=False)
    W = (rng.standard_normal((V, D), dtype=np.float32) * (1 / np.sqrt(D))).astype(dtype, copy=False)
    t = rng.integers(0, V, N)
    return X, W, t


def make_peaked_problem(N, D, V, dtype="float32", seed=0, sharpness=16.0):
    """Logits like a trained LM head's: unit-norm class rows, a Zipf log-prior as the bias,
    Zipf-distributed targets, each input ``sharpness`` times its target's row plus noise:
    the target's probability is high and most others are tiny, mostly so in the rare
    classes (the high ids)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((V, D), dtype=np.float32)
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    prior = 1.0 / np.arange(1, V + 1)
    prior /= prior.sum()
    b = np.log(prior).astype(dtype)
    t = rng.choice(V, N, p=prior)
    X = sharpness * W[t] + 0.3 * rng.standard_normal((N, D), dtype=np.float32)
    return X.astype(dtype, copy=False), W.astype(dtype, copy=False), b, t


def run_filter(N, D, V, dtype, eps, budget):
    """filter_eps=eps against exact gradients on peaked logits: times, skipped tiles, error"""
    X, W, b, t = make_peaked_problem(N, D, V, dtype)
    exact = fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b)
    got = fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b, filter_eps=eps)
    tiles, skipped = _core._linear_filter_stats()
    err = {k: float(np.abs(g.astype(np.float64) - e).max() / max(np.abs(e).max(), 1e-300))
           for k, g, e in zip(("input", "linear_weight", "linear_bias"), got[1], exact[1])}
    cfg = TimingConfig(block_time=1e-3, budget=budget, min_repeats=3)
    fns = {"exact": lambda: fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b),
           "filtered": lambda: fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b,
                                                                      filter_eps=eps)}
    med = {k: v.median for k, v in time_interleaved(fns, cfg).items()}
    return {"shape": [N, D, V], "dtype": dtype, "filter_eps": eps, "seconds": med,
            "tiles": tiles, "skipped": skipped, "relative_error": err,
            "loss_exact": float(exact[0]), "loss_filtered": float(got[0])}


def report_filter(r):
    N, D, V = r["shape"]
    med, err = r["seconds"], r["relative_error"]
    print(f"filter_eps={r['filter_eps']:g} on peaked logits, N={N} D={D} V={V} {r['dtype']}: "
          f"exact {med['exact']:.3f} s, filtered {med['filtered']:.3f} s "
          f"(speed-up {med['exact'] / med['filtered']:.2f}x); tiles skipped "
          f"{r['skipped']}/{r['tiles']} ({r['skipped'] / max(r['tiles'], 1):.0%}); max |error| / "
          f"max |grad|: input {err['input']:.1e}, weight {err['linear_weight']:.1e}, "
          f"bias {err['linear_bias']:.1e}; loss relative difference "
          f"{abs(r['loss_filtered'] - r['loss_exact']) / abs(r['loss_exact']):.0e} (exact: rounding)")


def _torch_step(X, W, t, chunked):
    try:
        import torch
    except Exception:
        return None
    F = torch.nn.functional
    if not hasattr(F, "linear_cross_entropy"):
        return None
    torch.set_num_threads(fastsmce.get_num_threads())
    opts = None
    if chunked:
        try:
            from torch.nn import LinearCrossEntropyOptions
        except ImportError:
            return None
        opts = LinearCrossEntropyOptions()
    xt = torch.from_numpy(X).requires_grad_(True)
    wt = torch.from_numpy(W).requires_grad_(True)
    tt = torch.from_numpy(t)

    def step():
        xt.grad = wt.grad = None
        loss = F.linear_cross_entropy(xt, wt, tt, options=opts)
        loss.backward()
        return float(loss.detach())

    return step


def _forced(path, X, W, t):
    def step():
        old = _core._set_linear("path", path)
        try:
            return float(fastsmce.linear_cross_entropy_with_grad(X, W, t)[0])
        finally:
            _core._set_linear("path", old)
    return step


def candidates(X, W, t, use_torch=True, paths=False):
    """(name -> (callable returning the loss or None, loss to check against or None),
    fastsmce's loss, the seconds of the call that gave it)"""
    N, D = X.shape
    V = W.shape[0]

    def step():
        return float(fastsmce.linear_cross_entropy_with_grad(X, W, t)[0])

    out = {"fastsmce": (step, None)}
    ref, seconds = timed_call(step)
    if paths:
        out["fastsmce_rows"] = (_forced(1, X, W, t), ref)
        out["fastsmce_blocks"] = (_forced(2, X, W, t), ref)
    G = np.empty((N, V), dtype=X.dtype)
    dX = np.empty_like(X)
    dW = np.empty_like(W)
    out["floor"] = (lambda: _core._linear_gemms(X, W, G, dX, dW), None)
    if use_torch:
        for name, chunked in (("torch_ref", False), ("torch_chunked", True)):
            s = _torch_step(X, W, t, chunked)
            if s is not None:
                out[name] = (s, ref)
    return out, ref, seconds


MEMORY_CODE = r"""
import json, sys
import numpy as np
sys.path[:0] = json.loads(sys.argv[4])
from fastsmce.bench.linear import make_problem, _torch_step
import fastsmce
N, D, V = map(int, sys.argv[1:4])
name = sys.argv[5]
X, W, t = make_problem(N, D, V)
if name == "fastsmce":
    fastsmce.linear_cross_entropy_with_grad(X[:4], W[:16], t[:4] % 16)    # load BLAS
    run = lambda: fastsmce.linear_cross_entropy_with_grad(X, W, t)
else:
    step = _torch_step(X[:4], W[:16], t[:4] % 16, name == "torch_chunked")
    if step is None:
        print(json.dumps(None)); sys.exit()
    step()
    run = _torch_step(X, W, t, name == "torch_chunked")
def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))
with open("/proc/self/clear_refs", "w") as f:      # the peak restarts from the current RSS
    f.write("5")
base = status("VmRSS:")
run()
print(json.dumps(status("VmHWM:") - base))
"""


def peak_rss_growth(N, D, V, name):
    """bytes the peak RSS of a fresh process grows by in one call of `name` (None: n/a)"""
    if not sys.platform.startswith("linux"):
        return None
    out = subprocess.run([sys.executable, "-c", MEMORY_CODE, str(N), str(D), str(V),
                          json.dumps(sys.path), name], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_shape(N, D, V, dtype, budget, use_torch, memory, paths=False, slow_call=None):
    X, W, t = make_problem(N, D, V, dtype)
    cands, fast_loss, seconds = candidates(X, W, t, use_torch, paths)
    first = {"fastsmce": seconds}
    for name, (fn, want) in cands.items():
        if want is not None:
            got, first[name] = timed_call(fn)
            if not np.isclose(got, want, rtol=1e-4):
                sys.exit(f"{name}: loss {got} differs from fastsmce's {want}")
    cfg = TimingConfig(block_time=1e-3, budget=budget, min_repeats=3, slow_call=slow_call)
    t_ = time_interleaved({k: v[0] for k, v in cands.items()}, cfg, first,
                          keep=[k for k in cands if k.startswith("fastsmce")] + ["floor"])
    med = {k: v.median for k, v in t_.items()}
    mem = {}
    if memory:
        for name in cands:
            if name in ("fastsmce", "torch_ref", "torch_chunked"):
                mem[name] = peak_rss_growth(N, D, V, name)
    grads = X.nbytes + W.nbytes
    return {"shape": [N, D, V], "dtype": dtype, "loss": fast_loss, "seconds": med,
            "peak_rss_growth": mem, "grad_bytes": grads}


def report(r):
    N, D, V = r["shape"]
    med, mem = r["seconds"], r["peak_rss_growth"]
    f = med["fastsmce"]
    print(f"linear cross-entropy loss + grads, N={N} D={D} V={V} {r['dtype']}, "
          f"{fastsmce.get_num_threads()} threads; median s, interleaved")
    rows = [("fastsmce", "", ""), ("fastsmce_rows", "", ""), ("fastsmce_blocks", "", ""),
            ("floor", "fastsmce / floor", "<= 1.15"),
            ("torch_ref", "torch_ref / fastsmce", ">= 1.25"),
            ("torch_chunked", "torch_chunked / fastsmce", ">= 2")]
    for key, ratio, target in rows:
        if key not in med:
            if not key.startswith("fastsmce_"):
                print(f"  {key:14s} {'not available':>10s}")
            continue
        if key.startswith("fastsmce_"):
            ratio, target = f"{key} / floor", "-"
        x = "" if not ratio else (f / med[key] if key == "floor" else
                                  med[key] / med["floor"] if key.startswith("fastsmce_") else
                                  med[key] / f)
        text = f"{ratio} = {x:.3f} (target {target})" if ratio else ""
        m = mem.get(key)
        mtext = f"peak RSS +{m / 2**20:7.1f} MiB" if m is not None else ""
        print(f"  {key:14s} {med[key]:8.3f} s  {mtext:24s} {text}")
    if mem.get("fastsmce") is not None:
        lim = (r["grad_bytes"] + 64 * 2 ** 20) / 2 ** 20
        print(f"  fastsmce peak RSS growth target: <= grads + 64 MiB = {lim:.0f} MiB"
              + (f", <= torch_chunked ({mem['torch_chunked'] / 2**20:.0f} MiB)"
                 if mem.get("torch_chunked") else ""))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastsmce.bench.linear",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", help="N,D,V;N,D,V ... (default: the issue's two)")
    p.add_argument("--quick", action="store_true", help="one small shape, no memory runs")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--time", type=float,
                   help="timing budget per candidate, s (default 3; --quick 0.5)")
    p.add_argument("--slow-call", type=float, metavar="SECONDS",
                   help="a candidate slower than this a call is timed once "
                        "(the main job's default run: 0.3)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    p.add_argument("--paths", action="store_true", help="also time each path of fastsmce forced")
    p.add_argument("--filter", type=float, metavar="EPS",
                   help="time filter_eps=EPS against exact gradients on peaked logits instead")
    a = p.parse_args(argv)
    if a.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) for s in a.shapes.split(";")]
    else:
        shapes = SHAPES_QUICK if a.quick else SHAPES_FULL
    budget = a.time if a.time is not None else 0.5 if a.quick else 3.0
    out = []
    for N, D, V in shapes:
        if a.filter is not None:
            r = run_filter(N, D, V, a.dtype, a.filter, budget)
            report_filter(r)
        else:
            r = run_shape(N, D, V, a.dtype, budget, not a.no_torch,
                          not (a.no_memory or a.quick), a.paths, a.slow_call)
            report(r)
        out.append(r)
    return out


if __name__ == "__main__":
    main()
