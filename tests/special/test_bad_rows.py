"""The rows fastsmce.special hands to SciPy: fastsmce._core._rows_flag (one parallel pass
over the kernels' output, on the floats' bits) flags exactly the rows NumPy's test flags --
a value not > 0 for softmax, a NaN for log_softmax -- for every special value, NaN payload,
row length (long rows are checked in several chunks) and thread count; and the functions
give SciPy's rows on both the fast path (C order along the last axis) and NumPy's."""

import numpy as np
import pytest

import fastsmce
from fastsmce import _core
import fastsmce.special as fsp

sps = pytest.importorskip("scipy.special")

BITS = {np.float32: np.uint32, np.float64: np.uint64}
NAN_BITS = {np.float32: [0x7F800001, 0x7FC00000, 0x7FFFFFFF, 0xFF800001, 0xFFFFFFFF],
            np.float64: [0x7FF0000000000001, 0x7FF8000000000000, 0x7FFFFFFFFFFFFFFF,
                         0xFFF0000000000001, 0xFFFFFFFFFFFFFFFF]}


def special_values(dtype):
    fi = np.finfo(dtype)
    plain = np.array([0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny,
                      -fi.tiny, 1.0, -1.0, fi.max, -fi.max, np.inf, -np.inf], dtype)
    return np.concatenate([plain, np.array(NAN_BITS[dtype], BITS[dtype]).view(dtype)])


def want(x, kind):
    return np.isnan(x).any(axis=1) if kind == "nan" else np.logical_not(x > 0).any(axis=1)


@pytest.mark.parametrize("kind", ["not_positive", "nan"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("cols", [1, 3, 17, 1000, 16384, 16385, 40000])
def test_rows_flag_is_numpys_test(kind, dtype, threads, cols, rng):
    fastsmce.set_num_threads(threads)
    vals = special_values(dtype)
    x = (rng.random((2 * len(vals) + 5, cols)) + 0.5).astype(dtype)
    for r, v in enumerate(vals):        # one special value a row, anywhere in it
        x[2 * r, rng.integers(cols)] = v
    np.testing.assert_array_equal(_core._rows_flag(x, kind), want(x, kind))


@pytest.mark.parametrize("kind", ["not_positive", "nan"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_flag_on_random_bits(kind, dtype, rng):
    """every bit pattern class, one float a row"""
    info = np.iinfo(BITS[dtype])
    x = rng.integers(0, info.max, (100_000, 1), BITS[dtype], endpoint=True).view(dtype)
    np.testing.assert_array_equal(_core._rows_flag(x, kind), want(x, kind))


def test_rows_flag_refuses_what_it_does_not_read():
    for bad in (np.zeros((3, 4))[:, ::2], np.zeros(4), np.zeros((2, 2), np.float16),
                np.zeros((2, 2), ">f8"), np.zeros((2, 2), np.int64)):
        with pytest.raises(ValueError):
            _core._rows_flag(bad, "nan")
    with pytest.raises(ValueError):
        _core._rows_flag(np.zeros((2, 2)), "zero")
    assert _core._rows_flag(np.zeros((3, 0)), "nan").tolist() == [False] * 3


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout, axis", [("C", -1), ("C", None), ("C", 0), ("F", 1), ("F", 0)])
def test_rows_scipy_defines_otherwise_are_scipys(name, dtype, layout, axis, rng):
    """subnormal results, infinities and NaNs among ordinary rows, on the fast check (C order
    along the last axis, and axis=None) and on NumPy's (the other layouts)"""
    x = rng.standard_normal((40, 30)).astype(dtype)
    big = -np.log(np.finfo(dtype).tiny) + 5      # exp(-big) is subnormal
    x[3, :2] = [0.0, -big]
    x[7, 4] = np.inf
    x[11, 5] = np.nan
    x[13, :] = -np.inf
    x[17, 2:4] = [np.inf, -np.inf]
    x[:, 9] = np.where(np.arange(40) % 5 == 0, -big, x[:, 9])
    x = np.asfortranarray(x) if layout == "F" else x
    with np.errstate(all="ignore"):
        ref = getattr(sps, name)(x, axis=axis)
        exact = getattr(sps, name)(x.astype(np.float64), axis=axis)
    got = getattr(fsp, name)(x, axis=axis)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(got == 0, ref == 0)
    ok = np.isfinite(exact)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    assert (np.abs(got[ok] - exact[ok]) <= tol * np.maximum(np.abs(exact[ok]), 1.0)).all()
    np.testing.assert_array_equal(got[~ok], ref[~ok])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(70_000,), (700_000,), (2, 300_000), (4, 1000)])
def test_one_special_value_anywhere_is_found(shape, name, threads, rng):
    """a single NaN / +inf / -inf at a random place (first elements finite) on rows split
    across threads and short rows, every axis: log_softmax's check reads only each row's
    first input and output, and must still hand exactly the affected rows to SciPy"""
    fastsmce.set_num_threads(threads)
    try:
        for special in (np.nan, np.inf, -np.inf):
            for dtype in (np.float32, np.float64):
                x = rng.standard_normal(shape).astype(dtype)
                flat = x.reshape(-1)
                flat[rng.integers(1, flat.size)] = special
                for axis in (None, -1, 0):
                    with np.errstate(all="ignore"):
                        ref = getattr(sps, name)(x, axis=axis)
                        got = getattr(fsp, name)(x, axis=axis)
                    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
                    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
                    fin = np.isfinite(ref)
                    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-5, atol=1e-6)
    finally:
        fastsmce.set_num_threads(None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(700_000,), (1, 700_000), (3, 1, 400_000), (4, 1000)])
def test_softmax_checked_flags_are_numpys_test(shape, dtype, threads, rng):
    """_core._softmax_checked: where the rows are split across threads (fewer long rows
    than threads) each chunk is checked as it is scaled, and the flags are NumPy's test on
    the output, for a special value or an underflow in any chunk; elsewhere it gives None
    (the caller's separate pass) and the same output as softmax"""
    fastsmce.set_num_threads(threads)
    try:
        big = -np.log(np.finfo(dtype).tiny) + 5
        for special in (None, np.nan, np.inf, -np.inf, -big):
            x = rng.standard_normal(shape).astype(dtype)
            if special is not None:
                flat = x.reshape(-1, shape[-1])
                flat[rng.integers(flat.shape[0]), rng.integers(1, shape[-1])] = special
            with np.errstate(all="ignore"):
                y, rows = _core._softmax_checked(x, -1)
                np.testing.assert_array_equal(y, fastsmce.softmax(x))
            split = threads > 1 and x.size // shape[-1] < threads and shape[-1] > 300_000
            if not split:
                assert rows is None
                continue
            assert rows.shape == shape[:-1] and rows.dtype == np.bool_
            np.testing.assert_array_equal(rows, np.logical_not(y > 0).any(axis=-1))
            assert rows.any() == (special is not None and not (special == -big and y.min() > 0))
    finally:
        fastsmce.set_num_threads(None)
