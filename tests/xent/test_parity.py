"""cross-entropy parity with torch.nn.functional.cross_entropy (loss and autograd gradient) for
every option; skipped when torch is not installed."""

import itertools

import numpy as np
import pytest

import fastsmce
from helpers import REDUCTIONS, XENT_ATOL, XENT_RTOL, xent_case


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["int", "prob"])
def test_matches_torch_for_every_option(dtype, kind, torch):
    F = torch.nn.functional
    for shape, axis in [((13, 17), 1), ((6, 1000), 1), ((3, 5, 4, 6), 1), ((2, 70001), 1)]:
        x, t, w = xent_case(shape, axis=axis, dtype=dtype, kind=kind, ignore_every=3 if kind == "int" else 0,
                       seed=shape[1])
        for use_w, eps, red, ign in itertools.product((False, True), (0.0, 0.15), REDUCTIONS,
                                                       (-100, 2)):
            if kind == "prob" and ign != -100:
                continue
            kw = dict(weight=w if use_w else None, label_smoothing=eps, reduction=red, ignore_index=ign)
            if kind == "int" and ign != -100:
                t = np.where(t == -100, ign, t)
            loss, grad = fastsmce.cross_entropy_with_grad(x, t, axis=axis, **kw)
            xt = torch.tensor(x, requires_grad=True)
            tt = torch.tensor(t)
            lt = F.cross_entropy(xt, tt, weight=None if w is None or not use_w else torch.tensor(w),
                                 label_smoothing=eps, reduction=red, ignore_index=ign)
            lt.sum().backward() if red == "none" else lt.backward()
            scale = 50 * (np.prod(shape) / shape[1] if red == "sum" else 1)
            np.testing.assert_allclose(np.asarray(loss, np.float64), lt.detach().numpy().astype(np.float64),
                                       rtol=XENT_RTOL[dtype] * 5, atol=XENT_ATOL[dtype] * scale)
            np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=XENT_RTOL[dtype] * 5, atol=XENT_ATOL[dtype] * 5)
