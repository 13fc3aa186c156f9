"""Sampled softmax and NCE on every SIMD path compiled into this build, forced with
FASTSMCE_SIMD in a subprocess (helpers.assert_battery_passes): loss and gradients against the
float64 reference for sizes off the vector widths (D = 37, S = 45), unique draws or not,
float32 and float64."""

import numpy as np
import pytest

import fastsmce
from fastsmce import sampling
from helpers import SIMD_COMPILED, assert_battery_passes
from reference import sampled as ref

pytestmark = pytest.mark.simd


@pytest.mark.parametrize("path", SIMD_COMPILED)
def test_every_simd_path_matches_reference(path):
    assert_battery_passes(path, __file__, timeout=300)


def simd_battery():
    """run inside the subprocess: raises on the first mismatch"""
    rng = np.random.default_rng(3)
    for dt in ("float32", "float64"):
        # sizes off the vector widths: D = 37, S = 45, ks = 45
        W = rng.standard_normal((200, 37)).astype(dt)
        b = rng.standard_normal(200).astype(dt)
        X = rng.standard_normal((19, 37)).astype(dt)
        lab = rng.integers(0, 200, (19, 2))
        tol = dict(rtol=1e-5, atol=1e-5) if dt == "float32" else dict(rtol=1e-12, atol=1e-13)
        for uq in (True, False):
            sv = sampling.log_uniform_candidate_sampler(lab, 2, 45, uq, 200, seed=1)
            for mode, f in (("softmax", fastsmce.sampled_softmax_loss_with_grad),
                            ("nce", fastsmce.nce_loss_with_grad)):
                loss, g = f(W, b, lab, X, 45, 200, num_true=2, sampled_values=sv, reduction="none",
                            remove_accidental_hits=True)
                np.testing.assert_allclose(loss, ref.loss(mode, W, b, lab, X, sv), **tol)
                rx, rw, rb = ref.grads(mode, W, b, lab, X, sv)
                np.testing.assert_allclose(g.inputs, rx, **tol)
                np.testing.assert_allclose(g.weights.reshape(g.ids.size, -1), rw[g.ids], **tol)
                np.testing.assert_allclose(g.biases, rb[g.ids], **tol)
    return []
