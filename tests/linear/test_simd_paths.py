"""The linear cross-entropy on every SIMD path compiled into this build, forced with
FASTSMCE_SIMD in a subprocess: its softcap (vectorised tanh), z-loss gradient and logsumexp
run in the cross-entropy kernel of each path, and in the block kernels of the two-sweep
path; every option, tails of V across the vector
widths, and huge logits against the float64 reference."""

import os

import numpy as np
import pytest

from helpers import SIMD_COMPILED, assert_battery_passes, load_module

pytestmark = pytest.mark.simd
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("path", SIMD_COMPILED)
def test_every_simd_path_matches_reference(path):
    assert_battery_passes(path, __file__, timeout=600)


def simd_battery():
    """run inside the subprocess: the tests raise on the first failure"""
    from fastsmce import _core

    values = load_module(os.path.join(HERE, "test_values.py"))
    rng = np.random.default_rng(11)
    for path, block, budget in ((0, 512, 40 << 20), (1, 512, 8), (2, 7, 8 * 7 * 3)):
        # every path (tests/linear/conftest.py): auto, chunks of rows, blocks of classes
        _core._set_linear("path", path)
        _core._set_linear("block", block)
        _core._set_linear("budget", budget)
        _battery_once(values, rng)
    return []


def _battery_once(values, rng):
    for dt in (np.float32, np.float64):
        for V in (1, 5, 8, 15, 16, 17, 33, 300):
            X, W, b, t = values.problem(rng, N=9, D=5, V=V, dtype=dt, ignore_every=4)
            for red in ("none", "mean", "sum"):
                for kw in ({}, {"softcap": 2.0, "z_loss": 0.05}, {"label_smoothing": 0.2, "softcap": 7.0}):
                    values.check(X, W, b, t, dt, reduction=red, **kw)
        values.test_huge_logits_stay_finite(dt, rng)
