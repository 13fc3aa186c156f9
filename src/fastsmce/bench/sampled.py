"""``python -m fastsmce.bench.sampled``: one sampled-softmax training step
(forward + backward) against what bounds it and what it replaces.

Candidates, timed interleaved in one run (``fastsmce.bench.timing``):

* ``fastsmce``: ``sampled_softmax_loss_with_grad`` with fixed sampled values
  (log-uniform, unique, from a seed; the sampler is timed on its own line);
* ``gemms``: the step's three matrix products alone (logits, d inputs,
  d [weights, biases]), the same BLAS calls on the same shapes: the floor the
  step can approach (target: fastsmce <= 1.25x);
* ``tensorflow``: ``tf.nn.sampled_softmax_loss`` + its gradient (inputs,
  weights, biases) under ``tf.function``, same sampled values, when importable;
* ``full``: full softmax forward + backward over all classes (logits GEMM,
  fastsmce.softmax, the two gradient GEMMs).  Its cost is linear in the batch,
  so it is timed on ``--full-batch`` rows and scaled to the batch (the table
  says so); target: fastsmce >= 50x faster.

Every candidate's loss is checked against fastsmce's before timing.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import fastsmce
from fastsmce import _core, sampling

from .timing import TimingConfig, time_interleaved, timed_call


def make_problem(N, D, C, S, dtype, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((C, D), dtype=np.float32).astype(dtype, copy=False)
    W *= 0.05
    b = np.zeros(C, dtype=dtype)
    X = rng.standard_normal((N, D)).astype(dtype)
    lab = rng.integers(0, C, (N, 1))
    sv = sampling.log_uniform_candidate_sampler(lab, 1, S, True, C, seed=seed)
    return W, b, X, lab, sv


def candidates(W, b, X, lab, sv, *, full_batch=16, use_tf=True):
    """name -> (callable, loss check or None, scale of its time)"""
    N, D = X.shape
    C, S = W.shape[0], sv[0].size
    dtype = X.dtype
    out = {}

    def step():
        return fastsmce.sampled_softmax_loss_with_grad(W, b, lab, X, S, C, sampled_values=sv)

    ref_loss = float(step()[0])
    out["fastsmce"] = (step, ref_loss, 1.0)

    wk = np.ascontiguousarray(W[sv[0]])
    xa = np.ones((N, D + 1), dtype=dtype)
    xa[:, :D] = X
    g = np.empty((N, S), dtype=dtype)
    dx = np.empty((N, D), dtype=dtype)
    dwb = np.empty((S, D + 1), dtype=dtype)
    out["gemms"] = (lambda: _core._sampled_gemms(wk, xa, g, dx, dwb), None, 1.0)

    out["sampler"] = (lambda: sampling.log_uniform_candidate_sampler(lab, 1, S, True, C, seed=1),
                      None, 1.0)

    if use_tf:
        tf_step = _tensorflow_step(W, b, X, lab, sv)
        if tf_step is not None:
            out["tensorflow"] = (tf_step, ref_loss, 1.0)

    n = min(full_batch, N)
    Xs, ls = X[:n], lab[:n, 0]

    def full():
        logits = Xs @ W.T
        p = fastsmce.softmax(logits, out=logits)
        loss = -np.log(p[np.arange(n), ls]).mean()
        p[np.arange(n), ls] -= 1
        p /= n
        return loss, p @ W, p.T @ Xs, p.sum(axis=0)

    out["full"] = (full, None, N / n)
    return out


def _tensorflow_step(W, b, X, lab, sv):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except Exception:
        return None
    try:
        tf.config.threading.set_intra_op_parallelism_threads(fastsmce.get_num_threads())
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised
        pass
    Wt, bt = tf.Variable(W), tf.Variable(b)
    Xt = tf.constant(X)
    lt = tf.constant(lab, dtype=tf.int64)
    svt = (tf.constant(sv[0]), tf.constant(sv[1].astype(X.dtype)), tf.constant(sv[2].astype(X.dtype)))
    S, C = sv[0].size, W.shape[0]

    @tf.function
    def run():
        with tf.GradientTape() as tape:
            tape.watch(Xt)
            loss = tf.reduce_mean(tf.nn.sampled_softmax_loss(Wt, bt, lt, Xt, S, C, sampled_values=svt))
        gw, gb, gx = tape.gradient(loss, [Wt, bt, Xt])
        return loss, gw.values, gb.values, gx

    return lambda: float(run()[0])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastsmce.bench.sampled", description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--classes", type=int, default=1_000_000)
    p.add_argument("--sampled", type=int, default=8192)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--full-batch", type=int, default=16,
                   help="rows the full softmax is timed on (scaled to --batch)")
    p.add_argument("--no-tf", action="store_true", help="leave TensorFlow out")
    p.add_argument("--time", type=float, default=2.0, help="timing budget per candidate, s")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds at least")
    p.add_argument("--slow-call", type=float, metavar="SECONDS",
                   help="a peer slower than this a call is timed once "
                        "(the main job's default run: 0.3)")
    a = p.parse_args(argv)
    W, b, X, lab, sv = make_problem(a.batch, a.dim, a.classes, a.sampled, a.dtype)
    cands = candidates(W, b, X, lab, sv, full_batch=a.full_batch, use_tf=not a.no_tf)
    first = {}
    for name, (fn, want, _) in cands.items():
        if want is not None:
            got, first[name] = timed_call(fn)
            got = float(got[0]) if name == "fastsmce" else float(got)
            if not np.isclose(got, want, rtol=1e-4):
                sys.exit(f"{name}: loss {got} differs from fastsmce's {want}")
    # three interleaved groups, each with fastsmce: a peer's own threads (TensorFlow's
    # pool, the full softmax's gigabyte arrays) must not slow the GEMM comparison
    cfg = TimingConfig(block_time=1e-3, budget=a.time, min_repeats=a.rounds,
                       slow_call=a.slow_call)
    groups = [("gemms", "sampler"), ("tensorflow",), ("full",)]
    med, own = {}, {}
    for group in groups:
        names = ["fastsmce"] + [g for g in group if g in cands]
        if len(names) == 1:
            continue
        t = time_interleaved({k: cands[k][0] for k in names}, cfg, first,
                             keep=("fastsmce", "gemms"))
        for k in names[1:]:
            med[k] = t[k].median * cands[k][2]
            own[k] = t["fastsmce"].median
    print(f"sampled softmax step, N={a.batch} D={a.dim} C={a.classes} S={a.sampled} {a.dtype}, "
          f"{fastsmce.get_num_threads()} threads, simd {fastsmce.show_config('dicts')['simd']}; "
          f"median ms; each ratio against fastsmce timed in the same interleaved group")
    nf = min(a.full_batch, a.batch)
    rows = [("its 3 GEMMs alone", "gemms", "fastsmce / gemms", "<= 1.25"),
            ("tensorflow fwd+bwd", "tensorflow", "tensorflow / fastsmce", ">= 1"),
            (f"full softmax fwd+bwd (timed N={nf}, x{a.batch / nf:g})", "full",
             "full / fastsmce", ">= 50"),
            ("sampler alone (log-uniform, unique)", "sampler", "", "")]
    for label, key, ratio, target in rows:
        if key not in med:
            why = "left out (--no-tf)" if key == "tensorflow" and a.no_tf else "not installed"
            print(f"  {label:44s} {why:>10s}")
            continue
        r = med[key] / own[key] if key != "gemms" else own[key] / med[key]
        text = f"{ratio} = {r:.3f} (target {target})" if ratio else ""
        print(f"  {label:44s} {med[key] * 1e3:10.2f}   fastsmce {own[key] * 1e3:8.2f}   {text}")
    med["fastsmce"] = own
    return med


if __name__ == "__main__":
    main()
