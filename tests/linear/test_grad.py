"""The analytic reference gradients of the linear cross-entropy (which test_values checks
fastsmce against) agree with central finite differences of the reference loss, and
fastsmce's float64 gradients agree with finite differences of fastsmce's own loss."""

import numpy as np
import pytest

import fastsmce
from helpers import central_fd
from reference.linear import linear_xent_grad_ref, linear_xent_ref

# each test on every path: the default, chunks of rows, two sweeps over blocks (conftest.py)
pytestmark = pytest.mark.usefixtures("lce_path")

OPTS = [{}, {"label_smoothing": 0.15, "weight": True}, {"z_loss": 0.05}, {"softcap": 1.5},
        {"z_loss": 0.2, "softcap": 3.0, "label_smoothing": 0.1}]


def case(rng, N=5, D=3, V=6):
    X = rng.standard_normal((N, D))
    W = rng.standard_normal((V, D))
    b = rng.standard_normal(V)
    t = rng.integers(0, V, N)
    t[1] = -100
    return X, W, b, t


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("opts", OPTS)
def test_grad_matches_finite_differences(reduction, opts, rng):
    X, W, b, t = case(rng)
    kw = dict(opts, reduction=reduction)
    if kw.pop("weight", False):
        kw["weight"] = rng.uniform(0.5, 2.0, W.shape[0])

    def f_ref(name):
        def f(v):
            args = {"X": X, "W": W, "b": b, name: v}
            return np.sum(linear_xent_ref(args["X"], args["W"], t, b=args["b"], **kw))
        return f

    def f_fast(name):
        def f(v):
            args = {"X": X, "W": W, "b": b, name: v}
            return np.sum(fastsmce.linear_cross_entropy(args["X"], args["W"], t,
                                                        linear_bias=args["b"], **kw))
        return f

    ref = linear_xent_grad_ref(X, W, t, b=b, **kw)
    _, g = fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b, **kw)
    for name, r, got in zip(("X", "W", "b"), ref, g):
        v = {"X": X, "W": W, "b": b}[name]
        np.testing.assert_allclose(r, central_fd(f_ref(name), v), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got, central_fd(f_fast(name), v), rtol=1e-6, atol=1e-8)
