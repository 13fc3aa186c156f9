"""filter_eps: the gradient products of a tile (128 rows x 512 classes; smaller tiles here)
are skipped when every |d loss / d logit| in it is below filter_eps x the reduction's scale.
The loss stays exact; the gradients lose exactly the skipped entries (bounded); 0 keeps
every tile; bad values raise."""

import numpy as np
import pytest

import fastsmce
from fastsmce import _core

lce_g = fastsmce.linear_cross_entropy_with_grad


def peaked(rng, N=64, D=64, V=300, dtype=np.float64):
    """trained-model-like logits: each input points at its target's row, the bias is a
    Zipf log-prior, so that most probabilities are tiny"""
    W = rng.standard_normal((V, D)).astype(dtype)
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    prior = 1.0 / np.arange(1, V + 1)
    b = np.log(prior / prior.sum()).astype(dtype)
    t = rng.choice(V, N, p=prior / prior.sum())
    X = (16.0 * W[t] + 0.3 * rng.standard_normal((N, D))).astype(dtype)
    return X, W, b, t


@pytest.fixture
def small_tiles():
    old = (_core._set_linear("block", 32), _core._set_linear("filter_rows", 8))
    yield
    _core._set_linear("block", old[0])
    _core._set_linear("filter_rows", old[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_zero_keeps_every_tile(dtype, reduction, rng, small_tiles):
    X, W, b, t = peaked(rng, dtype=dtype)
    t[::7] = -100
    exact = lce_g(X, W, t, linear_bias=b, reduction=reduction, label_smoothing=0.05)
    got = lce_g(X, W, t, linear_bias=b, reduction=reduction, label_smoothing=0.05, filter_eps=0.0)
    tiles, skipped = _core._linear_filter_stats()
    assert tiles == 8 * 10 and skipped == 0
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[0], exact[0], rtol=tol)
    for g, e in zip(got[1], exact[1]):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol * np.abs(e).max())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("opts", [{}, {"weight": True}, {"z_loss": 1e-3, "softcap": 30.0}])
def test_skipped_entries_bound_the_gradient_error(reduction, opts, rng, small_tiles):
    X, W, b, t = peaked(rng)
    kw = dict(opts)
    if kw.pop("weight", False):
        kw["weight"] = rng.uniform(0.5, 2.0, W.shape[0])
    eps = 1e-4
    loss, g = lce_g(X, W, t, linear_bias=b, reduction=reduction, filter_eps=eps, **kw)
    tiles, skipped = _core._linear_filter_stats()
    assert skipped > tiles // 2, (tiles, skipped)      # peaked: most tiles go
    loss0, g0 = lce_g(X, W, t, linear_bias=b, reduction=reduction, **kw)
    assert loss == pytest.approx(loss0, rel=1e-12)       # the loss is exact
    # every skipped entry of d loss / d logits is below eps * scale
    scale = 1.0
    if reduction == "mean":
        scale = 1.0 / (kw["weight"][t].sum() if "weight" in kw else len(t))
    bound = eps * scale
    V = W.shape[0]
    assert np.abs(g.input - g0.input).max() <= bound * V * np.abs(W).max() * X.shape[1] ** 0.5
    assert np.abs(g.linear_weight - g0.linear_weight).max() <= bound * X.shape[0] * np.abs(X).max()
    assert np.abs(g.linear_bias - g0.linear_bias).max() <= bound * X.shape[0]


def test_a_huge_threshold_skips_everything(rng, small_tiles):
    X, W, b, t = peaked(rng)
    loss, g = lce_g(X, W, t, linear_bias=b, filter_eps=1e9)
    tiles, skipped = _core._linear_filter_stats()
    assert tiles == skipped > 0
    assert not g.input.any() and not g.linear_weight.any() and not g.linear_bias.any()
    assert loss == pytest.approx(fastsmce.linear_cross_entropy(X, W, t, linear_bias=b), rel=1e-12)


def test_nan_rows_keep_their_tiles(rng, small_tiles):
    X, W, b, t = peaked(rng)
    X[3, 0] = np.nan
    loss, g = lce_g(X, W, t, linear_bias=b, filter_eps=1e9)
    assert np.isnan(loss) and np.isnan(g.input[3]).all()


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf")])
def test_bad_values_raise(bad, rng):
    X, W, b, t = peaked(rng, N=4, V=10)
    with pytest.raises(ValueError, match="filter_eps"):
        lce_g(X, W, t, filter_eps=bad)


def test_non_number_raises(rng):
    X, W, b, t = peaked(rng, N=4, V=10)
    with pytest.raises(TypeError, match="filter_eps"):
        lce_g(X, W, t, filter_eps="1e-3")
