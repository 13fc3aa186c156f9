"""No leaks: every public function called 10^4 times (plain, ``out=`` / ``grad_out=``,
options, strided inputs that make the C kernels allocate a row buffer) and every kind of
error path 10^3 times leaves neither traced memory (tracemalloc: Python objects and NumPy
buffers) nor RSS (/proc/self/statm: the C core's malloc too) growing beyond a small bound.

The per-call C allocations here are kilobytes (rows of 512+ elements gathered from strided
inputs), so a leak of one of them per call would add tens of MiB over 10^4 calls, far above
the RSS bound."""

import gc
import os
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce as F
from fastsmce import sampling as S

N_CALLS = 10_000
N_ERRORS = 1_000
TRACED_BOUND = 64 * 1024          # bytes still allocated after the loop (traced)
RSS_BOUND = 8 * 1024 * 1024       # RSS growth over the loop
# Under AddressSanitizer (tools/sanitize.sh preloads libasan) freed memory goes to ASan's
# quarantine, so RSS grows by design; only the traced-memory bound applies there.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _inputs():
    rng = np.random.default_rng(0)
    d = {}
    d["x"] = rng.standard_normal((8, 512))
    d["x32"] = d["x"].astype(np.float32)
    d["xs"] = rng.standard_normal((8, 1024))[:, ::2]          # strided rows: gathered in C
    d["p"] = rng.uniform(0.1, 1.0, (8, 512))
    d["ps"] = rng.uniform(0.1, 1.0, (8, 1024))[:, ::2]
    d["t"] = rng.integers(0, 512, 8)
    d["w"] = rng.uniform(0.5, 2.0, 512)
    d["z"] = (rng.random((8, 512)) < 0.1).astype(np.float64)
    d["zs"] = np.repeat(d["z"], 2, axis=1)[:, ::2]
    d["csr"] = sps.csr_array(d["z"])
    d["x5"] = rng.standard_normal((2, 3, 4, 5, 6))[..., ::2, :, ::-1]     # no 2-D collapse
    d["W"] = rng.standard_normal((300, 16))
    d["b"] = rng.standard_normal(300)
    d["lab"] = rng.integers(0, 300, (32, 2))
    d["h"] = rng.standard_normal((32, 16))
    d["sv"] = S.log_uniform_candidate_sampler(d["lab"], 2, 40, True, 300, seed=1)
    d["unigrams"] = rng.integers(1, 100, 300).astype(np.float64)
    return d


D = _inputs()
O = {"out": np.empty((8, 512)), "lse": np.empty(8), "lsek": np.empty((8, 1)),
     "out5": np.empty((2, 3, 2, 5, 6))}


def _shards():
    return (F.linear_cross_entropy_stats(D["h"], D["W"][:100], D["lab"][:, 0]),
            F.linear_cross_entropy_stats(D["h"], D["W"][100:], D["lab"][:, 0], class_start=100))


def _sampled(f):
    return [
        lambda: f(D["W"], D["b"], D["lab"], D["h"], 40, 300, num_true=2, sampled_values=D["sv"]),
        lambda: f(D["W"], D["b"], D["lab"], D["h"], 40, 300, num_true=2, seed=3, reduction="none"),
        lambda: f(D["W"], D["b"], D["lab"][:, :1], D["h"], 40, 300, sampler=D["unigrams"], seed=3),
    ]


def _softmax_like(f):
    return [lambda: f(D["x"]), lambda: f(D["x"], out=O["out"]), lambda: f(D["xs"]),
            lambda: f(D["x32"], axis=0)]


FIXED = S.FixedUnigramSampler(D["unigrams"], distortion=0.75)
bce, bce_g = F.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits_with_grad

