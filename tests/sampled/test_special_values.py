"""Sampled softmax and NCE special values: a NaN input spoils only its example; large and
infinite logits; NCE's sigmoid terms over the whole float range."""

import numpy as np
import pytest

import fastsmce
from helpers import SAMPLED_MODES, sampled_call, sampled_problem


@pytest.mark.parametrize("mode", SAMPLED_MODES)
def test_nan_input_gives_nan_loss_of_that_example_only(rng, mode):
    W, b, lab, X, sv = sampled_problem(rng)
    X[2, 1] = np.nan
    loss = sampled_call(mode, False, W, b, lab, X, sv, reduction="none")
    assert np.isnan(loss[2]) and np.isfinite(np.delete(loss, 2)).all()


def test_nce_large_logits_stay_finite(rng):
    W, b, lab, X, sv = sampled_problem(rng)
    loss, g = fastsmce.nce_loss_with_grad(W * 1e3, b, lab, X, sv[0].size, 30, sampled_values=sv)
    assert np.isfinite(loss) and np.isfinite(g.inputs).all() and np.isfinite(g.weights).all()


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 3e-7), (np.float64, 2e-15)])
def test_nce_sigmoid_terms_accurate_over_the_whole_range(dtype, rtol):
    # one example, dim 1, input 1: each sampled logit is its class's weight, so every
    # weight-row gradient is sigmoid(logit) (NCE's label 0), computed in the vector path
    xs = np.concatenate([np.linspace(-90, 90, 4001), [-1e-30, 0.0, 1e-30, 1e4, -1e4]])
    C = xs.size + 1
    W = np.concatenate([[0.5], xs]).astype(dtype)[:, None]
    b = np.zeros(C, dtype)
    sampled = np.arange(1, C)
    sv = (sampled, np.ones((1, 1)), np.ones(C - 1))
    loss, g = fastsmce.nce_loss_with_grad(W, b, [[0]], np.ones((1, 1), dtype), C - 1, C,
                                          sampled_values=sv, subtract_log_q=False, reduction="sum")
    x = W[1:, 0].astype(np.float64)
    sig = np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))
    rows = dict(zip(g.ids.tolist(), g.weights[:, 0].astype(np.float64)))
    got = np.array([rows[k] for k in sampled])
    # below the normal range exp is flushed to 0 (DESIGN.md section 3): so is sigmoid
    np.testing.assert_allclose(got, sig, rtol=rtol, atol=np.finfo(dtype).tiny)
    want = (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).sum()
    x0 = float(W[0, 0])
    want += max(x0, 0) - x0 + np.log1p(np.exp(-abs(x0)))
    np.testing.assert_allclose(float(loss), want, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_nce_infinite_logit_gives_infinite_loss(rng):
    W, b, lab, X, sv = sampled_problem(rng, N=2, nt=1)
    b = b.copy()
    b[sv[0][3]] = np.inf  # a sampled class with +inf logit: infinite loss, gradient 1
    loss = fastsmce.nce_loss(W, b, lab, X, sv[0].size, 30, sampled_values=sv, reduction="none")
    assert np.isposinf(loss).all()
