"""Values against the longdouble references of tests/reference.py, at the tolerances of
DESIGN.md section 3, over dtypes, row lengths (SIMD tails) and shapes."""

import numpy as np
import pytest

import fastsmce
from helpers import BACKWARD, FLOATS, FORWARD, FUNCS, check, gen_inputs
from reference.softmax import (
    assert_log_close,
    assert_probs_close,
    log_softmax_ref,
    logsumexp_ref,
    softmax_ref,
)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (7, 3), (64, 10), (33, 1000), (2, 70000),
                                   (4096, 10), (600, 129)])
def test_matches_reference(name, dtype, shape, rng):
    args = [g(shape) for g in gen_inputs(name, rng, dtype)]
    check(name, args, axis=-1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FUNCS)
def test_every_row_length_handles_simd_tails(name, dtype, rng):
    """Row lengths 1..33 and around vector/unroll multiples: the masked/scalar tail code."""
    lengths = list(range(1, 34)) + [47, 63, 64, 65, 127, 128, 129, 255, 257, 1000, 1023, 1025,
                                    4099]
    for n in lengths:
        args = [g((3, n)) for g in gen_inputs(name, rng, dtype)]
        check(name, args, axis=-1)
        args = [g((n, 3)) for g in gen_inputs(name, rng, dtype)]
        check(name, args, axis=0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", FUNCS)
def test_one_dimensional_input(name, dtype, rng):
    for n in (1, 5, 17, 100, 40000):
        args = [g((n,)) for g in gen_inputs(name, rng, dtype)]
        check(name, args, axis=-1)
        check(name, args, axis=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_float32_tiny_probabilities_meet_relative_bound(dtype, rng):
    """Wide-range logits: probabilities down to 1e-30 (float32) must still be within 1e-6
    relative (DESIGN.md section 3); float64 within 1e-14 for the same inputs."""
    x = (rng.standard_normal((16, 1000)) * 12).astype(dtype)
    p = fastsmce.softmax(x)
    ref = softmax_ref(x)
    assert (ref[ref >= 1e-30] < 1e-20).any()  # the case does reach small probabilities
    assert_probs_close(p, ref, dtype, "softmax wide range")
    assert_log_close(fastsmce.log_softmax(x), log_softmax_ref(x), dtype, "log_softmax wide")


@pytest.mark.parametrize("dtype", FLOATS)
def test_large_offsets_do_not_overflow(dtype, rng):
    """exp is always of x - rowmax: logits around 1e4 (float32) / 1e300 scale work."""
    big = 1e4 if dtype == np.float32 else 1e300
    x = (rng.standard_normal((5, 50)) * 2).astype(dtype) + dtype(big)
    check("softmax", [x])
    check("log_softmax", [x])
    check("logsumexp", [x])


@pytest.mark.parametrize("src", [np.int8, np.int32, np.int64, np.uint8, np.uint32, np.bool_,
                                 np.float16])
@pytest.mark.parametrize("name", FORWARD)
def test_other_real_dtypes_compute_in_float64(name, src, rng):
    if src == np.bool_:
        x = rng.integers(0, 2, (6, 9)).astype(np.bool_)
    elif src == np.float16:
        x = (rng.standard_normal((6, 9)) * 3).astype(np.float16)
    else:
        x = rng.integers(0, 20, (6, 9)).astype(src)
    got = check(name, [x])
    assert got.dtype == np.float64


@pytest.mark.parametrize("name", BACKWARD)
def test_backward_of_float16_and_int_inputs_is_float64(name, rng):
    g = (rng.standard_normal((4, 7)) * 3).astype(np.float16)
    if name == "softmax_backward":
        second = rng.uniform(0.01, 1, (4, 7)).astype(np.float16)
    else:
        second = np.log(rng.uniform(0.01, 1, (4, 7))).astype(np.float16)
    got = check(name, [g, second])
    assert got.dtype == np.float64
    got = check(name, [rng.integers(-3, 4, (4, 7)), second.astype(np.float64)])
    assert got.dtype == np.float64


@pytest.mark.parametrize("name", FORWARD)
def test_python_lists_are_accepted(name):
    x = [[1, 2, 3], [0.5, -1.0, 4.0]]
    got = check(name, [x])
    assert got.dtype == np.float64
    got1 = check(name, [[3.0, 1.0, -2.0]])
    assert np.asarray(got1).dtype == np.float64


@pytest.mark.parametrize("name", BACKWARD)
def test_backward_accepts_lists(name):
    g = [[1.0, -2.0, 0.5]]
    second = [[0.2, 0.3, 0.5]] if name == "softmax_backward" else np.log([[0.2, 0.3, 0.5]]).tolist()
    got = check(name, [g, second])
    assert got.dtype == np.float64


def test_softmax_of_equal_logits_is_uniform():
    for n in (1, 3, 8, 17, 1000):
        p = fastsmce.softmax(np.full((2, n), 7.25, np.float32))
        np.testing.assert_allclose(p, 1.0 / n, rtol=1e-6)
        assert (np.abs(p[0] - p[0, 0]) == 0).all()  # every lane computes the same value


def test_logsumexp_keepdims_matches_reference(rng):
    for dtype in FLOATS:
        x = rng.standard_normal((3, 4, 5)).astype(dtype)
        for axis in (0, 1, 2, -1, -3):
            got = fastsmce.logsumexp(x, axis=axis, keepdims=True)
            exp_shape = list(x.shape)
            exp_shape[axis] = 1
            assert got.shape == tuple(exp_shape)
            assert_log_close(got, logsumexp_ref(x, axis, keepdims=True), dtype)


@pytest.mark.parametrize("n", [29, 200, 3001])
def test_column_sums_do_not_drift(n):
    """softmax over axis 0 (column kernels, one element per row in each lane): many equal
    small terms next to a large one once drifted the float32 sums by ~1e-6."""
    x = np.full((n, 3), 0.5, np.float32)
    x[0] = 6
    p = fastsmce.softmax(x, axis=0)
    np.testing.assert_allclose(p.astype(np.float64).sum(0), 1.0, rtol=0, atol=2.5e-7)
    q = fastsmce.softmax(np.ascontiguousarray(x.T), axis=1)
    np.testing.assert_allclose(p.T, q, rtol=4e-7)
