"""``out=``: strided, in place, partially overlapping the inputs; every bad call raises the
documented exception and leaves ``out`` untouched."""

import numpy as np
import pytest

import fastsmce
from helpers import (
    BACKWARD,
    FLOATS,
    FORWARD,
    FUNCS,
    SENTINEL,
    call,
    check,
    compare,
    expected_shape,
    gen_inputs,
)


def _args(name, rng, dtype, shape):
    return [g(shape) for g in gen_inputs(name, rng, dtype)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FUNCS)
def test_out_receives_result_and_is_returned(name, dtype, rng):
    for shape, axis in (((6, 11), -1), ((6, 11), 0), ((300, 257), 1), ((300, 257), 0)):
        args = _args(name, rng, dtype, shape)
        out = np.full(expected_shape(name, shape, axis), SENTINEL, dtype)
        check(name, args, axis=axis, out=out)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FUNCS)
def test_strided_and_fortran_out_receive_result(name, dtype, rng):
    shape = (7, 12)
    for axis in (0, 1):
        args = _args(name, rng, dtype, shape)
        oshape = expected_shape(name, shape, axis)
        big = np.full(tuple(2 * n for n in oshape), SENTINEL, dtype)
        out = big[(slice(None, None, -2),) * len(oshape)]
        check(name, args, axis=axis, out=out)
        # the untouched half of the buffer is still the sentinel
        mask = np.ones(big.shape, bool)
        mask[(slice(None, None, -2),) * len(oshape)] = False
        assert (big[mask] == SENTINEL).all()
        fout = np.asfortranarray(np.full(oshape, SENTINEL, dtype))
        check(name, args, axis=axis, out=fout)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_out_with_keepdims(dtype, rng):
    x = rng.standard_normal((5, 6, 7)).astype(dtype)
    for axis in (0, 1, 2, -1):
        shape = expected_shape("logsumexp", x.shape, axis, keepdims=True)
        out = np.full(shape, SENTINEL, dtype)
        check("logsumexp", [x], axis=axis, keepdims=True, out=out)
        with pytest.raises(ValueError):  # the non-keepdims shape is wrong under keepdims
            fastsmce.logsumexp(x, axis=axis, keepdims=True,
                               out=np.empty(expected_shape("logsumexp", x.shape, axis), dtype))


@pytest.mark.parametrize("shape,axis", [((9, 14), -1), ((9, 14), 0), ((300, 257), -1),
                                        ((300, 257), 0), ((50,), 0), ((3, 4, 5), 1)])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_in_place_forward_matches_reference(name, dtype, shape, axis, rng):
    x = (rng.standard_normal(shape) * 1.5).astype(dtype)
    x0 = x.copy()
    got = getattr(fastsmce, name)(x, axis=axis, out=x)
    assert got is x
    compare(name, x, [x0], axis)


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BACKWARD)
def test_in_place_backward_matches_reference(name, dtype, which, rng):
    for shape, axis in (((9, 14), -1), ((9, 14), 0), ((300, 257), 1), ((300, 257), 0)):
        args = _args(name, rng, dtype, shape)
        orig = [a.copy() for a in args]
        got = call(name, args, axis, out=args[which])
        assert got is args[which]
        compare(name, got, orig, axis)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("shift", [1, -1])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_out_partially_overlapping_input_gives_reference(name, dtype, shift, axis, rng):
    """x and out are views of one buffer offset by one row or one element."""
    for m, n in ((6, 9), (200, 301)):
        buf = (rng.standard_normal((m + 1, n + 1)) * 1.5).astype(dtype)
        lo = (slice(0, m), slice(0, n))
        hi = (slice(1, m + 1), slice(1, n + 1)) if axis == 1 else (slice(1, m + 1), slice(0, n))
        x, out = (buf[hi], buf[lo]) if shift == 1 else (buf[lo], buf[hi])
        x0 = x.copy()
        got = getattr(fastsmce, name)(x, axis=axis, out=out)
        assert got is out
        compare(name, out, [x0], axis)
    # 1-D: out = x shifted by one element along the reduction axis
    buf = (rng.standard_normal(1001) * 1.5).astype(dtype)
    x, out = (buf[1:], buf[:-1]) if shift == 1 else (buf[:-1], buf[1:])
    x0 = x.copy()
    getattr(fastsmce, name)(x, out=out)
    compare(name, out, [x0], 0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BACKWARD)
