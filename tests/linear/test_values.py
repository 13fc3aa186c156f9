"""linear_cross_entropy(_with_grad): values and all three gradients against the float64
reference (tests/reference/linear.py) for every option, float32 / float64, with and without
bias, ignored rows, all rows ignored, V = 1, N = 0, chunk boundaries, huge logits."""

import numpy as np
import pytest

import fastsmce
from fastsmce import _core
from reference.linear import linear_xent_grad_ref, linear_xent_ref

# each test on every path: the default, chunks of rows, two sweeps over blocks (conftest.py)
pytestmark = pytest.mark.usefixtures("lce_path")

lce = fastsmce.linear_cross_entropy
lce_g = fastsmce.linear_cross_entropy_with_grad
REDUCTIONS = ("none", "mean", "sum")
# DESIGN / issue 14: float32 within 2e-5 of the float64 reference relative to the largest
# magnitude, float64 within 1e-10
TOL = {np.float32: 2e-5, np.float64: 1e-10}


def problem(rng, N=13, D=7, V=11, dtype=np.float64, bias=True, ignore_every=0, scale=1.0):
    X = (rng.standard_normal((N, D)) * scale).astype(dtype)
    W = (rng.standard_normal((V, D)) * scale).astype(dtype)
    b = rng.standard_normal(V).astype(dtype) if bias else None
    t = rng.integers(0, V, N)
    if ignore_every:
        t[::ignore_every] = -100
    return X, W, b, t


def close(got, ref, dtype):
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape
    if ref.size == 0:
        return
    if np.isnan(ref).all():
        assert np.isnan(got).all()
        return
    err = np.max(np.abs(got - ref))
    assert err <= TOL[dtype] * max(1.0, np.max(np.abs(ref))), (err, np.max(np.abs(ref)))


def check(X, W, b, t, dtype, **kw):
    loss, g = lce_g(X, W, t, linear_bias=b, **kw)
    ref = linear_xent_ref(X, W, t, b=b, **kw)
    dX, dW, db = linear_xent_grad_ref(X, W, t, b=b, **kw)
    close(loss, ref, dtype)
    close(lce(X, W, t, linear_bias=b, **kw), ref, dtype)
    assert np.asarray(loss).dtype == dtype and g.input.dtype == dtype and g.linear_weight.dtype == dtype
    close(g.input, dX, dtype)
    close(g.linear_weight, dW, dtype)
    if b is None:
        assert g.linear_bias is None
    else:
        close(g.linear_bias, db, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.1}, {"weight": "w"}, {"z_loss": 1e-2},
                                  {"softcap": 2.5}, {"weight": "w", "label_smoothing": 0.2,
                                                     "z_loss": 0.1, "softcap": 5.0}])
