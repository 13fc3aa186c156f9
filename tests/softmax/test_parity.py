"""Parity with scipy.special and PyTorch (skipped only when those packages are missing)."""

import warnings

import numpy as np
import pytest

import fastsmce
from helpers import FLOATS
from reference.softmax import BWD_RTOL, LOG_ATOL, PROB_FLOOR, PROB_RTOL, assert_log_close, assert_probs_close


def _logits(rng, shape, dtype, specials=True):
    x = (rng.standard_normal(shape) * 1.5).astype(dtype)
    if specials and x.ndim == 2 and x.shape[0] >= 4 and x.shape[1] >= 3:
        x[0, 1] = -np.inf                # a -inf entry in a finite row
        x[1, :] = -np.inf                # a row of -inf
        x[1, 0] = 0.5                    # ... with one finite value
        x[2, 2] = np.nan                 # a NaN row
    return x


SHAPES = [((8, 10), -1), ((8, 10), 0), ((64, 1000), -1), ((3, 4, 5), 1), ((17,), 0)]


@pytest.mark.parametrize("shape,axis", SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_matches_scipy_special(shape, axis, dtype, rng):
    special = pytest.importorskip("scipy.special")
    x = _logits(rng, shape, dtype)
    x64 = x.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sm = special.softmax(x64, axis=axis)
        lsm = special.log_softmax(x64, axis=axis)
        lse = special.logsumexp(x64, axis=axis)
    assert_probs_close(fastsmce.softmax(x, axis=axis), sm, dtype, "softmax vs scipy")
    assert_log_close(fastsmce.log_softmax(x, axis=axis), lsm, dtype, "log_softmax vs scipy")
    assert_log_close(fastsmce.logsumexp(x, axis=axis), lse, dtype, "logsumexp vs scipy")
    for keepdims in (False, True):
        assert_log_close(fastsmce.logsumexp(x, axis=axis, keepdims=keepdims),
                         special.logsumexp(x64, axis=axis, keepdims=keepdims), dtype)


def test_matches_scipy_on_special_rows_where_scipy_is_defined():
    """Rows where scipy.special gives a value without warning: NaN rows, -inf entries, +inf
    for logsumexp, and all -inf rows for logsumexp."""
    special = pytest.importorskip("scipy.special")
    rows = np.array([[1.0, np.nan, 2.0], [-np.inf, 0.0, 1.0], [1e30, -1e30, 0.0],
                     [0.0, -np.inf, -np.inf]])
    assert_probs_close(fastsmce.softmax(rows), special.softmax(rows, axis=-1), np.float64)
    assert_log_close(fastsmce.log_softmax(rows), special.log_softmax(rows, axis=-1), np.float64)
    lrows = np.array([[1.0, np.inf, 2.0], [-np.inf, -np.inf, -np.inf], [np.inf, np.nan, 0.0]])
    np.testing.assert_array_equal(fastsmce.logsumexp(lrows), special.logsumexp(lrows, axis=-1))


# ---------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("shape,axis", SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_matches_torch_forward(shape, axis, dtype, rng, torch):
    x = _logits(rng, shape, dtype)
    t = torch.from_numpy(x.astype(np.float64))
    assert_probs_close(fastsmce.softmax(x, axis=axis),
                       torch.softmax(t, dim=axis).numpy(), dtype, "softmax vs torch")
    assert_log_close(fastsmce.log_softmax(x, axis=axis),
                     torch.log_softmax(t, dim=axis).numpy(), dtype, "log_softmax vs torch")
    assert_log_close(fastsmce.logsumexp(x, axis=axis),
                     torch.logsumexp(t, dim=axis).numpy(), dtype, "logsumexp vs torch")


@pytest.mark.torch
def test_matches_torch_on_plus_inf_rows(torch):
    """A +inf in a row: softmax and log_softmax all NaN, as torch gives them."""
    x = np.array([[1.0, np.inf, 2.0], [np.inf, np.inf, 0.0]])
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(fastsmce.softmax(x), torch.softmax(t, dim=-1).numpy())
    np.testing.assert_array_equal(fastsmce.log_softmax(x), torch.log_softmax(t, dim=-1).numpy())


@pytest.mark.torch
@pytest.mark.parametrize("shape,axis", [((8, 10), -1), ((8, 10), 0), ((64, 1000), -1),
                                        ((3, 4, 5), 1)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_backward_matches_torch_autograd(shape, axis, dtype, rng, torch):
    x = (rng.standard_normal(shape) * 1.5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    tdt = torch.float64
    for fwd, bwd, tf in ((fastsmce.softmax, fastsmce.softmax_backward, torch.softmax),
                         (fastsmce.log_softmax, fastsmce.log_softmax_backward,
                          torch.log_softmax)):
        t = torch.tensor(x.astype(np.float64), dtype=tdt, requires_grad=True)
        y = tf(t, dim=axis)
        (vjp,) = torch.autograd.grad(y, t, grad_outputs=torch.tensor(g.astype(np.float64)))
        got = bwd(g, fwd(x, axis=axis), axis=axis)
        assert got.dtype == dtype
        want = vjp.numpy()
        scale = np.abs(g).astype(np.float64) + np.abs(want)
        np.testing.assert_array_less(np.abs(got - want), 10 * BWD_RTOL[np.dtype(dtype)] * (
            scale + np.abs(g).sum(axis=axis, keepdims=True)) + 1e-300)


def test_tolerance_constants_are_the_documented_ones():
    """Guards the tolerances every other test relies on against accidental loosening."""
    assert PROB_RTOL[np.dtype(np.float32)] == 1e-6 and PROB_RTOL[np.dtype(np.float64)] == 1e-14
    assert LOG_ATOL[np.dtype(np.float32)] == 2e-6 and LOG_ATOL[np.dtype(np.float64)] == 1e-14
    assert PROB_FLOOR[np.dtype(np.float32)] == 1e-30
