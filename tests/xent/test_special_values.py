"""cross-entropy special values: extreme finite logits stay finite and accurate; NaN, +inf
and -inf logits follow PyTorch's semantics."""

import numpy as np
import pytest

import fastsmce
from reference.xent import cross_entropy_ref


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_results(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [1e4, 1e4, -1e4]], dtype=dtype)
    t = np.array([1, 0, 2])
    for opt in (dict(), dict(label_smoothing=0.1), dict(weight=np.array([1, 2, 3], dtype=dtype))):
        loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="none", **opt)
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        ref = cross_entropy_ref(x, t, reduction="none", **opt)
        np.testing.assert_allclose(loss, ref, rtol=1e-6)
    p = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype=dtype)
    loss, grad = fastsmce.cross_entropy_with_grad(x, p, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss, cross_entropy_ref(x, p, reduction="none"), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [5, 1000, 70001])
def test_nan_and_inf_logits_follow_torch_semantics(dtype, C):
    """A NaN or +inf logit makes that row's loss and gradient NaN (as PyTorch); a -inf logit
    at a non-target class is probability 0; -inf at the target class is an infinite loss."""
    x = np.zeros((4, C), dtype=dtype)
    x[0, 1] = np.nan
    x[1, 2] = np.inf
    x[2, 3] = -np.inf
    x[3, 0] = -np.inf
    t = np.array([0, 0, 0, 0])
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="none")
    assert np.isnan(loss[0]) and np.all(np.isnan(grad[0]))
    assert np.isnan(loss[1]) and np.all(np.isnan(grad[1]))
    assert np.isclose(loss[2], np.log(C - 1)) and np.all(np.isfinite(grad[2])) and grad[2, 3] == 0
    assert loss[3] == np.inf and np.all(np.isfinite(grad[3]))
    assert grad[3, 0] == -1 and np.isclose(grad[3, 1], 1 / (C - 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [5, 1000, 70001])
def test_nan_with_payload_makes_the_row_nan(dtype, C):
    """a NaN whose payload has low bits set (0x7fc00001: not NumPy's default NaN) is a NaN
    like any other: the float32 exp's fast path once turned it into a number (a finite
    loss and gradient at 1000 classes)"""
    bits = 0x7FC00001 if dtype == np.float32 else 0x7FF8000000000001
    u = np.uint32 if dtype == np.float32 else np.uint64
    x = np.random.default_rng(C).standard_normal((2, C)).astype(dtype)
    x[0, C // 2] = np.array([bits], u).view(dtype)[0]
    t = np.array([0, 1])
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="none")
    assert np.isnan(loss[0]) and np.all(np.isnan(grad[0]))
    assert np.isfinite(loss[1]) and np.all(np.isfinite(grad[1]))
    assert np.isnan(fastsmce.cross_entropy(x, t, reduction="none")[0])
