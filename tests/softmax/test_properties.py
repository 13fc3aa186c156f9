"""Hypothesis properties: rows sum to one, shift invariance, argmax preserved,
log_softmax == log(softmax), logsumexp == scipy.special.logsumexp, gradient rows sum to zero."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastsmce
from reference.softmax import LOG_ATOL, PROB_FLOOR, PROB_RTOL

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

dtypes = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


@st.composite
def logits_and_axis(draw, lo=-1e4, hi=1e4, allow_minus_inf=False):
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40))
    elements = st.floats(lo, hi, width=dtype.itemsize * 8)
    if allow_minus_inf:
        elements = st.one_of(elements, st.just(-np.inf))
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    if allow_minus_inf:  # keep one finite value per row
        idx = [slice(None)] * x.ndim
        idx[axis] = 0
        first = x[tuple(idx)]
        x[tuple(idx)] = np.where(np.isinf(first), 0.0, first)
    if draw(st.booleans()):
        x = np.asfortranarray(x)
    return x, axis


@st.composite
def grid_logits_and_shift(draw):
    """Logits on the 2**-10 grid in [-64, 64] and an integer shift per row: x + c is exact in
    float32 and float64, so softmax(x + c) and softmax(x) have the same exact value."""
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=50))
    k = draw(hnp.arrays(np.int32, shape, elements=st.integers(-65536, 65536)))
    c = draw(hnp.arrays(np.int32, (shape[0], 1), elements=st.integers(-1000, 1000)))
    x = k.astype(dtype) / dtype.type(1024)
    return x, (x + c.astype(dtype)), c.astype(np.float64)


@SETTINGS
@given(logits_and_axis())
def test_rows_sum_to_one(xa):
    x, axis = xa
    p = fastsmce.softmax(x, axis=axis)
    assert p.dtype == x.dtype
    assert (p >= 0).all() and (p <= 1).all()
    s = p.astype(np.longdouble).sum(axis=axis)
    np.testing.assert_allclose(s.astype(np.float64), 1.0, rtol=0, atol=PROB_RTOL[x.dtype])


@SETTINGS
@given(logits_and_axis(allow_minus_inf=True))
def test_rows_with_minus_inf_sum_to_one_with_exact_zeros(xa):
    x, axis = xa
    p = fastsmce.softmax(x, axis=axis)
    lp = fastsmce.log_softmax(x, axis=axis)
    assert (p[np.isneginf(x)] == 0).all()
    assert (lp[np.isneginf(x)] == -np.inf).all()
    assert np.isfinite(lp[np.isfinite(x)]).all()
    s = p.astype(np.longdouble).sum(axis=axis).astype(np.float64)
    np.testing.assert_allclose(s, 1.0, rtol=0, atol=PROB_RTOL[x.dtype])


@SETTINGS
@given(grid_logits_and_shift())
def test_shift_invariance(data):
    x, xc, c = data
    dt = x.dtype
    p, pc = fastsmce.softmax(x), fastsmce.softmax(xc)
    big = np.maximum(p, pc) >= PROB_FLOOR[dt]
    np.testing.assert_allclose(pc[big], p[big], rtol=2 * PROB_RTOL[dt], atol=0)
    assert (np.abs(pc - p)[~big] <= 2 * PROB_FLOOR[dt]).all()
    lp, lpc = fastsmce.log_softmax(x), fastsmce.log_softmax(xc)
    tol = 2 * LOG_ATOL[dt] * np.maximum(1, np.abs(lp.astype(np.float64)))
    assert (np.abs(lpc.astype(np.float64) - lp) <= tol).all()
    lse, lsec = fastsmce.logsumexp(x).astype(np.float64), fastsmce.logsumexp(xc).astype(np.float64)
    want = lse + c[:, 0]
    tol = LOG_ATOL[dt] * (np.maximum(1, np.abs(lse)) + np.maximum(1, np.abs(lsec)))
    assert (np.abs(lsec - want) <= tol).all(), (lsec, want)


@SETTINGS
@given(logits_and_axis(lo=-1e6, hi=1e6))
def test_argmax_preserved(xa):
    x, axis = xa
    p = fastsmce.softmax(x, axis=axis)
    am = np.expand_dims(np.argmax(x, axis=axis), axis)
    assert (np.take_along_axis(p, am, axis) == p.max(axis=axis, keepdims=True)).all()
    lp = fastsmce.log_softmax(x, axis=axis)
    assert (np.take_along_axis(lp, am, axis) == lp.max(axis=axis, keepdims=True)).all()


@SETTINGS
@given(logits_and_axis(lo=-200, hi=200))
def test_log_softmax_equals_log_of_softmax(xa):
    x, axis = xa
    dt = x.dtype
    p = fastsmce.softmax(x, axis=axis).astype(np.float64)
    lp = fastsmce.log_softmax(x, axis=axis).astype(np.float64)
    ok = p >= PROB_FLOOR[dt]
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    tol = 2 * LOG_ATOL[dt] * np.maximum(1, np.abs(lp)) + PROB_RTOL[dt]
    bad = ok & ~(np.abs(lp - logp) <= tol)
    assert not bad.any(), (lp[bad][:5], logp[bad][:5])
    # where the probability is below the floor, the log-probability says so too
    assert (lp[~ok] < np.log(PROB_FLOOR[dt]) + 1e-3).all()


@SETTINGS
@given(logits_and_axis(lo=-1e4, hi=1e4, allow_minus_inf=True), st.booleans())
def test_logsumexp_matches_scipy(xa, keepdims):
    special = pytest.importorskip("scipy.special")
    x, axis = xa
    got = np.asarray(fastsmce.logsumexp(x, axis=axis, keepdims=keepdims))
    want = special.logsumexp(x.astype(np.float64), axis=axis, keepdims=keepdims)
    assert got.dtype == x.dtype
    assert got.shape == np.shape(want)
    tol = LOG_ATOL[x.dtype] * np.maximum(1, np.abs(want))
    assert (np.abs(got - want) <= tol).all(), (got, want)


@SETTINGS
@given(logits_and_axis(lo=-50, hi=50), st.integers(0, 2**32 - 1))
def test_gradient_rows_sum_to_zero(xa, seed):
    x, axis = xa
    dt = x.dtype
    rtol = 1e-5 if dt == np.float32 else 1e-13
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(dt)
    p = fastsmce.softmax(x, axis=axis)
    gs = fastsmce.softmax_backward(g, p, axis=axis).astype(np.float64)
    p64, g64 = p.astype(np.float64), g.astype(np.float64)
    scale = (p64 * (np.abs(g64) + np.abs(g64 * p64).sum(axis, keepdims=True))).sum(axis)
    assert (np.abs(gs.sum(axis)) <= rtol * scale + 1e-300).all()
    lp = fastsmce.log_softmax(x, axis=axis)
    gl = fastsmce.log_softmax_backward(g, lp, axis=axis).astype(np.float64)
    assert (np.abs(gl.sum(axis)) <= rtol * 2 * np.abs(g64).sum(axis) + 1e-300).all()
