"""Sampled softmax and NCE threads: fastsmce's own thread count never changes a bit; SciPy's
BLAS thread count may change only the rounding of the products."""

import numpy as np
import pytest

import fastsmce
from helpers import SAMPLED_MODES, sampled_call, sampled_problem
from fastsmce import _core


@pytest.mark.threads
@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("unique", [True, False])
def test_one_two_and_three_threads_bit_identical(rng, mode, unique):
    W, b, lab, X, sv = sampled_problem(rng, N=300, D=40, C=5000, S=700, nt=2, dtype=np.float32, unique=unique)
    out = []
    old = _core._set_sampled_parallel_min(0)  # split even this small problem
    try:
        for n in (1, 2, 3):
            fastsmce.set_num_threads(n)
            out.append(sampled_call(mode, True, W, b, lab, X, sv, reduction="none"))
    finally:
        _core._set_sampled_parallel_min(old)
    for o in out[1:]:
        np.testing.assert_array_equal(out[0][0], o[0])
        for name in ("inputs", "ids", "weights", "biases"):
            np.testing.assert_array_equal(getattr(out[0][1], name), getattr(o[1], name))


@pytest.mark.threads
def test_blas_thread_count_changes_only_rounding(rng):
    # the products run in SciPy's BLAS with its own threads (threadpoolctl "blas"): their
    # split may change the last bits, as for any NumPy matmul; fastsmce's own thread
    # count never does (test above)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    W, b, lab, X, sv = sampled_problem(rng, N=256, D=64, C=5000, S=512, nt=1, dtype=np.float32)
    out = []
    for n in (1, 2, 2):
        with threadpoolctl.threadpool_limits(limits=n, user_api="blas"):
            out.append(sampled_call("softmax", True, W, b, lab, X, sv))
    for name in ("inputs", "weights", "biases"):
        np.testing.assert_allclose(getattr(out[0][1], name), getattr(out[1][1], name), rtol=1e-4,
                                   atol=1e-7)
        np.testing.assert_array_equal(getattr(out[1][1], name), getattr(out[2][1], name))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6)
