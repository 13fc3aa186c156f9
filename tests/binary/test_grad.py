"""The binary losses' gradients against central finite differences of their loss-only
functions (BCE with weight and pos_weight, every reduction; focal for several alpha, gamma)."""

import numpy as np
import pytest

import fastsmce
from helpers import FOCAL_PARAMS, REDUCTIONS, bce_case, central_fd

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_grad_matches_finite_differences(reduction, rng):
    x, z = bce_case(rng, (4, 7), np.float64)
    kw = {"weight": rng.random(7) + 0.5, "pos_weight": rng.random((4, 7)) * 2}
    _, grad = bce_g(x, z, reduction=reduction, **kw)
    fd = central_fd(lambda v: bce(v, z, reduction=reduction, **kw), x,
                    elementwise=reduction == "none")
    bad = np.argwhere(~(np.abs(fd - grad) < 1e-7))
    assert not bad.size, [tuple(i) for i in bad]


@pytest.mark.parametrize("alpha,gamma", FOCAL_PARAMS)
@pytest.mark.parametrize("soft", [False, True])
def test_focal_grad_matches_finite_differences(soft, alpha, gamma, rng):
    x, z = bce_case(rng, (3, 6), np.float64, soft, scale=3.0)
    _, grad = focal_g(x, z, alpha=alpha, gamma=gamma, reduction="sum")
    fd = central_fd(lambda v: focal(v, z, alpha=alpha, gamma=gamma, reduction="sum"), x)
    ok = np.abs(fd - grad) < 1e-7 * np.maximum(1, np.abs(fd))
    bad = np.argwhere(~ok)
    assert not bad.size, [(tuple(i), fd[tuple(i)], grad[tuple(i)]) for i in bad]
