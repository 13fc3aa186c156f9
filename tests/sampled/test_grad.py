"""Sampled softmax and NCE: d loss / d (inputs, weights, biases) against central finite
differences of the loss."""

import numpy as np
import pytest

from helpers import SAMPLED_MODES, central_fd, sampled_call, sampled_problem
from reference import sampled as ref


@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("nt", [1, 3])
@pytest.mark.parametrize("rah", [True, False])
@pytest.mark.parametrize("unique", [True, False])
def test_grads_match_finite_differences(rng, mode, nt, rah, unique):
    W, b, lab, X, sv = sampled_problem(rng, N=4, D=3, C=12, S=5, nt=nt, unique=unique)
    kw = dict(remove_accidental_hits=rah, reduction="mean")

    def f(W_, b_, X_):
        return float(sampled_call(mode, False, W_, b_, lab, X_, sv, **kw))

    _, g = sampled_call(mode, True, W, b, lab, X, sv, **kw)
    dw, db = ref.dense(g, W.shape[0])
    args = {"W_": W, "b_": b, "X_": X}
    for name, grad in (("X_", g.inputs), ("W_", dw), ("b_", db)):
        num = central_fd(lambda v, name=name: f(**{**args, name: v}), args[name])
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)
