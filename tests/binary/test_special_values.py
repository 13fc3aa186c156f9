"""The binary family's special values: sigmoid of +-inf, NaN (in every lane), huge logits;
BCE of extreme and infinite logits; the focal loss where the direct formula underflows (mpmath)."""

import warnings

import numpy as np
import pytest

import fastsmce
from reference.binary import bce_ref, focal_mp, sigmoid_ref

bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_special_values_without_warnings(dtype):
    x = np.array([np.inf, -np.inf, np.nan, -1e4, 1e4, -120, 120, 0.0, -0.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = fastsmce.sigmoid(x)
        ls = fastsmce.log_sigmoid(x)
    assert s[0] == 1 and s[1] == 0 and np.isnan(s[2])
    assert s[3] == 0 and s[4] == 1 and s[7] == 0.5 and s[8] == 0.5
    assert s[5] == dtype(sigmoid_ref(-120)) or abs(s[5] / float(sigmoid_ref(-120)) - 1) < 1e-6
    assert ls[0] == 0 and ls[1] == -np.inf and np.isnan(ls[2])
    assert ls[3] == -1e4 and ls[4] == 0 and ls[5] == -120
    assert ls[7] == dtype(-np.log(2))


def test_sigmoid_nan_propagates_in_every_lane_position():
    for n in range(1, 40):
        x = np.linspace(-3, 3, n).astype(np.float32)
        x[n - 1] = np.nan
        assert np.isnan(fastsmce.sigmoid(x)[n - 1])
        assert np.isnan(fastsmce.log_sigmoid(x)[n - 1])
        assert not np.isnan(fastsmce.sigmoid(x)[: n - 1]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_extreme_logits_stay_finite_and_exact(dtype):
    x = np.array([[-1e4, 1e4, -120, 120, -1e4, 1e4, -120, 120, 0]], dtype=dtype)
    z = np.array([[0, 0, 0, 0, 1, 1, 1, 1, 0.5]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = bce_g(x, z, reduction="none", pos_weight=np.full(9, 2, dtype))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    rl, rg = bce_ref(x, z, pos_weight=np.full(9, 2.0), reduction="none")
    np.testing.assert_allclose(loss, rl, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(grad, rg, rtol=1e-6, atol=1e-30)
    assert loss[0, 0] == 0 and loss[0, 1] == 1e4 and loss[0, 4] == 2e4 and loss[0, 5] == 0
    assert loss[0, 3] == 120 and grad[0, 3] == 1 and grad[0, 4] == -2


def test_bce_infinite_and_nan_logits_give_the_limits():
    """x = +-inf: inf where a nonzero coefficient meets an infinite softplus, NaN where a zero
    one does (0 * inf: x = +inf with z = 1, x = -inf with z = 0; PyTorch also gives NaN for
    x = -inf, z = 1, where we give the limit inf); gradients stay finite; NaN propagates."""
    x = np.array([np.inf, np.inf, -np.inf, -np.inf, np.inf, np.nan])
    z = np.array([0, 1, 0, 1, 0.5, 0.5])
    loss, grad = bce_g(x, z, reduction="none")
    np.testing.assert_array_equal(loss, [np.inf, np.nan, np.nan, np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(grad[:5], [1, 0, 0, -1, 0.5])
    assert np.isnan(grad[5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_focal_log_space_is_accurate_where_the_direct_formula_underflows(dtype):
    """x = 30 with z = 1 (f32): 1 - p rounds to 0 in the direct formula, the true loss is
    ~ 1e-39 * ...; x = +-120, +-1e4 give finite values and gradients."""
    x = np.array([30, -30, 60, -60, 120, -120, 1e4, -1e4, 0.0], dtype=dtype)
    z = np.array([1, 0, 1, 0, 1, 1, 0, 1, 1], dtype=dtype)
    loss, grad = focal_g(x, z, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    for i in range(x.size):
        ref = focal_mp(x[i], float(z[i]), 0.25, 2.0)
        tiny = np.finfo(dtype).tiny
        if abs(ref) < tiny:
            assert abs(loss[i]) < tiny
        else:
            assert abs(loss[i] / ref - 1) < 1e-5, (x[i], loss[i], ref)
    assert loss[7] == dtype(0.25 * 1e4) and loss[6] == dtype(0.75 * 1e4)
