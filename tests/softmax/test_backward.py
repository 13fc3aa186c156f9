"""Backward passes: against explicit Jacobians (as vector-Jacobian products), against central
finite differences of the forward functions, and their rows-sum-to-zero property."""

import numpy as np
import pytest

import fastsmce
from helpers import FLOATS, central_fd
from reference.softmax import (
    BWD_RTOL,
    assert_scaled_close,
    log_softmax_jacobian,
    log_softmax_ref,
    rows_vjp,
    softmax_jacobian,
    softmax_ref,
)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 16, 33, 100])
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_backward_matches_explicit_jacobian(n, dtype, rng):
    x = rng.standard_normal((5, n)) * 2
    probs = softmax_ref(x).astype(dtype)
    g = rng.standard_normal((5, n)).astype(dtype)
    want = rows_vjp(softmax_jacobian, g, probs)
    got = fastsmce.softmax_backward(g, probs)
    assert got.dtype == dtype
    scale = np.abs(probs) * (np.abs(g) + np.abs(g * probs).sum(-1, keepdims=True))
    assert_scaled_close(got, want, scale, BWD_RTOL[np.dtype(dtype)], "softmax_backward vs J")
    # along axis 0 of the transposed problem
    got0 = fastsmce.softmax_backward(np.ascontiguousarray(g.T), np.ascontiguousarray(probs.T),
                                     axis=0)
    assert_scaled_close(got0.T, want, scale, BWD_RTOL[np.dtype(dtype)], "axis=0 vs J")


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 16, 33, 100])
@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_backward_matches_explicit_jacobian(n, dtype, rng):
    x = rng.standard_normal((5, n)) * 2
    lp = log_softmax_ref(x).astype(dtype)
    g = rng.standard_normal((5, n)).astype(dtype)
    want = rows_vjp(log_softmax_jacobian, g, lp)
    got = fastsmce.log_softmax_backward(g, lp)
    assert got.dtype == dtype
    s = np.exp(lp.astype(np.float64))
    scale = np.abs(g) + s * np.abs(g).sum(-1, keepdims=True)
    assert_scaled_close(got, want, scale, BWD_RTOL[np.dtype(dtype)], "log_softmax_backward vs J")
    got0 = fastsmce.log_softmax_backward(g.T, lp.T, axis=0)
    assert_scaled_close(got0.T, want, scale, BWD_RTOL[np.dtype(dtype)], "axis=0 vs J")


def _assert_grad_close(analytic, fd, what):
    np.testing.assert_allclose(analytic, fd, rtol=1e-7, atol=1e-7 * np.abs(fd).max(),
                               err_msg=what)


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((9,), 0)])
def test_softmax_grad_matches_finite_differences(shape, axis, rng):
    x = rng.standard_normal(shape)
    w = rng.standard_normal(shape)

    def f(z):
        return float(np.sum(w * fastsmce.softmax(z, axis=axis)))

    fd = central_fd(f, x)
    analytic = fastsmce.softmax_backward(w, fastsmce.softmax(x, axis=axis), axis=axis)
    _assert_grad_close(analytic, fd, "softmax_backward vs finite differences")


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((9,), 0)])
def test_log_softmax_grad_matches_finite_differences(shape, axis, rng):
    x = rng.standard_normal(shape)
    w = rng.standard_normal(shape)

    def f(z):
        return float(np.sum(w * fastsmce.log_softmax(z, axis=axis)))

    fd = central_fd(f, x)
    analytic = fastsmce.log_softmax_backward(w, fastsmce.log_softmax(x, axis=axis), axis=axis)
    _assert_grad_close(analytic, fd, "log_softmax_backward vs finite differences")


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1)])
def test_logsumexp_grad_is_softmax_by_finite_differences(shape, axis, rng):
    x = rng.standard_normal(shape)
    w = rng.standard_normal(np.delete(shape, axis % len(shape)))

    def f(z):
        return float(np.sum(w * fastsmce.logsumexp(z, axis=axis)))

    fd = central_fd(f, x)
    analytic = np.expand_dims(w, axis) * fastsmce.softmax(x, axis=axis)
    _assert_grad_close(analytic, fd, "softmax as gradient of logsumexp")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,axis", [((64, 10), -1), ((8, 1000), -1), ((1000, 8), 0),
                                        ((2, 70000), -1), ((70000, 2), 0)])
def test_softmax_backward_rows_sum_to_zero(shape, axis, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    p = fastsmce.softmax(x, axis=axis)
    out = fastsmce.softmax_backward(g, p, axis=axis).astype(np.float64)
    p64, g64 = p.astype(np.float64), g.astype(np.float64)
    s = out.sum(axis=axis)
    scale = (np.abs(p64) * (np.abs(g64) + np.abs(g64 * p64).sum(axis, keepdims=True))).sum(axis)
    assert (np.abs(s) <= BWD_RTOL[np.dtype(dtype)] * scale).all(), np.abs(s / scale).max()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,axis", [((64, 10), -1), ((8, 1000), -1), ((1000, 8), 0),
                                        ((2, 70000), -1), ((70000, 2), 0)])
def test_log_softmax_backward_rows_sum_to_zero(shape, axis, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    lp = fastsmce.log_softmax(x, axis=axis)
    out = fastsmce.log_softmax_backward(g, lp, axis=axis).astype(np.float64)
    g64 = g.astype(np.float64)
    s = out.sum(axis=axis)
    scale = 2 * np.abs(g64).sum(axis)
    assert (np.abs(s) <= BWD_RTOL[np.dtype(dtype)] * scale).all(), np.abs(s / scale).max()


@pytest.mark.parametrize("dtype", FLOATS)
def test_backward_with_zero_probabilities_and_minus_inf_log_probs(dtype, rng):
    """A class with probability 0 (log-probability -inf) gets exactly grad 0 from
    softmax_backward and grad g_j from log_softmax_backward, with no NaN."""
    x = rng.standard_normal((4, 9)).astype(dtype)
    x[:, 3] = -np.inf
    g = rng.standard_normal((4, 9)).astype(dtype)
    p = fastsmce.softmax(x)
    lp = fastsmce.log_softmax(x)
    gs = fastsmce.softmax_backward(g, p)
    gl = fastsmce.log_softmax_backward(g, lp)
    assert np.isfinite(gs).all() and np.isfinite(gl).all()
    assert (gs[:, 3] == 0).all()
    np.testing.assert_array_equal(gl[:, 3], g[:, 3])


def test_backward_of_mismatched_shapes_raises_value_error():
    for fn in (fastsmce.softmax_backward, fastsmce.log_softmax_backward):
        with pytest.raises(ValueError):
            fn(np.zeros((3, 4)), np.zeros((3, 5)))
        with pytest.raises(ValueError):
            fn(np.zeros((3, 4)), np.zeros((4, 3)))
