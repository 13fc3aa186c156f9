"""Arrays of more than 2**31 elements: 64-bit sizes and indices and accurate long sums.

Cheap in memory by default: the inputs are views that repeat a small buffer, so their
element count passes 2**31 while they take a few MB:

* sliding windows (``sliding_window_view``) of a periodic buffer: R = 2**20 + 1 rows of
  C = 2048 contiguous elements (row r is buf[r : r + C]), 2**31 + 2048 elements, every row
  different.  With the period P = 61 (prime to C), row r depends on r % P only, so a float64
  reference of 61 rows checks all R rows;
* zero-stride columns (``broadcast_to``): a single reduction over 2**31 + 17 elements;
* stride-0 rows of weights for a sampled softmax over 2**31 + 17 classes.

Outputs stay small (reductions, losses, per-row results).  Tests whose input or output is
itself over 2**31 elements (8.6 GB) run only with FASTSMCE_LARGE=1 (and enough free memory).
"""

import os

import numpy as np
import pytest

import fastsmce as F
from fastsmce import _core
from fastsmce import sampling as S
from reference import sampled as sampled_ref
from reference.binary import bce_ref, focal_ref
from reference.samplers import expected_counts
from reference.softmax import logsumexp_ref

sliding = np.lib.stride_tricks.sliding_window_view

P = 61                         # period of the buffers (prime to C)
R, C = 2**20 + 1, 2048         # R * C = 2**31 + 2048
N_LONG = 2**31 + 17
LARGE = os.environ.get("FASTSMCE_LARGE") == "1"


def _periodic(pattern, n):
    return np.resize(np.asarray(pattern), n)


def _pattern(dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(P) * 3).astype(dtype)


def _windows(pattern):
    """(R, C) view, row r = buf[r : r + C] of the periodic buffer"""
    buf = _periodic(pattern, R + C - 1)
    x = sliding(buf, C)
    assert x.shape == (R, C) and x.size > 2**31 and x.strides == (buf.itemsize,) * 2
    return buf, x


def _residue_rows(buf):
    """the P distinct rows, float64 (row k = rows r with r % P == k)"""
    return np.stack([buf[k:k + C].astype(np.float64) for k in range(P)])


def _counts():
    """how many of the R rows have each residue mod P"""
    return np.bincount(np.arange(R) % P, minlength=P).astype(np.float64)


def _log_close(got, ref, what):
    got = np.asarray(got, np.float64)
    err = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    assert err.max() <= 2e-6, f"{what}: max error {err.max():.3g} (row {int(err.argmax())})"


# ---------------------------------------------------------------------------
# small memory, run by default
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_over_more_than_2_31_elements(dtype):
    buf, x = _windows(_pattern(dtype))
    got = F.logsumexp(x)
    assert got.shape == (R,) and got.dtype == dtype
    ref = logsumexp_ref(_residue_rows(buf))
    _log_close(got, ref[np.arange(R) % P], "logsumexp of sliding windows")


def test_logsumexp_of_one_reduction_over_2_31_plus_17_elements():
    """a stride-0 column of 2**31 + 17 elements, two columns wide: one sum of 2**31 + 17 terms
    per column (accurate long sums: float32 lanes alone would stop at 2**24)"""
    vals = np.array([1.5, -40.0], np.float32)
    x = np.broadcast_to(vals, (N_LONG, 2))
    got = F.logsumexp(x, axis=0)
    ref = vals.astype(np.float64) + np.log(float(N_LONG))
    np.testing.assert_allclose(got.astype(np.float64), ref, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_loss_only_over_more_than_2_31_elements(dtype):
    buf, x = _windows(_pattern(dtype, 1))
    r = np.arange(R)
    t = (r * 7919) % C
    lse = logsumexp_ref(_residue_rows(buf))[r % P]
    ref = lse - buf[r + t].astype(np.float64)
    got = F.cross_entropy(x, t, reduction="none")
    assert got.shape == (R,) and got.dtype == dtype
    _log_close(got, ref, "cross_entropy none")
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction="sum"), ref.sum(), rtol=2e-6)
    # the mean with ignored rows and weights: sum(w[t] loss) / sum(w[t]) over the counted rows
    t2 = t.copy()
    t2[::3] = -100
    w = np.linspace(0.5, 2.0, C).astype(dtype)
    keep = t2 != -100
    wr = w.astype(np.float64)[t]
    ref_mean = (wr * ref)[keep].sum() / wr[keep].sum()
    np.testing.assert_allclose(F.cross_entropy(x, t2, weight=w), ref_mean, rtol=2e-6)