def test_backward_out_partially_overlapping_inputs(name, dtype, rng):
    for m, n in ((6, 9), (200, 301)):
        gb = (rng.standard_normal((m + 1, n)) * 1.5).astype(dtype)
        g, out = gb[1:], gb[:-1]
        second = gen_inputs(name, rng, dtype)[1]((m, n))
        g0 = g.copy()
        got = call(name, [g, second], -1, out=out)
        assert got is out
        compare(name, out, [g0, second], -1)


def test_logsumexp_out_overlapping_input(rng):
    x = rng.standard_normal((8, 8))
    x0 = x.copy()
    out = x[:, 0]  # the reduced result lands in the first column of x itself
    got = fastsmce.logsumexp(x, axis=1, out=out)
    assert got is out
    compare("logsumexp", out, [x0], 1)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def _sentinel_out(name, shape, axis, dtype, keepdims=False):
    return np.full(expected_shape(name, shape, axis, keepdims), SENTINEL, dtype)


def _assert_untouched(out, before=None):
    if before is None:
        before = np.full(np.shape(out), SENTINEL, np.asarray(out).dtype)
    assert np.array_equal(np.asarray(out), before, equal_nan=True), \
        "a failing call wrote into out"


@pytest.mark.parametrize("name", FUNCS)
def test_out_with_wrong_shape_raises_value_error(name, rng):
    args = _args(name, rng, np.float64, (4, 6))
    good = expected_shape(name, (4, 6), -1)
    for bad in ((4, 7), (6, 4), (4,) if len(good) == 2 else (4, 1), (1, 4, 6), (24,)):
        if bad == good:
            continue
        out = np.full(bad, SENTINEL)
        with pytest.raises(ValueError):
            call(name, args, -1, out=out)
        _assert_untouched(out)


@pytest.mark.parametrize("name", FUNCS)
def test_out_with_wrong_dtype_raises_type_error(name, rng):
    for dtype, wrong in ((np.float32, np.float64), (np.float64, np.float32),
                         (np.float64, np.int64), (np.float32, np.float16),
                         (np.float64, np.complex128)):
        args = _args(name, rng, dtype, (4, 6))
        out = _sentinel_out(name, (4, 6), -1, wrong)
        with pytest.raises(TypeError):
            call(name, args, -1, out=out)
        _assert_untouched(out)
    # integer input computes in float64: a float32 out is the wrong dtype
    ints = [np.arange(24).reshape(4, 6) % 5] * len(args)
    out = _sentinel_out(name, (4, 6), -1, np.float32)
    with pytest.raises(TypeError):
        call(name, ints, -1, out=out)
    _assert_untouched(out)


@pytest.mark.parametrize("name", FUNCS)
def test_out_big_endian_raises_type_error_or_works(name, rng):
    """A byte-swapped out of the right precision: either accepted and correct, or TypeError
    with out untouched; never garbage."""
    args = _args(name, rng, np.float64, (4, 6))
    out = _sentinel_out(name, (4, 6), -1, ">f8")
    try:
        got = call(name, args, -1, out=out)
    except TypeError:
        _assert_untouched(out)
    else:
        assert got is out
        compare(name, out, args, -1)


@pytest.mark.parametrize("name", FUNCS)
def test_read_only_out_raises_value_error(name, rng):
    args = _args(name, rng, np.float64, (4, 6))
    out = _sentinel_out(name, (4, 6), -1, np.float64)
    out.flags.writeable = False
    with pytest.raises(ValueError):
        call(name, args, -1, out=out)
    _assert_untouched(out)
    bout = np.broadcast_to(np.full(expected_shape(name, (4, 6), -1)[-1:], SENTINEL),
                           expected_shape(name, (4, 6), -1))
    with pytest.raises(ValueError):
        call(name, args, -1, out=bout)
    _assert_untouched(bout)