@pytest.mark.parametrize("bias", [False, True])
def test_loss_and_grads_match_reference(dtype, reduction, opts, bias, rng):
    X, W, b, t = problem(rng, dtype=dtype, bias=bias, ignore_every=4)
    kw = dict(opts)
    if kw.get("weight") == "w":
        kw["weight"] = rng.uniform(0.2, 2.0, W.shape[0]).astype(dtype)
    check(X, W, b, t, dtype, reduction=reduction, **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("budget_rows", [1, 3, 5, 13, 1000])
def test_chunk_boundaries_do_not_change_results(dtype, budget_rows, rng):
    """rows per chunk from 1 to all: every split gives the reference (and V not a
    multiple of anything)"""
    X, W, b, t = problem(rng, N=29, D=6, V=37, dtype=dtype, ignore_every=5)
    old = _core._set_linear("budget", budget_rows * W.shape[0] * X.itemsize)
    try:
        for red in REDUCTIONS:
            check(X, W, b, t, dtype, reduction=red, z_loss=0.05, label_smoothing=0.1)
    finally:
        _core._set_linear("budget", old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_class(dtype, rng):
    X, W, b, t = problem(rng, V=1, dtype=dtype)
    check(X, W, b, t, dtype, reduction="mean", z_loss=0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch(dtype, reduction, rng):
    X, W, b, t = problem(rng, N=0, dtype=dtype)
    loss, g = lce_g(X, W, t, linear_bias=b, reduction=reduction)
    if reduction == "mean":
        assert np.isnan(loss)
    elif reduction == "sum":
        assert loss == 0
    else:
        assert loss.shape == (0,)
    assert g.input.shape == (0, X.shape[1])
    assert not g.linear_weight.any() and not g.linear_bias.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_rows_ignored_mean_is_nan_with_zero_grads(dtype, rng):
    X, W, b, t = problem(rng, dtype=dtype)
    t[:] = -100
    loss, g = lce_g(X, W, t, linear_bias=b, z_loss=0.1)
    assert np.isnan(loss)
    assert not g.input.any() and not g.linear_weight.any() and not g.linear_bias.any()
    assert lce(X, W, t, linear_bias=b, reduction="sum") == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite(dtype, rng):
    """logits of order 1e3 (and 1e4 with softcap): stable, finite loss and gradients"""
    X, W, b, t = problem(rng, N=9, D=4, V=15, dtype=dtype, scale=30.0)
    for kw in ({}, {"softcap": 30.0}, {"z_loss": 1e-4}):
        loss, g = lce_g(X, W, t, linear_bias=b, **kw)
        assert np.isfinite(loss) and np.isfinite(g.input).all() and np.isfinite(g.linear_weight).all()
        check(X, W, b, t, dtype, **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_dimensions_and_layouts(dtype, rng):
    """input (..., D) with target (...); Fortran-ordered, strided and non-contiguous arrays"""
    X, W, b, t = problem(rng, N=24, D=5, V=9, dtype=dtype, ignore_every=7)
    X3, t3 = X.reshape(2, 3, 4, 5), t.reshape(2, 3, 4)
    loss, g = lce_g(X3, W, t3, linear_bias=b, reduction="none")
    assert loss.shape == (2, 3, 4) and g.input.shape == X3.shape
    close(loss, linear_xent_ref(X, W, t, b=b, reduction="none").reshape(2, 3, 4), dtype)
    close(g.input, linear_xent_grad_ref(X, W, t, b=b, reduction="none")[0].reshape(X3.shape), dtype)
    Wf = np.asfortranarray(W)
    Xs = np.repeat(X, 2, axis=0)[::2]
    check(Xs, Wf, b[::-1].copy()[::-1] if b is not None else None, t, dtype)
    Wbig = np.zeros((W.shape[0], 2 * W.shape[1]), dtype)
    Wbig[:, ::2] = W
    check(X, Wbig[:, ::2], b, t, dtype)


def test_single_example_1d_input(rng):
    X, W, b, t = problem(rng, N=1, dtype=np.float64)
    loss = lce(X[0], W, t[0], linear_bias=b, reduction="none")
    assert np.ndim(loss) == 0
    np.testing.assert_allclose(loss, linear_xent_ref(X, W, t, b=b, reduction="none")[0], rtol=1e-12)


def test_mixed_dtypes_promote_like_numpy(rng):
    X, W, b, t = problem(rng, dtype=np.float32)
    loss, g = lce_g(X, W.astype(np.float64), t, linear_bias=b)
    assert g.input.dtype == np.float64 and np.asarray(loss).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_bit_identical(dtype, rng):
    X, W, b, t = problem(rng, N=300, D=16, V=700, dtype=dtype, ignore_every=9)
    res = []
    old = _core._set_linear("parallel_min", 0)      # threads at any size
    try:
        for n in (1, 2):
            fastsmce.set_num_threads(n)
            loss, g = lce_g(X, W, t, linear_bias=b, z_loss=0.01, label_smoothing=0.1, softcap=20.0)
            res.append((np.asarray(loss).tobytes(), g.input.tobytes(), g.linear_weight.tobytes(),
                        g.linear_bias.tobytes()))
    finally:
        fastsmce.set_num_threads(None)
        _core._set_linear("parallel_min", old)
    assert res[0] == res[1]


def test_a_million_classes_in_float32(rng):
    """V = 10**6 float32: the statistics fold in float64, so loss and gradients stay within
    the float32 bound of the float64 reference (logits of order 10: every class counts)"""
    N, D, V = 8, 16, 10**6
    X = rng.standard_normal((N, D)).astype(np.float32)
    W = (rng.standard_normal((V, D)) * 0.8).astype(np.float32)
    t = rng.integers(0, V, N)
    Z = X.astype(np.float64) @ W.T.astype(np.float64)
    m = Z.max(1, keepdims=True)
    P = np.exp(Z - m)
    lse = m[:, 0] + np.log(P.sum(1))
    ref = np.mean(lse - Z[np.arange(N), t])
    P /= P.sum(1, keepdims=True)
    P[np.arange(N), t] -= 1
    P /= N
    old = _core._set_linear("block", 512)      # the real block: d input sums 1954 blocks' products
    try:
        loss, g = lce_g(X, W, t, z_loss=0.0)
    finally:
        _core._set_linear("block", old)
    close(loss, ref, np.float32)
    close(g.input, P @ W.astype(np.float64), np.float32)
    close(g.linear_weight, P.T @ X.astype(np.float64), np.float32)
