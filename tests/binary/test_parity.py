"""The binary losses against PyTorch: binary_cross_entropy_with_logits (loss and autograd
gradient) and torch autograd of torchvision's focal-loss formula; skipped without torch."""

import numpy as np
import pytest

import fastsmce
from helpers import BCE_OPTIONS, FOCAL_PARAMS, REDUCTIONS, bce_case, bce_options
from reference.binary import focal_ref

bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", BCE_OPTIONS, ids=lambda o: "+".join(o) or "plain")
def test_bce_matches_torch(opt, reduction, dtype, rng, torch):
    shape = (3, 29, 41)
    x, z = bce_case(rng, shape, dtype)
    kw = bce_options(opt, rng, shape[1:], dtype)
    if "weight" in kw and kw["weight"].ndim == 2:
        kw["weight"] = kw["weight"][None]
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.from_numpy(z), reduction=reduction, **{k: torch.from_numpy(v) for k, v in kw.items()})
    tl.backward(torch.ones_like(tl))
    loss, grad = bce_g(x, z, reduction=reduction, **kw)
    tol = 5e-6 if dtype == np.float32 else 1e-12
    ref_l = tl.detach().numpy()
    np.testing.assert_allclose(np.asarray(loss), ref_l, rtol=tol, atol=tol * np.abs(ref_l).max())
    ref_g = tx.grad.numpy()
    np.testing.assert_allclose(grad, ref_g, rtol=tol, atol=tol * np.abs(ref_g).max())


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", FOCAL_PARAMS)
@pytest.mark.parametrize("soft", [False, True])
def test_focal_matches_torch_autograd_of_torchvision_formula(soft, alpha, gamma, reduction, dtype, rng, torch):
    x, z = bce_case(rng, (2, 13, 17), dtype, soft, scale=3.0)
    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    tl = focal_ref(tx, torch.from_numpy(z.astype(np.float64)), alpha, gamma, reduction,
                             xp=torch)
    tl.backward(torch.ones_like(tl))
    loss, grad = focal_g(x, z, alpha=alpha, gamma=gamma, reduction=reduction)
    tol = 5e-6 if dtype == np.float32 else 1e-12
    ref = tx.grad.numpy()
    np.testing.assert_allclose(grad, ref, rtol=tol, atol=tol * np.abs(ref).max())
    np.testing.assert_allclose(np.asarray(loss), tl.detach().numpy(), rtol=tol,
                               atol=tol * np.abs(tl.detach().numpy()).max())