@pytest.mark.parametrize("name", FUNCS)
def test_out_not_an_ndarray_raises_type_error(name, rng):
    args = _args(name, rng, np.float64, (4, 6))
    shape = expected_shape(name, (4, 6), -1)
    for bad in (np.full(shape, SENTINEL).tolist(), memoryview(np.full(shape, SENTINEL)), 3.0):
        with pytest.raises(TypeError):
            call(name, args, -1, out=bad)


@pytest.mark.parametrize("name", FUNCS)
def test_axis_out_of_range_raises_axis_error(name, rng):
    args = _args(name, rng, np.float64, (4, 6))
    for axis in (2, -3, 100, -100):
        out = _sentinel_out(name, (4, 6), -1, np.float64)
        with pytest.raises(np.exceptions.AxisError) as ei:
            call(name, args, axis, out=out)
        assert isinstance(ei.value, ValueError) and isinstance(ei.value, IndexError)
        _assert_untouched(out)
        with pytest.raises(np.exceptions.AxisError):
            call(name, args, axis)
    args1 = _args(name, rng, np.float64, (5,))
    with pytest.raises(np.exceptions.AxisError):
        call(name, args1, 1)


@pytest.mark.parametrize("name", FUNCS)
def test_non_integer_axis_raises_type_error(name, rng):
    args = _args(name, rng, np.float64, (4, 6))
    for axis in (1.0, "0", 0.5, [0], np.float64(1.0)):
        out = _sentinel_out(name, (4, 6), -1, np.float64)
        with pytest.raises(TypeError):
            call(name, args, axis, out=out)
        _assert_untouched(out)


BAD_INPUTS = {
    "complex": lambda: np.ones((3, 4), np.complex128),
    "complex64": lambda: np.ones((3, 4), np.complex64),
    "object": lambda: np.ones((3, 4), object),
    "str": lambda: np.full((3, 4), "a"),
    "bytes": lambda: np.full((3, 4), b"a"),
    "python_complex_list": lambda: [[1 + 2j, 3.0]],
    "python_str_list": lambda: [["a", "b", "c"]],
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
@pytest.mark.parametrize("name", FUNCS)
def test_unsupported_input_dtype_raises_type_error(name, kind, rng):
    bad = BAD_INPUTS[kind]()
    shape = np.shape(bad)
    good = np.ones(shape) * 0.1
    positions = [0] if name in FORWARD else [0, 1]
    for pos in positions:
        args = [good] * len(positions)
        args[pos] = bad
        out = np.full(expected_shape(name, shape, -1), SENTINEL) if shape else None
        with pytest.raises(TypeError):
            call(name, args, -1, **({"out": out} if out is not None else {}))
        if out is not None:
            _assert_untouched(out)


@pytest.mark.parametrize("name", BACKWARD)
def test_backward_bad_call_leaves_out_untouched(name):
    out = np.full((3, 4), SENTINEL)
    with pytest.raises(ValueError):
        getattr(fastsmce, name)(np.zeros((3, 4)), np.zeros((3, 5)), out=out)
    _assert_untouched(out)


def test_keepdims_and_out_are_keyword_only(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(TypeError):
        fastsmce.softmax(x, -1, np.empty_like(x))
    with pytest.raises(TypeError):
        fastsmce.logsumexp(x, -1, True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_of_1d_input_into_0d_out(dtype, rng):
    x = rng.standard_normal(1000).astype(dtype)
    out = np.full((), SENTINEL, dtype)
    got = fastsmce.logsumexp(x, out=out)
    assert got is out
    compare("logsumexp", out, [x], -1)
    out1 = np.full((1,), SENTINEL, dtype)
    got = fastsmce.logsumexp(x, keepdims=True, out=out1)
    assert got is out1
    compare("logsumexp", out1, [x], -1, keepdims=True)
