"""Every memory layout and every axis gives the reference answer: C / Fortran order, strided
and negative-stride views, transposes, zero-stride broadcasts, read-only and memory-mapped
inputs, big-endian data, N-d arrays reduced over each axis, zero-size dimensions."""

import numpy as np
import pytest

import fastsmce
from helpers import FLOATS, FUNCS, check, expected_shape, gen_inputs, unaligned

# Each layout maps a generator ``shape -> fresh array`` to a 2-D view of shape (9, 14) or a
# larger one (for the parallel paths, > 32K elements).
LAYOUTS_2D = {
    "C": lambda g: g((9, 14)),
    "F": lambda g: np.asfortranarray(g((9, 14))),
    "strided": lambda g: g((18, 42))[::2, ::3],
    "negative_strides": lambda g: g((9, 14))[::-1, ::-1],
    "transposed": lambda g: g((14, 9)).T,
    "F_strided_negative": lambda g: np.asfortranarray(g((27, 29)))[::-3, 1::2],
    "broadcast_rows": lambda g: np.broadcast_to(g((1, 14)), (9, 14)),
    "broadcast_cols": lambda g: np.broadcast_to(g((9, 1)), (9, 14)),
    "big_C": lambda g: g((300, 257)),
    "big_F": lambda g: np.asfortranarray(g((300, 257))),
    "big_strided": lambda g: g((600, 514))[::2, ::2],
    "big_negative": lambda g: g((300, 257))[::-1, ::-1],
}


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", list(LAYOUTS_2D))
@pytest.mark.parametrize("name", FUNCS)
def test_any_2d_layout_and_axis_matches_reference(name, layout, dtype, axis, rng):
    args = [LAYOUTS_2D[layout](g) for g in gen_inputs(name, rng, dtype)]
    before = [a.copy() for a in args]
    check(name, args, axis=axis)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)  # inputs are not modified


ND_LAYOUTS = {
    "C": lambda g: g((4, 5, 6, 7)),
    "F": lambda g: np.asfortranarray(g((4, 5, 6, 7))),
    "permuted": lambda g: np.transpose(g((7, 5, 4, 6)), (2, 1, 3, 0)),
    "strided_negative": lambda g: g((8, 5, 12, 7))[::-2, :, 1::2, ::-1],
}


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -2, -3, -4])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", list(ND_LAYOUTS))
@pytest.mark.parametrize("name", FUNCS)
def test_every_axis_of_4d_array_matches_reference(name, layout, dtype, axis, rng):
    args = [ND_LAYOUTS[layout](g) for g in gen_inputs(name, rng, dtype)]
    check(name, args, axis=axis)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("name", FUNCS)
def test_every_axis_of_3d_array_matches_reference(name, axis, rng):
    for dtype in FLOATS:
        args = [g((3, 40, 300)) for g in gen_inputs(name, rng, dtype)]  # 36K elements
        check(name, args, axis=axis)


@pytest.mark.parametrize("name", FUNCS)
def test_numpy_integer_axis_is_accepted(name, rng):
    args = [g((4, 6)) for g in gen_inputs(name, rng, np.float64)]
    check(name, args, axis=np.int64(0))
    check(name, args, axis=np.intp(-1))


@pytest.mark.parametrize("shape,axis", [((0, 5), -1), ((0, 5), 0), ((5, 0), -1), ((5, 0), 0),
                                        ((0,), 0), ((2, 0, 3), 1), ((2, 0, 3), 2)])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FUNCS)
def test_zero_size_dimensions_give_empty_results_of_the_right_shape(name, dtype, shape, axis):
    args = [np.zeros(shape, dtype) for _ in range(1 if name in ("softmax", "log_softmax",
                                                                  "logsumexp") else 2)]
    got = getattr(fastsmce, name)(*args, axis=axis)
    got = np.asarray(got)
    assert got.dtype == dtype
    assert got.shape == expected_shape(name, shape, axis)
    if name == "logsumexp":
        # the sum over an empty axis is 0: log 0 = -inf
        if shape[axis] == 0:
            assert got.size == 0 or np.all(got == -np.inf)
        else:
            assert got.size == 0


def test_logsumexp_over_empty_axis_is_minus_inf():
    got = fastsmce.logsumexp(np.ones((5, 0)), axis=-1)
    np.testing.assert_array_equal(got, np.full(5, -np.inf))
    got = fastsmce.logsumexp(np.ones((0, 3), np.float32), axis=0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.full(3, -np.inf, np.float32))


@pytest.mark.parametrize("name", FUNCS)
def test_zero_dim_input_raises_axis_error(name):
    nargs = 1 if name in ("softmax", "log_softmax", "logsumexp") else 2
    for x in (np.float64(3.0), np.array(3.0), 3.0, np.array(2.0, np.float32)):
        with pytest.raises(np.exceptions.AxisError):
            getattr(fastsmce, name)(*([x] * nargs))
        with pytest.raises(np.exceptions.AxisError):
            getattr(fastsmce, name)(*([x] * nargs), axis=0)


@pytest.mark.parametrize("dtype", [">f4", ">f8", "<f4", "<f8"])
@pytest.mark.parametrize("name", FUNCS)
def test_byte_order_is_handled_and_output_is_native(name, dtype, rng):
    native = np.dtype(dtype).newbyteorder("=")
    args = [g((5, 37)) for g in gen_inputs(name, rng, native)]
    swapped = [a.astype(dtype) for a in args]
    np.testing.assert_array_equal(swapped[0], args[0])
    got = check(name, swapped, axis=-1)
    assert got.dtype == native and got.dtype.isnative
    got0 = check(name, swapped, axis=0)
    assert got0.dtype.isnative


@pytest.mark.parametrize("name", FUNCS)
def test_big_endian_out_of_cache_rows_match_reference(name, rng):
    """Swapped inputs large enough to take the parallel path."""
    args = [g((70, 1000)).astype(">f4") for g in gen_inputs(name, rng, np.float32)]
    got = check(name, args, axis=-1)
    assert got.dtype == np.float32


@pytest.mark.parametrize("name", FUNCS)
def test_read_only_inputs_work(name, rng):
    for dtype in FLOATS:
        args = [g((6, 33)) for g in gen_inputs(name, rng, dtype)]
        for a in args:
            a.flags.writeable = False
        check(name, args, axis=-1)
        check(name, args, axis=0)


@pytest.mark.parametrize("name", FUNCS)
def test_read_only_memmap_inputs_work(name, rng, tmp_path):
    args = []
    for i, g in enumerate(gen_inputs(name, rng, np.float32)):
        a = g((40, 50))
        path = tmp_path / f"a{i}.npy"
        np.save(path, a)
        args.append(np.load(path, mmap_mode="r"))
    assert not args[0].flags.writeable
    check(name, args, axis=1)
    check(name, args, axis=0)


@pytest.mark.parametrize("name", FUNCS)
def test_unaligned_inputs_work(name, rng):
    """float64 data at an odd byte offset (not even 8-byte aligned)."""
    args = [unaligned(g((5, 21))) for g in gen_inputs(name, rng, np.float64)]
    check(name, args, axis=-1)
    check(name, args, axis=0)
