"""Every SIMD path, forced with FASTSMCE_SIMD in a subprocess (helpers.assert_battery_passes),
meets the softmax family's accuracy bounds and is thread-count deterministic: all five
functions on many shapes (SIMD tails n = 1..33, 1000, 70000, columns, Fortran order), NaN /
+-inf in the vector tails, the exp ulp sweep, and 1-vs-2-thread bit identity.  The paths are
those compiled into this build.  Dispatch itself (default path, fallbacks) is tested in
common/test_simd_dispatch.py."""

import numpy as np
import pytest

import fastsmce
from fastsmce import _core
from helpers import FUNCS, SIMD_COMPILED, assert_battery_passes, call, check, gen_inputs
from reference.exp import check_exp_f32_patterns, check_exp_f64, exp_f64_points

pytestmark = pytest.mark.simd


@pytest.mark.parametrize("path", SIMD_COMPILED)
def test_forced_simd_path_meets_accuracy_bounds(path):
    assert_battery_passes(path, __file__, timeout=300)


# ---------------------------------------------------------------------------
# the battery, run inside the subprocess
# ---------------------------------------------------------------------------

def simd_battery():
    """every check below on the active path; returns the failures"""
    fails = []
    _accuracy(fails)
    _special_tails(fails)
    _exp_ulp(fails)
    _threads(fails)
    return fails


def _collect(fails, label, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except AssertionError as e:
        fails.append(f"{label}: {str(e).splitlines()[0] if str(e) else 'assertion failed'}")


def _accuracy(fails):
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        for name in FUNCS:
            gens = gen_inputs(name, rng, dtype)
            cases = [((3, n), -1) for n in range(1, 34)]
            cases += [((n, 5), 0) for n in (1, 2, 7, 16, 17, 33)]
            cases += [((9, 1), 0), ((33, 31), 0), ((4, 1000), -1), ((1000, 4), 0),
                      ((2, 70000), -1), ((64, 10), -1), ((300, 257), 0), ((300, 257), -1)]
            for shape, axis in cases:
                args = [g(shape) for g in gens]
                _collect(fails, f"{name} {np.dtype(dtype).name} {shape} axis={axis}", check,
                         name, args, axis=axis)
                if shape[0] > 1 and shape[1] > 1:  # strided rows: the gathered-row path
                    args = [np.asfortranarray(a) for a in args]
                    _collect(fails, f"{name} {np.dtype(dtype).name} F{shape} axis={axis}",
                             check, name, args, axis=axis)


def _payload_nan(dtype, low=1):
    """a quiet NaN with `low` in its payload's low bits (the default NaN has none)"""
    if np.dtype(dtype) == np.float32:
        return np.array([0x7FC00000 | low], np.uint32).view(np.float32)[0]
    return np.array([0x7FF8000000000000 | low], np.uint64).view(np.float64)[0]


def _special_tails(fails):
    """NaN, +inf and -inf placed in the vector tail of every row length 1..33 (and columns)."""
    rng = np.random.default_rng(8)
    for dtype in (np.float32, np.float64):
        for n in range(1, 34):
            x = rng.standard_normal((6, n)).astype(dtype)
            x[0, -1] = np.nan
            x[1, -1] = np.inf
            x[2, :] = -np.inf
            x[3, -1] = -np.inf
            x[4, 0] = -np.inf
            x[5, n // 2] = _payload_nan(dtype)  # not the default NaN: low payload bits set
            for name in ("softmax", "log_softmax", "logsumexp"):
                _collect(fails, f"{name} special row n={n} {np.dtype(dtype).name}", check,
                         name, [x], axis=-1)
                _collect(fails, f"{name} special column n={n} {np.dtype(dtype).name}", check,
                         name, [np.ascontiguousarray(x.T)], axis=0)


def _exp_ulp(fails):
    bits = np.arange(0x80000000, 0xC2D00000 + 1, 97, dtype=np.uint32)
    fails += [f"exp f32: {m}" for m in check_exp_f32_patterns(_core._exp, bits)]
    x = exp_f64_points(np.random.default_rng(9), 200000)
    fails += [f"exp f64: {m}" for m in check_exp_f64(_core._exp, x)]


def _threads(fails):
    rng = np.random.default_rng(10)
    for dtype in (np.float32, np.float64):
        for shape, axis in (((4096, 100), -1), ((3, 300001), -1), ((1000, 300), 0)):
            for name in FUNCS:
                args = [g(shape) for g in gen_inputs(name, rng, dtype)]
                res = []
                for t in (1, 2):
                    fastsmce.set_num_threads(t)
                    res.append(call(name, args, axis))
                fastsmce.set_num_threads(None)
                if not np.array_equal(res[0], res[1], equal_nan=True):
                    fails.append(f"{name} {np.dtype(dtype).name} {shape} axis={axis}: 1 and 2 "
                                 f"threads differ")
