"""cross-entropy properties (hypothesis): gradient rows sum to zero, the loss is not
negative, and it is invariant under a shift of the logits."""

import numpy as np
from hypothesis import given, settings, strategies as st

import fastsmce
from helpers import xent_case


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 20), c=st.integers(1, 300), seed=st.integers(0, 2**31),
       scale=st.sampled_from([0.1, 1.0, 30.0]), prob=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_grad_rows_sum_to_zero(n, c, seed, scale, prob, dtype):
    x, t, _ = xent_case((n, c), dtype=dtype, kind="prob" if prob else "int", seed=seed, scale=scale)
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="sum")
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(grad.astype(np.float64).sum(1), 0, atol=tol)
    assert np.all(np.asarray(loss) >= -tol * n)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 10), c=st.integers(2, 100), seed=st.integers(0, 2**31),
       shift=st.floats(-50, 50))
def test_loss_is_shift_invariant(n, c, seed, shift):
    x, t, w = xent_case((n, c), kind="int", seed=seed)
    a = fastsmce.cross_entropy(x, t, weight=w, reduction="none", label_smoothing=0.1)
    b = fastsmce.cross_entropy(x + shift, t, weight=w, reduction="none", label_smoothing=0.1)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * (1 + abs(shift)))