# name -> the variants; N_CALLS calls in all, the variants in turn
CALLS = {
    "softmax": _softmax_like(F.softmax),
    "log_softmax": _softmax_like(F.log_softmax),
    "logsumexp": [lambda: F.logsumexp(D["x"]), lambda: F.logsumexp(D["x"], out=O["lse"]),
                  lambda: F.logsumexp(D["xs"], keepdims=True, out=O["lsek"]),
                  lambda: F.logsumexp(D["x32"][0])],
    "softmax_backward": [lambda: F.softmax_backward(D["x"], D["p"]),
                         lambda: F.softmax_backward(D["x"], D["p"], out=O["out"]),
                         lambda: F.softmax_backward(D["xs"], D["ps"], axis=0)],
    "log_softmax_backward": [lambda: F.log_softmax_backward(D["x"], D["p"]),
                             lambda: F.log_softmax_backward(D["x"], D["p"], out=O["out"]),
                             lambda: F.log_softmax_backward(D["xs"], D["ps"])],
    "cross_entropy": [lambda: F.cross_entropy(D["x"], D["t"]),
                      lambda: F.cross_entropy(D["xs"], D["t"], weight=D["w"], reduction="none",
                                              label_smoothing=0.1),
                      lambda: F.cross_entropy(D["x32"], D["p"].astype(np.float32))],
    "linear_cross_entropy": [
        lambda: F.linear_cross_entropy(D["h"], D["W"], D["lab"][:, 0], linear_bias=D["b"]),
        lambda: F.linear_cross_entropy(D["h"], D["W"], D["lab"][:, 0], z_loss=1e-3, softcap=5.0,
                                       reduction="none")],
    "linear_cross_entropy_with_grad": [
        lambda: F.linear_cross_entropy_with_grad(D["h"], D["W"], D["lab"][:, 0], linear_bias=D["b"],
                                                 weight=D["b"] ** 2, label_smoothing=0.1),
        lambda: F.linear_cross_entropy_with_grad(D["h"], D["W"], D["lab"][:, 0], softcap=5.0)],
    "linear_cross_entropy_stats": [
        lambda: F.linear_cross_entropy_stats(D["h"], D["W"][3:], D["lab"][:, 0], class_start=3,
                                             linear_bias=D["b"][3:], softcap=5.0)],
    "merge_shard_stats": [lambda: F.merge_shard_stats(*_shards())],
    "cross_entropy_from_stats": [
        lambda: F.cross_entropy_from_stats(F.merge_shard_stats(*_shards()), D["lab"][:, 0],
                                           label_smoothing=0.1, z_loss=1e-3)],
    "cross_entropy_with_grad": [
        lambda: F.cross_entropy_with_grad(D["x"], D["t"]),
        lambda: F.cross_entropy_with_grad(D["x"], D["t"], grad_out=O["out"], reduction="sum"),
        lambda: F.cross_entropy_with_grad(D["xs"], D["ps"], weight=D["w"], reduction="none")],
    "sigmoid": [lambda: F.sigmoid(D["x"]), lambda: F.sigmoid(D["x"], out=O["out"]),
                lambda: F.sigmoid(D["xs"]), lambda: F.sigmoid(D["x5"], out=O["out5"])],
    "log_sigmoid": [lambda: F.log_sigmoid(D["x"]), lambda: F.log_sigmoid(D["x"], out=O["out"]),
                    lambda: F.log_sigmoid(D["xs"]), lambda: F.log_sigmoid(D["x5"])],
    "binary_cross_entropy_with_logits": [
        lambda: bce(D["x"], D["z"]),
        lambda: bce(D["xs"], D["zs"], weight=D["w"], pos_weight=D["w"], reduction="none"),
        lambda: bce(D["x"], D["csr"], reduction="sum")],
    "binary_cross_entropy_with_logits_with_grad": [
        lambda: bce_g(D["x"], D["z"]),
        lambda: bce_g(D["x"], D["z"], grad_out=O["out"], pos_weight=D["w"]),
        lambda: bce_g(D["xs"], D["csr"], reduction="none")],
    "sigmoid_focal_loss": [lambda: F.sigmoid_focal_loss(D["x"], D["z"]),
                           lambda: F.sigmoid_focal_loss(D["xs"], D["zs"], reduction="none")],
    "sigmoid_focal_loss_with_grad": [
        lambda: F.sigmoid_focal_loss_with_grad(D["x"], D["z"]),
        lambda: F.sigmoid_focal_loss_with_grad(D["x"], D["z"], grad_out=O["out"], gamma=0.5),
        lambda: F.sigmoid_focal_loss_with_grad(D["xs"], D["zs"], reduction="none", alpha=-1)],
    "sampled_softmax_loss": _sampled(F.sampled_softmax_loss),
    "sampled_softmax_loss_with_grad": _sampled(F.sampled_softmax_loss_with_grad),
    "nce_loss": _sampled(F.nce_loss),
    "nce_loss_with_grad": _sampled(F.nce_loss_with_grad),
    "uniform_candidate_sampler": [
        lambda: S.uniform_candidate_sampler(D["lab"], 2, 40, True, 300, seed=1),
        lambda: S.uniform_candidate_sampler(D["lab"], 2, 40, False, 300, seed=1)],
    "log_uniform_candidate_sampler": [
        lambda: S.log_uniform_candidate_sampler(D["lab"], 2, 40, True, 300, seed=1),
        lambda: S.log_uniform_candidate_sampler(D["lab"], 2, 40, False, 300)],
    "fixed_unigram_candidate_sampler": [
        lambda: S.fixed_unigram_candidate_sampler(D["lab"], 2, 40, True, 300,
                                                  unigrams=D["unigrams"], seed=1),
        lambda: FIXED(D["lab"], 2, 40, False, 300, seed=2)],
    "threads_and_config": [lambda: F.set_num_threads(2), F.get_num_threads,
                           lambda: F.set_num_threads(None), lambda: F.show_config(mode="dicts"),
                           F.threading_layer],
}


def _bad_target():
    z = D["z"].copy()
    z[-1, -1] = 1.5      # found by the fused loss pass, after the C buffers are made
    return z


ZBAD = _bad_target()
RO = np.empty((8, 512))
RO.flags.writeable = False

