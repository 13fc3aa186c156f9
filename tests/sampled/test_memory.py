"""Sampled softmax and NCE memory: a step over 400 000 classes allocates far less than one float
per class."""

import tracemalloc

import numpy as np
import pytest

from helpers import SAMPLED_FUNCS, SAMPLED_MODES


@pytest.mark.parametrize("mode", SAMPLED_MODES)
def test_no_num_classes_sized_buffer_is_allocated(rng, mode):
    C, D = 400_000, 16
    W = np.zeros((C, D), np.float32)
    b = np.zeros(C, np.float32)
    X = rng.standard_normal((8, D)).astype(np.float32)
    lab = rng.integers(0, C, (8, 1))
    f = SAMPLED_FUNCS[mode][1]
    f(W, b, lab, X, 64, C, seed=1)  # warm-up (BLAS loading)
    tracemalloc.start()
    f(W, b, lab, X, 64, C, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < C * 4 // 4, peak  # far below one float per class
