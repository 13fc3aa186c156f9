"""NaN / inf semantics (DESIGN.md section 3), extreme finite logits, and long rows (the blocked
online-(max, sum) path) with -inf blocks, NaN and inf deep inside."""

import warnings

import numpy as np
import pytest

import fastsmce
from helpers import FLOATS, FORWARD, check
from reference.softmax import (
    assert_log_close,
    assert_probs_close,
    log_softmax_ref,
    logsumexp_ref,
    softmax_ref,
)

nan, inf = np.nan, np.inf


def quiet(fn, *args, **kw):
    """Call with every warning an error and NumPy's FP error state set to raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            return fn(*args, **kw)


# (row, softmax, log_softmax, logsumexp); None: "compare with the reference".
ROWS = [
    ([1.0, nan, 2.0], [nan] * 3, [nan] * 3, nan),
    ([nan, nan], [nan] * 2, [nan] * 2, nan),
    ([1.0, inf, 2.0], [nan] * 3, [nan] * 3, inf),
    ([inf, inf], [nan] * 2, [nan] * 2, inf),
    ([inf, -inf, 0.0], [nan] * 3, [nan] * 3, inf),
    ([1.0, inf, nan], [nan] * 3, [nan] * 3, nan),
    ([-inf, nan, 1.0], [nan] * 3, [nan] * 3, nan),
    ([-inf, -inf, -inf], [nan] * 3, [nan] * 3, -inf),
    ([-inf], [nan], [nan], -inf),
    ([-inf, 0.0, 1.0], None, None, None),
    ([0.0, -inf, -inf, -inf], [1.0, 0.0, 0.0, 0.0], [0.0, -inf, -inf, -inf], 0.0),
    ([1e30, -1e30], [1.0, 0.0], [0.0, -2e30], 1e30),
    ([-1e30, 1e30, -1e30], [0.0, 1.0, 0.0], [-2e30, 0.0, -2e30], 1e30),
    ([5.0], [1.0], [0.0], 5.0),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("row,sm,lsm,lse", ROWS, ids=[str(r[0]) for r in ROWS])
def test_special_values_follow_contract(row, sm, lsm, lse, dtype):
    x = np.array(row, dtype)
    for name, want in (("softmax", sm), ("log_softmax", lsm), ("logsumexp", lse)):
        got = quiet(getattr(fastsmce, name), x)
        ref = {"softmax": softmax_ref, "log_softmax": log_softmax_ref,
               "logsumexp": logsumexp_ref}[name](x)
        if want is not None:
            # the reference agrees with the table (for the input values as rounded to dtype)
            np.testing.assert_array_equal(ref.astype(dtype), np.array(want, dtype))
        if name == "softmax":
            assert_probs_close(got, ref, dtype, f"softmax({row})")
        else:
            assert_log_close(got, ref, dtype, f"{name}({row})")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FORWARD)
def test_special_value_rows_do_not_disturb_other_rows(name, dtype, rng):
    """Each special row, tiled to a SIMD-unfriendly length and interleaved with finite rows,
    along either axis, gives the reference answer, and the finite rows stay correct."""
    n = 37
    x = (rng.standard_normal((len(ROWS) * 2, n)) * 3).astype(dtype)
    for i, (row, *_rest) in enumerate(ROWS):
        x[2 * i, :] = np.resize(np.array(row, dtype), n)
    check(name, [x], axis=-1)
    check(name, [np.ascontiguousarray(x.T)], axis=0)
    check(name, [x.T], axis=0)


def test_one_and_zero_for_huge_gap():
    for dtype in FLOATS:
        x = np.array([[1e30, -1e30], [-1e30, 1e30]], dtype)
        np.testing.assert_array_equal(quiet(fastsmce.softmax, x), [[1, 0], [0, 1]])


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("dtype,big", [(np.float32, 3e38), (np.float32, 3.4028235e38),
                                       (np.float64, 1.7e308), (np.float64, 1.7976931348623157e308)])
def test_no_overflow_for_any_finite_input(name, dtype, big):
    x = np.array([[big, -big], [-big, big], [big, big], [-big, -big], [big, 0.0], [0, -big]],
                 dtype)
    got = quiet(getattr(fastsmce, name), x)
    if name == "softmax":
        np.testing.assert_array_equal(got, [[1, 0], [0, 1], [0.5, 0.5], [0.5, 0.5], [1, 0], [1, 0]])
    else:
        # log_softmax(-big) = -2 big may overflow the format: -inf is then the right answer
        ref = log_softmax_ref(x) if name == "log_softmax" else logsumexp_ref(x)
        assert_log_close(got, ref, dtype, name)
        if name == "logsumexp":
            assert np.isfinite(got).all()  # max + ln 2 rounds to max: no overflow


@pytest.mark.parametrize("dtype", FLOATS)
def test_minus_inf_entries_give_exact_zero_and_minus_inf(dtype, rng):
    x = (rng.standard_normal((8, 50)) * 2).astype(dtype)
    mask = rng.random(x.shape) < 0.3
    mask[:, 0] = False
    x[mask] = -inf
    p = quiet(fastsmce.softmax, x)
    lp = quiet(fastsmce.log_softmax, x)
    assert (p[mask] == 0).all()
    assert (lp[mask] == -inf).all()
    assert np.isfinite(lp[~mask]).all()
    assert_probs_close(p, softmax_ref(x), dtype)
    assert_log_close(lp, log_softmax_ref(x), dtype)
    assert_log_close(quiet(fastsmce.logsumexp, x), logsumexp_ref(x), dtype)


# ---------------------------------------------------------------------------
# long rows (> 64K elements): the blocked / online path and rows split across threads
# ---------------------------------------------------------------------------

def _long(shape, dtype, rng, pattern):
    # |x - rowmax| stays below ~16, where float32 rounding of x - max itself (2^-24 |x - max|)
    # leaves room for the 1e-6 relative bound; wide ranges are tested in test_accuracy.py.
    x = rng.standard_normal(shape).astype(dtype)
    n = shape[-1]
    if pattern == "leading_minus_inf":
        x[..., :5000] = -inf
    elif pattern == "middle_minus_inf":
        x[..., n // 3: n // 3 + 70000] = -inf
    elif pattern == "trailing_minus_inf":
        x[..., -100000:] = -inf
    elif pattern == "mostly_minus_inf":      # one finite value, near the end
        x[...] = -inf
        x[..., n - 7] = 1.5
    elif pattern == "first_half_minus_inf":  # a whole thread's share is -inf
        x[..., : (2 * n) // 3] = -inf
    elif pattern == "increasing_ramp":       # the running max grows all along the row
        x[...] += np.linspace(-6, 6, n).astype(dtype)
    elif pattern == "decreasing_ramp":
        x[...] += np.linspace(6, -6, n).astype(dtype)
    elif pattern == "max_at_end":
        x[..., -1] = 9
    return x


PATTERNS = ["leading_minus_inf", "middle_minus_inf", "trailing_minus_inf", "mostly_minus_inf",
            "first_half_minus_inf", "increasing_ramp", "decreasing_ramp", "max_at_end"]
SHORT_LIST = ["leading_minus_inf", "first_half_minus_inf", "increasing_ramp", "mostly_minus_inf"]
# every pattern on 3 x 300001 (fewer rows than threads: rows are split); the main ones on
# single rows of 200000 and 1000003
LONG_CASES = ([((3, 300001), p) for p in PATTERNS]
              + [((1, 200000), p) for p in SHORT_LIST]
              + [((1, 1000003), p) for p in SHORT_LIST])


@pytest.mark.parametrize("shape,pattern", LONG_CASES,
                         ids=[f"{s[0]}x{s[1]}-{p}" for s, p in LONG_CASES])
@pytest.mark.parametrize("dtype", FLOATS)
def test_long_rows_match_reference(dtype, shape, pattern, rng):
    x = _long(shape, dtype, rng, pattern)
    refs = softmax_ref(x), log_softmax_ref(x), logsumexp_ref(x)
    for threads in (1, 2):
        fastsmce.set_num_threads(threads)
        p = quiet(fastsmce.softmax, x)
        assert np.isfinite(p).all()
        assert_probs_close(p, refs[0], dtype, f"softmax {pattern} threads={threads}")
        assert_log_close(quiet(fastsmce.log_softmax, x), refs[1], dtype,
                         f"log_softmax {pattern} threads={threads}")
        assert_log_close(quiet(fastsmce.logsumexp, x), refs[2], dtype,
                         f"logsumexp {pattern} threads={threads}")


@pytest.mark.parametrize("special,lse", [(nan, nan), (inf, inf)])
@pytest.mark.parametrize("pos", [0.5, -2, 3])
@pytest.mark.parametrize("cols", [300001, 200000])  # float32: two-pass / block-wise rows
@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_or_inf_deep_inside_long_row(dtype, cols, pos, special, lse, rng):
    x = rng.standard_normal((3, cols)).astype(dtype)
    pos = int(pos * cols) if isinstance(pos, float) else pos
    x[1, pos] = special
    x[2, :5000] = -inf
    x[2, pos] = special
    for threads in (1, 2):
        fastsmce.set_num_threads(threads)
        p = quiet(fastsmce.softmax, x)
        lp = quiet(fastsmce.log_softmax, x)
        s = quiet(fastsmce.logsumexp, x)
        for r in (1, 2):
            assert np.isnan(p[r]).all(), f"softmax row {r}, threads={threads}"
            assert np.isnan(lp[r]).all(), f"log_softmax row {r}, threads={threads}"
        np.testing.assert_array_equal(s[1:], [lse, lse])
        assert_probs_close(p[:1], softmax_ref(x[:1]), dtype)
        assert_log_close(s[:1], logsumexp_ref(x[:1]), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_long_row_of_only_minus_inf(dtype):
    x = np.full((2, 300001), -inf, dtype)
    for threads in (1, 2):
        fastsmce.set_num_threads(threads)
        assert np.isnan(quiet(fastsmce.softmax, x)).all()
        assert np.isnan(quiet(fastsmce.log_softmax, x)).all()
        np.testing.assert_array_equal(quiet(fastsmce.logsumexp, x), [-inf, -inf])


def _nan_bits(dtype, bits):
    u = np.uint32 if np.dtype(dtype) == np.float32 else np.uint64
    return np.array([bits], u).view(dtype)[0]


# NaNs whose payload has low bits set (quiet, signalling, negative): the float32 exp's fast
# path once added n, read from such a NaN's bits, to the exponent field and made a number
# of it (a softmax row with 0x7fc00001 came out finite)
PAYLOAD_NANS = {np.float32: [0x7FC00001, 0x7FC000FF, 0xFFC00003, 0x7F800001, 0x7FFFFFFF],
                np.float64: [0x7FF8000000000001, 0xFFF80000000000FF, 0x7FF0000000000001]}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [10, 1000, 5000, 300001])
def test_nan_with_payload_gives_nan_rows(dtype, n):
    rng = np.random.default_rng(n)
    for bits in PAYLOAD_NANS[dtype]:
        x = rng.standard_normal((2, n)).astype(dtype)
        x[0, n // 3] = _nan_bits(dtype, bits)
        for name in ("softmax", "log_softmax"):
            y = getattr(fastsmce, name)(x, axis=-1)
            assert np.isnan(y[0]).all(), (name, hex(bits), n)
            assert not np.isnan(y[1]).any(), (name, hex(bits), n)
            yc = getattr(fastsmce, name)(np.ascontiguousarray(x[:, :40].T), axis=0)
            assert np.isnan(yc[:, 0]).all() == (n // 3 < 40) and not np.isnan(yc[:, 1]).any()
        lse = fastsmce.logsumexp(x, axis=-1)
        assert np.isnan(lse[0]) and not np.isnan(lse[1])
        y1 = fastsmce.softmax(x[0])  # one long row: split across threads
        assert np.isnan(y1).all(), (hex(bits), n)
