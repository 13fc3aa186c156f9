"""sigmoid_focal_loss(_with_grad): torchvision's formula (written here in float64 NumPy,
torchvision is not needed), torch autograd of the same formula, finite differences, log-space
stability where the direct formula underflows, options and bad input."""

import numpy as np
import pytest

import fastsmce

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad
REDUCTIONS = ["none", "mean", "sum"]


def torchvision_formula(x, z, alpha=0.25, gamma=2.0, reduction="mean", xp=np):
    """torchvision.ops.sigmoid_focal_loss, line by line (xp = numpy or torch)"""
    p = 1 / (1 + xp.exp(-x))
    ce = xp.maximum(x, 0 * x) - x * z + xp.log1p(xp.exp(-xp.abs(x)))
    p_t = p * z + (1 - p) * (1 - z)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * z + (1 - alpha) * (1 - z)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def case(rng, shape, dtype, soft):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    z = (rng.random(shape) if soft else rng.random(shape) < 0.3).astype(dtype)
    return x, z


PARAMS = [(0.25, 2.0), (-1.0, 2.0), (0.5, 0.0), (0.9, 0.5), (0.25, 3.7)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", PARAMS)
@pytest.mark.parametrize("soft", [False, True])
def test_matches_torchvision_formula(soft, alpha, gamma, reduction, dtype, rng):
    x, z = case(rng, (31, 47), dtype, soft)
    ref = torchvision_formula(x.astype(np.float64), z.astype(np.float64), alpha, gamma, reduction)
    loss, grad = focal_g(x, z, alpha=alpha, gamma=gamma, reduction=reduction)
    assert grad.dtype == dtype and grad.shape == x.shape
    tol = 3e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(loss), ref, rtol=tol, atol=tol * np.abs(ref).max())
    # loss-only and loss+grad are separate compiled kernels (the compiler may fuse differently)
    np.testing.assert_allclose(focal(x, z, alpha=alpha, gamma=gamma, reduction=reduction), loss,
                               rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("alpha,gamma", PARAMS)
@pytest.mark.parametrize("soft", [False, True])
def test_grad_matches_central_finite_differences(soft, alpha, gamma, rng):
    x, z = case(rng, (3, 6), np.float64, soft)
    _, grad = focal_g(x, z, alpha=alpha, gamma=gamma, reduction="sum")
    h = 1e-6
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fd = (focal(xp, z, alpha=alpha, gamma=gamma, reduction="sum")
              - focal(xm, z, alpha=alpha, gamma=gamma, reduction="sum")) / (2 * h)
        assert abs(fd - grad[i]) < 1e-7 * max(1, abs(fd)), (i, fd, grad[i])


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", PARAMS)
@pytest.mark.parametrize("soft", [False, True])
def test_grad_matches_torch_autograd(soft, alpha, gamma, reduction, dtype, rng):
    if torch is None:
        pytest.skip("torch is not installed")
    x, z = case(rng, (2, 13, 17), dtype, soft)
    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    tl = torchvision_formula(tx, torch.from_numpy(z.astype(np.float64)), alpha, gamma, reduction,
                             xp=torch)
    tl.backward(torch.ones_like(tl))
    loss, grad = focal_g(x, z, alpha=alpha, gamma=gamma, reduction=reduction)
    tol = 5e-6 if dtype == np.float32 else 1e-12
    ref = tx.grad.numpy()
    np.testing.assert_allclose(grad, ref, rtol=tol, atol=tol * np.abs(ref).max())
    np.testing.assert_allclose(np.asarray(loss), tl.detach().numpy(), rtol=tol,
                               atol=tol * np.abs(tl.detach().numpy()).max())


def _mp_focal(x, z, alpha, gamma):
    import mpmath
    with mpmath.workdps(60):
        x = mpmath.mpf(float(x))
        p = 1 / (1 + mpmath.exp(-x))
        logp = -mpmath.log1p(mpmath.exp(-x))        # exact forms: 1 - p underflows at 60 digits
        log1mp = -x - mpmath.log1p(mpmath.exp(-x)) if x > 0 else -mpmath.log1p(mpmath.exp(x))
        ce = -(z * logp + (1 - z) * log1mp)
        pt = p * z + (1 - p) * (1 - z)
        at = alpha * z + (1 - alpha) * (1 - z)
        return float(at * ce * (1 - pt) ** gamma)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_space_is_accurate_where_the_direct_formula_underflows(dtype):
    """x = 30 with z = 1 (f32): 1 - p rounds to 0 in the direct formula, the true loss is
    ~ 1e-39 * ...; x = +-120, +-1e4 give finite values and gradients."""
    x = np.array([30, -30, 60, -60, 120, -120, 1e4, -1e4, 0.0], dtype=dtype)
    z = np.array([1, 0, 1, 0, 1, 1, 0, 1, 1], dtype=dtype)
    loss, grad = focal_g(x, z, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    for i in range(x.size):
        ref = _mp_focal(x[i], float(z[i]), 0.25, 2.0)
        tiny = np.finfo(dtype).tiny
        if abs(ref) < tiny:
            assert abs(loss[i]) < tiny
        else:
            assert abs(loss[i] / ref - 1) < 1e-5, (x[i], loss[i], ref)
    assert loss[7] == dtype(0.25 * 1e4) and loss[6] == dtype(0.75 * 1e4)


def test_bad_input():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="gamma"):
        focal(x, x, gamma=-1)
    with pytest.raises(ValueError, match="alpha"):
        focal(x, x, alpha=np.nan)
    with pytest.raises(ValueError, match="reduction"):
        focal(x, x, reduction="mea")
    with pytest.raises(ValueError, match="target"):
        focal(x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        focal(x, x + 2)
    import scipy.sparse as sps
    with pytest.raises(TypeError, match="dense"):
        focal(x, sps.csr_array(x))
    out = np.full((3, 4), 5.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        focal_g(x, x - 1, grad_out=out)
    assert np.all(out == 5)


@pytest.mark.threads
def test_bit_identical_for_1_and_2_threads(rng):
    x, z = case(rng, (900, 333), np.float32, True)
    res = []
    for n in (1, 2):
        fastsmce.set_num_threads(n)
        res.append(focal_g(x, z))
    assert res[0][0] == res[1][0] and np.array_equal(res[0][1], res[1][1])


def test_in_place_grad(rng):
    x, z = case(rng, (50, 70), np.float64, True)
    expected = focal_g(x, z)
    y = x.copy()
    loss, grad = focal_g(y, z, grad_out=y)
    assert grad is y and loss == expected[0]
    np.testing.assert_array_equal(y, expected[1])
