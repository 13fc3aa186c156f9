"""Shared helpers: call any of the five functions and check it against tests/reference.py."""

import numpy as np

import fastsmce
from reference import (
    assert_log_close,
    assert_probs_close,
    assert_scaled_close,
    log_softmax_backward_ref,
    log_softmax_backward_scale,
    log_softmax_ref,
    logsumexp_ref,
    result_dtype,
    softmax_backward_ref,
    softmax_backward_scale,
    softmax_ref,
)

FORWARD = ("softmax", "log_softmax", "logsumexp")
BACKWARD = ("softmax_backward", "log_softmax_backward")
FUNCS = FORWARD + BACKWARD
FLOATS = (np.float32, np.float64)

# Backward results: |got - ref| <= BWD_RTOL * (magnitude of the terms), see reference.py.
BWD_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-13}


def gen_inputs(name, rng, dtype, scale=1.5):
    """A list of generators ``shape -> array`` for the arguments of ``name``: (x,) for the
    forward functions (normal * scale: |x - rowmax| stays under 16 for any size used here,
    so float32 rounding of x - max leaves room for the 1e-6 bound), (grad, probs) or
    (grad, log_probs) for the backward ones."""
    def x(shape):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def probs(shape):
        return rng.uniform(0.001, 1.0, shape).astype(dtype)

    def log_probs(shape):
        return np.log(rng.uniform(0.001, 1.0, shape)).astype(dtype)

    if name == "softmax_backward":
        return [x, probs]
    if name == "log_softmax_backward":
        return [x, log_probs]
    return [x]


def compare(name, got, args, axis=-1, keepdims=False, dtype=None):
    """Assert ``got`` (the result of ``name(*args, axis)``) is within tolerance of the reference."""
    dtype = np.dtype(dtype) if dtype is not None else result_dtype(args[0])
    what = f"{name}(axis={axis})"
    if name == "softmax":
        assert_probs_close(got, softmax_ref(args[0], axis), dtype, what)
    elif name == "log_softmax":
        assert_log_close(got, log_softmax_ref(args[0], axis), dtype, what)
    elif name == "logsumexp":
        assert_log_close(got, logsumexp_ref(args[0], axis, keepdims=keepdims), dtype, what)
    elif name == "softmax_backward":
        assert_scaled_close(got, softmax_backward_ref(args[0], args[1], axis),
                            softmax_backward_scale(args[0], args[1], axis), BWD_RTOL[dtype], what)
    elif name == "log_softmax_backward":
        assert_scaled_close(got, log_softmax_backward_ref(args[0], args[1], axis),
                            log_softmax_backward_scale(args[0], args[1], axis), BWD_RTOL[dtype],
                            what)
    else:
        raise ValueError(name)


def expected_shape(name, shape, axis, keepdims=False):
    if name != "logsumexp":
        return tuple(shape)
    axis = axis % len(shape)
    if keepdims:
        return tuple(1 if i == axis else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i != axis)


def call(name, args, axis=-1, **kw):
    return getattr(fastsmce, name)(*args, axis=axis, **kw)


def check(name, args, axis=-1, **kw):
    """Call ``name`` and check type, dtype, shape and values; return the result."""
    got = call(name, args, axis, **kw)
    dtype = result_dtype(args[0])
    shape = expected_shape(name, np.shape(args[0]), axis, kw.get("keepdims", False))
    if name == "logsumexp" and not shape and kw.get("out") is None:
        assert isinstance(got, (np.ndarray, np.generic)), type(got)
    else:
        assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == dtype, (got.dtype, dtype)
    assert got.dtype.isnative
    assert got.shape == shape, (got.shape, shape)
    if kw.get("out") is not None:
        assert got is kw["out"]
    compare(name, got, args, axis, kw.get("keepdims", False), dtype)
    return got
