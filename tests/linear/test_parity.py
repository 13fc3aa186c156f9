"""Parity with PyTorch: torch.nn.functional.linear_cross_entropy (where this PyTorch has it)
and cross_entropy of linear, through autograd, for every option PyTorch has."""

import numpy as np
import pytest

import fastsmce

# each test on every path: the default, chunks of rows, two sweeps over blocks (conftest.py)
pytestmark = pytest.mark.usefixtures("lce_path")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.1}, {"weight": True},
                                  {"weight": True, "label_smoothing": 0.3}])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("ignored", [0, 3, "all"])
def test_matches_torch_autograd(torch, dtype, reduction, opts, bias, ignored, rng):
    F = torch.nn.functional
    N, D, V = 12, 6, 17
    X = rng.standard_normal((N, D)).astype(dtype)
    W = rng.standard_normal((V, D)).astype(dtype)
    b = rng.standard_normal(V).astype(dtype) if bias else None
    t = rng.integers(0, V, N)
    if ignored == "all":
        t[:] = -100
    elif ignored:
        t[::ignored] = -100
    kw = {"reduction": reduction, "label_smoothing": opts.get("label_smoothing", 0.0)}
    w = rng.uniform(0.3, 2.0, V).astype(dtype) if opts.get("weight") else None
    xt = torch.tensor(X, requires_grad=True)
    wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if bias else None
    fn = getattr(F, "linear_cross_entropy", None)
    if fn is not None:
        out = fn(xt, wt, torch.tensor(t), linear_bias=bt, weight=None if w is None else torch.tensor(w),
                 ignore_index=-100, **kw)
    else:
        out = F.cross_entropy(F.linear(xt, wt, bt), torch.tensor(t),
                              weight=None if w is None else torch.tensor(w), **kw)
    out.sum().backward()
    loss, g = fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b, weight=w, **kw)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss, out.detach().numpy(), **tol)
    np.testing.assert_allclose(g.input, xt.grad.numpy(), **tol)
    np.testing.assert_allclose(g.linear_weight, wt.grad.numpy(), **tol)
    if bias:
        np.testing.assert_allclose(g.linear_bias, bt.grad.numpy(), **tol)