ERRORS = {
    "softmax-dtype": (lambda: F.softmax(D["x"].astype(complex)), TypeError),
    "softmax-ragged": (lambda: F.softmax([[1.0], [1.0, 2.0]]), ValueError),
    "softmax-out-shape": (lambda: F.softmax(D["x"], out=O["lse"]), ValueError),
    "logsumexp-axis": (lambda: F.logsumexp(D["x"], axis=5), np.exceptions.AxisError),
    "backward-shapes": (lambda: F.softmax_backward(D["x"], D["p"][:, :3]), ValueError),
    "xent-label": (lambda: F.cross_entropy(D["x"], D["t"] + 512, weight=D["w"]), IndexError),
    "xent-grad_out-read-only": (lambda: F.cross_entropy_with_grad(D["x"], D["t"], grad_out=RO),
                                ValueError),
    "xent-reduction": (lambda: F.cross_entropy(D["x"], D["t"], reduction="avg"), ValueError),
    "linear-label": (lambda: F.linear_cross_entropy_with_grad(D["h"], D["W"], D["lab"][:, 0] + 300),
                     IndexError),
    "sigmoid-out-dtype": (lambda: F.sigmoid(D["x"], out=O["out"].astype(np.float32)), TypeError),
    "bce-target-fused": (lambda: F.binary_cross_entropy_with_logits(D["x"], ZBAD), ValueError),
    "bce-target-grad_out": (lambda: F.binary_cross_entropy_with_logits_with_grad(
        D["x"], ZBAD, grad_out=O["out"]), ValueError),
    "bce-weight": (lambda: F.binary_cross_entropy_with_logits(D["x"], D["z"], weight=-D["w"]),
                   ValueError),
    "bce-csr-shape": (lambda: F.binary_cross_entropy_with_logits(D["x"][:, :500], D["csr"]),
                      ValueError),
    "focal-target": (lambda: F.sigmoid_focal_loss_with_grad(D["x"], ZBAD), ValueError),
    "focal-gamma": (lambda: F.sigmoid_focal_loss(D["x"], D["z"], gamma="2"), TypeError),
    "sampled-labels": (lambda: F.sampled_softmax_loss(D["W"], D["b"], D["lab"] + 300, D["h"], 40,
                                                      300, num_true=2, seed=0), ValueError),
    "sampled-counts": (lambda: F.nce_loss_with_grad(D["W"], D["b"], D["lab"], D["h"], 40, 300,
                                                    num_true=2, sampled_values=(
                                                        D["sv"][0], D["sv"][1] * 0, D["sv"][2])),
                       ValueError),
    "sampled-sampler": (lambda: F.sampled_softmax_loss(D["W"], D["b"], D["lab"], D["h"], 40, 300,
                                                       num_true=2, sampler={}), TypeError),
    "sampler-unigrams": (lambda: S.fixed_unigram_candidate_sampler(
        D["lab"], 2, 40, True, 300, unigrams=-D["unigrams"]), ValueError),
    "sampler-unique": (lambda: S.uniform_candidate_sampler(D["lab"], 2, 301, True, 300),
                       ValueError),
    "set_num_threads": (lambda: F.set_num_threads("2"), TypeError),
}


def _growth(fns, n, warm):
    """(traced bytes left, RSS growth) over n calls, fns in turn, after warm calls"""
    k = len(fns)
    for i in range(warm):
        fns[i % k]()
    gc.collect()
    r0 = rss()
    tracemalloc.start()
    try:
        for i in range(n):
            fns[i % k]()
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return traced, rss() - r0


@pytest.mark.parametrize("name", list(CALLS))
def test_no_growth_over_many_calls(name):
    traced, grown = _growth(CALLS[name], N_CALLS, 200)
    assert traced < TRACED_BOUND, f"{name}: {traced} bytes still traced after {N_CALLS} calls"
    assert UNDER_ASAN or grown < RSS_BOUND, f"{name}: RSS grew by {grown} bytes over {N_CALLS} calls"


@pytest.mark.parametrize("name", list(ERRORS))
def test_no_growth_over_many_errors(name):
    fn, exc = ERRORS[name]

    def failing():
        try:
            fn()
        except exc:
            return
        raise AssertionError(f"{name} did not raise {exc.__name__}")

    traced, grown = _growth([failing], N_ERRORS, 50)
    assert traced < TRACED_BOUND, f"{name}: {traced} bytes still traced after {N_ERRORS} errors"
    assert UNDER_ASAN or grown < RSS_BOUND, f"{name}: RSS grew by {grown} bytes over {N_ERRORS} errors"


def test_every_public_function_is_exercised():
    public = {n for n in F.__all__ if callable(getattr(F, n))} | set(S.__all__)
    public -= {"SampledGrads", "LinearGrads", "ShardStats", "FixedUnigramSampler",  # FIXED is called
               "set_num_threads", "get_num_threads", "show_config",   # threads_and_config
               "threading_layer"}
    assert public <= set(CALLS), sorted(public - set(CALLS))