def _binary_rows(kind, xr, zr, w):
    """float64 per-row loss sums of rows xr, zr (P x C), weight w (C,) for BCE; torchvision's
    sigmoid focal loss (alpha = 0.25, gamma = 2) for focal"""
    if kind == "bce":
        return bce_ref(xr, zr, weight=w, reduction="none")[0].sum(1)
    return focal_ref(xr, zr, 0.25, 2.0, reduction="none").sum(1)


@pytest.mark.parametrize("target", ["windows", "broadcast-row"])
@pytest.mark.parametrize("kind", ["bce", "focal"])
def test_binary_losses_over_more_than_2_31_elements(kind, target):
    buf, x = _windows(_pattern(np.float32, 2))
    zpat = np.random.default_rng(3).choice([0.0, 1.0, 0.25, 0.9], P).astype(np.float32)
    xr = _residue_rows(buf)
    if target == "windows":           # the same periodic layout as the logits
        zbuf, z = _windows(zpat)
        zr = _residue_rows(zbuf)
    else:                             # one target row for every row: stride 0 along the rows
        zrow = _periodic(zpat, C + 5)[5:]
        z = np.broadcast_to(zrow, (R, C))
        zr = np.broadcast_to(zrow.astype(np.float64), (P, C))
    if kind == "bce":
        w = np.linspace(0.5, 2.0, C).astype(np.float32)
        got = F.binary_cross_entropy_with_logits(x, z, weight=w, reduction="sum")
        rows = _binary_rows(kind, xr, zr, w.astype(np.float64))
        got_mean = F.binary_cross_entropy_with_logits(x, z, weight=w)
    else:
        got = F.sigmoid_focal_loss(x, z, reduction="sum")
        rows = _binary_rows(kind, xr, zr, None)
        got_mean = F.sigmoid_focal_loss(x, z)
    ref = (_counts() * rows).sum()
    np.testing.assert_allclose(float(got), ref, rtol=2e-6)
    np.testing.assert_allclose(float(got_mean), ref / (R * C), rtol=2e-6)


@pytest.mark.parametrize("kind", [0, 1], ids=["uniform", "log_uniform"])
def test_samplers_over_2_40_classes(kind):
    rmax = 2**40
    tc = np.array([[0, 2**33 + 5], [2**40 - 1, 7]])
    f = (S.uniform_candidate_sampler, S.log_uniform_candidate_sampler)[kind]
    sampled, tec, sec = f(tc, 2, 1000, True, rmax, seed=11)
    # the draws made (rejections of repeats included), from the same generator and seed
    *again, tries = _core._Sampler(kind, rmax).sample(tc, 2, 1000, True, 11)
    for a, b in zip((sampled, tec, sec), again):
        np.testing.assert_array_equal(a, b)
    assert sampled.dtype == np.int64 and np.unique(sampled).size == 1000
    assert sampled.min() >= 0 and sampled.max() < rmax
    assert sampled.max() > 2**33            # draws reach far above 2**31
    if kind == 0:
        p = np.full(tc.shape, 1.0 / rmax)
    else:
        p = (np.log(tc + 2.0) - np.log(tc + 1.0)) / np.log(rmax + 1.0)
    ref = expected_counts(p, 1000, tries)
    np.testing.assert_allclose(tec, ref, rtol=2e-6)


