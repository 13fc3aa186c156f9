"""The kernels' vectorised exp (``fastsmce._core._exp``): <= 2 ulp (float32) / <= 1 ulp (float64)
against a correctly rounded reference for ln(smallest normal) <= x <= 0, exactly 0 below,
NaN -> NaN, -inf -> 0.  In the spirit of numpy's test_umath_accuracy.

The float32 check sweeps every 97th bit pattern of [-104, 0] by default and every float32 of
[-104, 0] (about 1.1e9 values) when FASTSMCE_FULL_ULP=1.  The same checks run for every SIMD path
through tests/softmax/test_simd_paths.py; the checkers are in tests/reference/exp.py.  The
plain parallel copy that the benchmark uses as its roofline is checked here too."""

import os

import numpy as np
import pytest

import fastsmce
from fastsmce import _core

from reference.exp import (
    F32_CUTOFF,
    F64_CUTOFF,
    check_exp_f32_patterns,
    check_exp_f64,
    exp_f64_points,
)

F32_LO_BITS = 0x80000000  # -0.0
F32_HI_BITS = 0xC2D00000  # -104.0


def test_exp_f32_cutoff_constant_is_ln_of_smallest_normal():
    # ln(2**-126) as a float64: float32 values below it have exp() subnormal or zero
    assert F32_CUTOFF == np.log(np.float64(np.finfo(np.float32).tiny))
    assert np.float32(-104.0).view(np.uint32) == F32_HI_BITS


def test_exp_f32_strided_sweep_within_2_ulp():
    """Every 97th float32 in [-104, 0] (11.6M values), plus both neighbours of the cut-off."""
    bits = np.arange(F32_LO_BITS, F32_HI_BITS + 1, 97, dtype=np.uint32)
    fails = check_exp_f32_patterns(_core._exp, bits)
    assert not fails, "\n".join(fails)


def test_exp_f32_special_points():
    c = np.float32(F32_CUTOFF)
    pts = [0.0, -0.0, -1e-45, -1e-38, -1e-8, -0.5, -np.log(2), -1.0, -10.0, -87.0,
           float(np.nextafter(c, np.float32(0))), float(c), float(np.nextafter(c, np.float32(-1))),
           -87.5, -88.0, -88.7, -89.0, -100.0, -103.9, -104.0, -150.0, -1e4, -3.4e38]
    x = np.array(pts, np.float32)
    for k in range(-125, 1):  # exact multiples of ln 2 and their neighbours
        v = np.float32(k * np.log(2.0))
        x = np.append(x, [np.nextafter(v, np.float32(-200)), v, np.nextafter(v, np.float32(0))])
    x = x[x <= 0]
    fails = check_exp_f32_patterns(_core._exp, x.view(np.uint32))
    assert not fails, "\n".join(fails)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_nan_and_infinities(dtype):
    x = np.array([np.nan, -np.inf, -np.inf, np.nan, -1.0, 0.0, -np.inf, np.nan, -2.0] * 5, dtype)
    y = _core._exp(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert np.isnan(y[np.isnan(x)]).all()
    assert (y[np.isneginf(x)] == 0).all()
    assert (y[x == 0] == 1).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_every_length_and_tail(dtype):
    """Vector tails: every length 0..70 gives the same values as the long call."""
    rng = np.random.default_rng(5)
    big = -rng.uniform(0, 80, 1000).astype(dtype)
    full = _core._exp(big)
    for n in range(0, 71):
        np.testing.assert_array_equal(_core._exp(big[:n].copy()), full[:n])


def test_exp_f64_random_within_1_ulp():
    """10**6 values log-uniform in magnitude over [-708, 0], plus special points."""
    x = exp_f64_points(np.random.default_rng(12345), 10**6)
    fails = check_exp_f64(_core._exp, x)
    assert not fails, "\n".join(fails)


def test_exp_f64_special_points():
    c = F64_CUTOFF
    pts = [0.0, -0.0, -5e-324, -1e-300, -1e-17, -1e-16, -0.5, -np.log(2), -1.0, -700.0, -708.0,
           np.nextafter(c, 0), c, np.nextafter(c, -1), -708.5, -709.0, -709.78, -709.8, -720.0,
           -745.0, -745.2, -746.0, -1000.0, -1e300, -1.7e308]
    x = np.array(pts, np.float64)
    for k in range(-1021, 1):
        v = k * np.log(2.0)
        x = np.append(x, [np.nextafter(v, -1e9), v, np.nextafter(v, 0)])
    x = x[x <= 0]
    fails = check_exp_f64(_core._exp, x)
    assert not fails, "\n".join(fails)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("FASTSMCE_FULL_ULP") != "1",
                    reason="full float32 sweep (~1.1e9 values): set FASTSMCE_FULL_ULP=1")
def test_exp_f32_full_sweep_within_2_ulp():
    fails = []
    chunk = 1 << 24
    for start in range(F32_LO_BITS, F32_HI_BITS + 1, chunk):
        stop = min(start + chunk, F32_HI_BITS + 1)
        fails += check_exp_f32_patterns(_core._exp, np.arange(start, stop, dtype=np.uint32))
        if len(fails) > 20:
            break
    assert not fails, "\n".join(fails)


# ---------------------------------------------------------------------------
# the plain parallel copy used as the benchmark's roofline
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 7, 1000, 32768, 1 << 20, (1 << 22) + 13])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_copy_copies_every_byte(n, dtype):
    rng = np.random.default_rng(n)
    src = rng.integers(0, 255, n * np.dtype(dtype).itemsize, dtype=np.uint8).view(dtype)
    dst = np.zeros_like(src)
    for threads in (1, 2):
        fastsmce.set_num_threads(threads)
        dst[...] = 0
        _core._copy(src, dst)
        np.testing.assert_array_equal(dst.view(np.uint8), src.view(np.uint8))


def test_copy_works_on_2d_contiguous_arrays():
    src = np.arange(3000 * 700, dtype=np.float32).reshape(3000, 700)
    dst = np.empty_like(src)
    _core._copy(src, dst)
    np.testing.assert_array_equal(dst, src)
