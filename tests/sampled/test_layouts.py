"""Sampled softmax and NCE layouts: strided, Fortran and negative-stride weights / inputs /
labels, float16 / integer / mixed dtypes, read-only arrays, 1-D labels, zero sizes (empty
batch, no samples, dim 0)."""

import functools

import numpy as np
import pytest

from helpers import SAMPLED_FUNCS, SAMPLED_MODES, sampled_call, sampled_problem
from reference import sampled as ref


@pytest.mark.parametrize("mode", SAMPLED_MODES)
def test_any_strides_and_dtypes_give_the_same_result(rng, mode):
    W, b, lab, X, sv = sampled_problem(rng, N=6, D=4, C=20, S=7, nt=2)
    want = sampled_call(mode, True, W, b, lab, X, sv)
    big = np.zeros((20, 12))
    big[:, ::3] = W
    Wf = np.asfortranarray(W)
    Wneg = W[::-1][::-1] if False else np.flipud(np.flipud(W).copy())  # negative row stride view
    assert Wneg.strides[0] < 0
    for W2, b2, X2, lab2 in [(big[:, ::3], b, X, lab), (Wf, b[::-1].copy()[::-1], np.asfortranarray(X), lab.T.copy().T),
                             (Wneg, b, X[::-1].copy()[::-1], lab.astype(np.int32))]:
        got = sampled_call(mode, True, W2, b2, lab2, X2, sv)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
        for name in ("inputs", "weights", "biases", "ids"):
            np.testing.assert_allclose(getattr(got[1], name), getattr(want[1], name), rtol=1e-13, atol=1e-15)
    # float16 / integers compute in float64; a float32 weight with float64 inputs: float64
    got16 = sampled_call(mode, False, W.astype(np.float16), b.astype(np.float16), lab, X.astype(np.float16), sv)
    assert got16.dtype == np.float64
    mixed = sampled_call(mode, False, W.astype(np.float32), b, lab, X, sv)
    assert mixed.dtype == np.float64
    ro = W.copy()
    ro.flags.writeable = False
    np.testing.assert_allclose(sampled_call(mode, False, ro, b, lab, X, sv), want[0], rtol=1e-14)


@pytest.mark.parametrize("mode", SAMPLED_MODES)
def test_one_dimensional_labels_equal_num_true_one(rng, mode):
    W, b, lab, X, sv = sampled_problem(rng, nt=1)
    a = sampled_call(mode, False, W, b, lab, X, sv, reduction="none")
    f = SAMPLED_FUNCS[mode][0]
    c = f(W, b, lab[:, 0], X, sv[0].size, W.shape[0], sampled_values=(sv[0], sv[1][:, 0], sv[2]),
          reduction="none", remove_accidental_hits=True)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("mode", SAMPLED_MODES)
def test_zero_sizes_match_reference(rng, mode):
    W, b, lab, X, sv = sampled_problem(rng, nt=2)
    f, fg = (functools.partial(g, remove_accidental_hits=True) for g in SAMPLED_FUNCS[mode])
    # empty batch
    e = (sv[0], np.zeros((0, 2), np.float32), sv[2])
    assert np.isnan(f(W, b, lab[:0], X[:0], sv[0].size, 30, num_true=2, sampled_values=e))
    assert f(W, b, lab[:0], X[:0], sv[0].size, 30, num_true=2, sampled_values=e, reduction="sum") == 0
    loss, g = fg(W, b, lab[:0], X[:0], sv[0].size, 30, num_true=2, sampled_values=e, reduction="sum")
    assert g.inputs.shape == (0, 5) and g.weights.shape == (g.ids.size, 5)
    np.testing.assert_array_equal(g.weights, 0)
    # no samples: only the true classes
    z = (np.zeros(0, np.int64), sv[1], np.zeros(0, np.float32))
    loss, g = fg(W, b, lab, X, 0, 30, num_true=2, sampled_values=z, reduction="none")
    np.testing.assert_allclose(loss, ref.loss(mode, W, b, lab, X, z), rtol=1e-13)
    gx, gw, gb = ref.grads(mode, W, b, lab, X, z)
    np.testing.assert_allclose(g.inputs, gx, rtol=1e-12, atol=1e-14)
    # dim 0
    loss, g = fg(W[:, :0], b, lab, X[:, :0], sv[0].size, 30, num_true=2, sampled_values=sv,
                 reduction="none")
    np.testing.assert_allclose(loss, ref.loss(mode, W[:, :0], b, lab, X[:, :0], sv), rtol=1e-13)
    assert g.weights.shape == (g.ids.size, 0)