def test_sampled_softmax_over_2_31_plus_17_classes():
    """class ids above 2**31 through ids, gathers and the hit lists (weights: stride-0 rows)"""
    Cn, D = N_LONG, 8
    rng = np.random.default_rng(5)
    W = np.broadcast_to(rng.standard_normal(D), (Cn, D))
    b = np.broadcast_to(np.float64(0.25), (Cn,))
    h = rng.standard_normal((3, D))
    lab = np.array([[2**31 + 10], [5], [2**31 + 16]])
    s, tec, sec = S.uniform_candidate_sampler(lab, 1, 40, True, Cn, seed=0)
    s = s.copy()
    s[0], s[1] = 2**31 + 10, 2**31 + 12          # an accidental hit, and a big id
    if len(set(s.tolist())) != s.size:
        pytest.skip("draw collided with the planted ids")
    sv = (s, tec, sec)
    for f, mode in ((F.sampled_softmax_loss_with_grad, "softmax"), (F.nce_loss_with_grad, "nce")):
        loss, g = f(W, b, lab, h, 40, Cn, sampled_values=sv, reduction="none",
                    remove_accidental_hits=True)
        ref = sampled_ref.loss(mode, W, b, lab, h, sv, remove_accidental_hits=True)
        np.testing.assert_allclose(loss, ref, rtol=1e-12)
        assert {2**31 + 10, 2**31 + 12, 2**31 + 16} <= set(g.ids.tolist())
        # d inputs, from the logits of the reference (no C-sized array made)
        logits, targets = sampled_ref.sampled_logits(W, b, lab, h, sv, True, True)
        if mode == "softmax":
            e = np.exp(logits - logits.max(1, keepdims=True))
            gl = e / e.sum(1, keepdims=True) - targets
        else:
            gl = np.exp(-np.logaddexp(0.0, -logits)) - targets      # sigmoid, no overflow
        ids = np.concatenate([lab, np.broadcast_to(s, (3, s.size))], axis=1)
        gx = np.einsum("nk,nkd->nd", gl, W[ids])
        np.testing.assert_allclose(g.inputs, gx, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# over 2**31 elements of real memory: FASTSMCE_LARGE=1
# ---------------------------------------------------------------------------

def _need(gib):
    if not LARGE:
        pytest.skip(f"needs ~{gib} GiB of memory: set FASTSMCE_LARGE=1 to run")
    with open("/proc/meminfo") as f:
        avail = {ln.split(":")[0]: int(ln.split()[1]) for ln in f}.get("MemAvailable", 0) * 1024
    if avail < (gib + 2) * 2**30:
        pytest.skip(f"needs ~{gib} GiB of memory; {avail / 2**30:.1f} GiB available")


def test_large_contiguous_row_of_2_31_plus_17_float32():
    """one contiguous row of 2**31 + 17 float32 (8.6 GB): logsumexp (one thread and the
    row split across threads, bit-identical), cross-entropy with a label above 2**31"""
    _need(9)
    pat = _pattern(np.float32, 4)
    x = np.empty(N_LONG, np.float32)
    m = N_LONG // P
    x[:m * P].reshape(m, P)[:] = pat
    x[m * P:] = pat[:N_LONG - m * P]
    counts = np.bincount(np.arange(N_LONG - m * P), minlength=P) + m
    p64 = pat.astype(np.float64)
    lse = p64.max() + np.log((counts * np.exp(p64 - p64.max())).sum())
    res = []
    for threads in (1, 2):
        F.set_num_threads(threads)
        res.append(F.logsumexp(x.reshape(1, N_LONG)))
    assert res[0].tobytes() == res[1].tobytes()
    _log_close(res[0][0], lse, "logsumexp of a long row")
    label = N_LONG - 5
    got = F.cross_entropy(x.reshape(1, N_LONG), np.array([label]), reduction="none")
    _log_close(got[0], lse - p64[label % P], "cross_entropy, label > 2**31")
    mean_x = (counts * p64).sum() / N_LONG
    got = F.cross_entropy(x.reshape(1, N_LONG), np.array([label]), label_smoothing=0.1)
    _log_close(got, 0.9 * (lse - p64[label % P]) + 0.1 * (lse - mean_x), "label smoothing")


def test_large_outputs_of_2_31_plus_2048_float32():
    """softmax, log_softmax, sigmoid, and the gradients of cross-entropy and BCE written
    into one 8.6 GB output (byte offsets above 2**31); rows checked at both ends and spread
    over the middle"""
    _need(9)
    buf, x = _windows(_pattern(np.float32, 5))
    zbuf, z = _windows(np.random.default_rng(6).random(P).astype(np.float32))
    y = np.empty((R, C), np.float32)
    rows = np.unique(np.concatenate([np.arange(70), R - 1 - np.arange(70),
                                     np.random.default_rng(7).integers(0, R, 300)]))
    xr = np.stack([buf[r:r + C] for r in rows]).astype(np.float64)
    zr = np.stack([zbuf[r:r + C] for r in rows]).astype(np.float64)
    lse = logsumexp_ref(xr)[:, None]
    t = (np.arange(R) * 7919) % C
    onehot = np.zeros_like(xr)
    onehot[np.arange(rows.size), t[rows]] = 1

    def check(what, ref, rtol, atol):
        np.testing.assert_allclose(y[rows].astype(np.float64), ref, rtol=rtol, atol=atol,
                                   err_msg=what)

    assert F.softmax(x, out=y) is y
    check("softmax", np.exp(xr - lse), 1e-6, 1e-30)
    assert 0 <= y.min() and y.max() <= 1
    F.log_softmax(x, out=y)
    check("log_softmax", xr - lse, 0, 2e-6 * max(1, np.abs(xr - lse).max()))
    F.sigmoid(x, out=y)
    check("sigmoid", 1 / (1 + np.exp(-xr)), 1e-6, 1e-30)
    F.cross_entropy_with_grad(x, t, grad_out=y, reduction="sum")
    check("cross_entropy grad", np.exp(xr - lse) - onehot, 1e-5, 2e-7)
    F.binary_cross_entropy_with_logits_with_grad(x, z, grad_out=y, reduction="sum")
    check("bce grad", 1 / (1 + np.exp(-xr)) - zr, 1e-5, 2e-7)
