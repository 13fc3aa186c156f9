"""Thread safety and determinism of every public function.

* Eight Python threads calling every function at once on shared read-only inputs get,
  bit for bit, what one thread gets (the GIL is released inside the kernels, so the calls
  really overlap, with and without OpenMP threads inside each call).
* ``set_num_threads`` toggled from one thread while others compute: no crash, and the
  results stay bit-identical (results do not depend on the thread count).
* Every function: 1 and 2 threads give bit-identical results on inputs large enough for
  the parallel paths (> 32K elements; the sampled kernels at their own 8M-element
  threshold, not forced).

The products of sampled softmax / NCE run in SciPy's BLAS, whose thread count may change
the last bits (see sampled/test_threads.py); it is held at one thread here so those
results can be compared bit for bit too.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce as F
from fastsmce import _core
from fastsmce import sampling as S

from helpers import one_blas_thread

pytestmark = pytest.mark.threads


def _ro(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


def build_cases(n, c, dtype, seed=0, sampled=(64, 16, 2000, 100)):
    """name -> zero-argument callable, over shared read-only inputs of about n x c"""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    g = rng.standard_normal((n, c)).astype(dtype)
    p = rng.uniform(0.01, 1.0, (n, c)).astype(dtype)
    lp = np.log(p)
    t = rng.integers(0, c, n)
    t[::7] = -100
    probs = rng.dirichlet(np.ones(c), n).astype(dtype)
    w = rng.uniform(0.5, 2.0, c).astype(dtype)
    z = (rng.random((n, c)) < 0.2).astype(dtype)
    zsoft = rng.random((n, c)).astype(dtype)
    xt = np.asfortranarray(x)
    _ro(x, g, p, lp, t, probs, w, z, zsoft, xt)
    csr = sps.csr_array(z)
    N, D, C, Sn = sampled
    W = rng.standard_normal((C, D)).astype(dtype) * 0.1
    b = rng.standard_normal(C).astype(dtype) * 0.1
    h = rng.standard_normal((N, D)).astype(dtype)
    lab = rng.integers(0, C, (N, 2))
    uni = rng.integers(1, 50, C).astype(np.float64)
    _ro(W, b, h, lab, uni)
    sv = S.log_uniform_candidate_sampler(lab, 2, Sn, True, C, seed=1)
    fixed = S.FixedUnigramSampler(uni, distortion=0.75)
    sm = dict(num_true=2)
    return {
        "softmax": lambda: F.softmax(x),
        "softmax-axis0": lambda: F.softmax(xt, axis=0),
        "log_softmax": lambda: F.log_softmax(x),
        "logsumexp": lambda: F.logsumexp(x, axis=0),
        "softmax_backward": lambda: F.softmax_backward(g, p),
        "log_softmax_backward": lambda: F.log_softmax_backward(g, lp, axis=0),
        "cross_entropy": lambda: F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
        "cross_entropy-probs": lambda: F.cross_entropy(x, probs, reduction="none"),
        "cross_entropy_with_grad": lambda: F.cross_entropy_with_grad(x, t, reduction="sum"),
        "cross_entropy_with_grad-fortran": lambda: F.cross_entropy_with_grad(xt, probs),
        "linear_cross_entropy": lambda: F.linear_cross_entropy(h, W, lab[:, 0], linear_bias=b,
                                                               z_loss=1e-3),
        "linear_cross_entropy_with_grad": lambda: F.linear_cross_entropy_with_grad(
            h, W, lab[:, 0], softcap=10.0, label_smoothing=0.1),
        "linear_cross_entropy_stats": lambda: F.linear_cross_entropy_stats(
            h, W[2:], lab[:, 0], linear_bias=b[2:], class_start=2),
        "merge_shard_stats": lambda: F.merge_shard_stats(
            F.linear_cross_entropy_stats(h, W[:2], lab[:, 0]),
            F.linear_cross_entropy_stats(h, W[2:], lab[:, 0], class_start=2)),
        "cross_entropy_from_stats": lambda: F.cross_entropy_from_stats(F.merge_shard_stats(
            F.linear_cross_entropy_stats(h, W[:2], lab[:, 0]),
            F.linear_cross_entropy_stats(h, W[2:], lab[:, 0], class_start=2)), lab[:, 0],
            label_smoothing=0.1),
        "sigmoid": lambda: F.sigmoid(x),
        "log_sigmoid": lambda: F.log_sigmoid(xt),
        "bce": lambda: F.binary_cross_entropy_with_logits(x, zsoft, pos_weight=w),
        "bce-none": lambda: F.binary_cross_entropy_with_logits(x, z, weight=w, reduction="none"),
        "bce-csr": lambda: F.binary_cross_entropy_with_logits(x, csr, reduction="sum"),
        "bce_with_grad": lambda: F.binary_cross_entropy_with_logits_with_grad(x, z, weight=w),
        "bce_with_grad-csr": lambda: F.binary_cross_entropy_with_logits_with_grad(x, csr,
                                                                                  pos_weight=w),
        "focal": lambda: F.sigmoid_focal_loss(x, zsoft, reduction="sum"),
        "focal-none": lambda: F.sigmoid_focal_loss(x, z, reduction="none", gamma=0.5),
        "focal_with_grad": lambda: F.sigmoid_focal_loss_with_grad(x, z, alpha=-1),
        "sampled_softmax_loss": lambda: F.sampled_softmax_loss(W, b, lab, h, Sn, C,
                                                               sampled_values=sv, **sm),
        "sampled_softmax_loss_with_grad": lambda: F.sampled_softmax_loss_with_grad(
            W, b, lab, h, Sn, C, seed=4, reduction="none", **sm),
        "nce_loss": lambda: F.nce_loss(W, b, lab, h, Sn, C, seed=4, **sm),
        "nce_loss_with_grad": lambda: F.nce_loss_with_grad(W, b, lab, h, Sn, C, sampled_values=sv,
                                                           sampler=uni, **sm),
        "uniform_candidate_sampler": lambda: S.uniform_candidate_sampler(lab, 2, Sn, True, C,
                                                                         seed=5),
        "log_uniform_candidate_sampler": lambda: S.log_uniform_candidate_sampler(
            lab, 2, Sn, False, C, seed=5),
        "fixed_unigram_candidate_sampler": lambda: S.fixed_unigram_candidate_sampler(
            lab, 2, Sn, True, C, unigrams=uni, seed=5),
        "FixedUnigramSampler": lambda: fixed(lab, 2, Sn, True, C, seed=6),
    }


def _flat(r):
    if isinstance(r, tuple):       # (loss, grad), SampledGrads, sampler triples
        return [a for part in r for a in _flat(part)]
    return [np.asarray(r)]


def same(a, b):
    a, b = _flat(a), _flat(b)
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(a, b))


def test_cases_cover_every_public_function():
    names = {k.split("-")[0] for k in build_cases(4, 3, np.float64)}
    names = {{"bce": "binary_cross_entropy_with_logits", "focal": "sigmoid_focal_loss",
              "bce_with_grad": "binary_cross_entropy_with_logits_with_grad",
              "focal_with_grad": "sigmoid_focal_loss_with_grad"}.get(k, k) for k in names}
    public = {n for n in F.__all__ if callable(getattr(F, n))} | set(S.__all__)
    public -= {"SampledGrads", "LinearGrads", "ShardStats", "set_num_threads", "get_num_threads", "show_config",
               "threading_layer"}
    assert public <= names, sorted(public - names)


@pytest.fixture
def sampled_threads_everywhere():
    """the sampled kernels split across threads at any size (restored afterwards)"""
    old = _core._set_sampled_parallel_min(0)
    yield
    _core._set_sampled_parallel_min(old)


def _run_concurrently(cases, expected, workers, repeats, toggler=None):
    names = list(cases)
    stop = threading.Event()

    def work(k):
        bad = []
        order = np.random.default_rng(k).permutation(len(names))
        for _ in range(repeats):
            for i in order:
                if not same(cases[names[i]](), expected[names[i]]):
                    bad.append(names[i])
        return bad

    tog = None
    if toggler is not None:
        tog = threading.Thread(target=toggler, args=(stop,))
        tog.start()
    try:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            bad = [b for r in ex.map(work, range(workers)) for b in r]
    finally:
        stop.set()
        if tog is not None:
            tog.join()
    assert not bad, sorted(set(bad))


@pytest.mark.parametrize("threads", [1, 2])
def test_eight_python_threads_match_one(threads, sampled_threads_everywhere):
    F.set_num_threads(threads)
    cases = {}
    for i, (n, c, dtype) in enumerate([(16, 10, np.float32), (300, 257, np.float64),
                                       (3, 20000, np.float32)]):
        for k, fn in build_cases(n, c, dtype, seed=i).items():
            cases[f"{k}/{n}x{c}"] = fn
    with one_blas_thread():
        expected = {k: fn() for k, fn in cases.items()}
        _run_concurrently(cases, expected, workers=8, repeats=2)


def test_set_num_threads_toggled_while_others_compute(sampled_threads_everywhere):
    cases = build_cases(300, 257, np.float32, seed=3)
    cases.update({f"{k}/f64": fn for k, fn in build_cases(70, 1000, np.float64, seed=4).items()})
    F.set_num_threads(1)
    with one_blas_thread():
        expected = {k: fn() for k, fn in cases.items()}
        toggles = [0]

        def toggler(stop):
            values = [2, 1, 3, None, 2, 1]
            while not stop.is_set():
                F.set_num_threads(values[toggles[0] % len(values)])
                toggles[0] += 1
                stop.wait(0.0005)

        _run_concurrently(cases, expected, workers=4, repeats=3, toggler=toggler)
    assert toggles[0] > 5, "the toggling thread barely ran"


# ---------------------------------------------------------------------------
# 1 vs 2 threads, every function, sizes that take the parallel paths
# ---------------------------------------------------------------------------

DET = [(300, 1000, np.float32), (400, 333, np.float64), (2, 70001, np.float32)]


@pytest.mark.parametrize("n,c,dtype", DET, ids=[f"{n}x{c}-{np.dtype(d).name}" for n, c, d in DET])
def test_one_and_two_threads_bit_identical_every_function(n, c, dtype):
    cases = build_cases(n, c, dtype, seed=n)
    res = {}
    with one_blas_thread():
        for threads in (1, 2):
            F.set_num_threads(threads)
            res[threads] = {k: fn() for k, fn in cases.items()}
    differ = [k for k in cases if not same(res[1][k], res[2][k])]
    assert not differ, differ


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sampled_kernels_at_their_natural_parallel_threshold(dtype):
    """N x (num_sampled + num_true x (D + 1)) = 2048 x 4161 > 2**23: the per-example
    kernel splits across threads without any forcing (csrc/kernels/sampled.inc)."""
    N, D, C, Sn = 2048, 64, 20000, 4096
    assert N * (Sn + D + 1) >= 1 << 23
    rng = np.random.default_rng(8)
    W = rng.standard_normal((C, D)).astype(dtype) * 0.1
    b = rng.standard_normal(C).astype(dtype)
    h = rng.standard_normal((N, D)).astype(dtype)
    lab = rng.integers(0, C, (N, 1))
    sv = S.log_uniform_candidate_sampler(lab, 1, Sn, True, C, seed=2)
    res = []
    with one_blas_thread():
        for threads in (1, 2):
            F.set_num_threads(threads)
            res.append([F.sampled_softmax_loss_with_grad(W, b, lab, h, Sn, C, sampled_values=sv,
                                                         reduction="none"),
                        F.nce_loss_with_grad(W, b, lab, h, Sn, C, sampled_values=sv),
                        F.sampled_softmax_loss(W, b, lab, h, Sn, C, seed=3),
                        F.nce_loss(W, b, lab, h, Sn, C, seed=3, reduction="sum")])
    for k, (a, bb) in enumerate(zip(*res)):
        assert same(a, bb), f"call {k} differs between 1 and 2 threads"
    assert np.all(np.isfinite(res[0][0][0]))
