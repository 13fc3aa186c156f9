"""Outputs allocated by fastsmce: fresh NumPy arrays every call (no cache that a later call
could overwrite), owning their memory, laid out like the input; out= reuses the caller's."""

import numpy as np
import pytest

import fastsmce

CALLS = [
    ("softmax", lambda x, **kw: fastsmce.softmax(x, **kw), "out"),
    ("log_softmax", lambda x, **kw: fastsmce.log_softmax(x, **kw), "out"),
    ("sigmoid", lambda x, **kw: fastsmce.sigmoid(x, **kw), "out"),
    ("bce_grad", lambda x, **kw: fastsmce.binary_cross_entropy_with_logits_with_grad(
        x, (x > 0).astype(x.dtype), **kw)[1], "grad_out"),
    ("xent_grad", lambda x, **kw: fastsmce.cross_entropy_with_grad(
        x, np.zeros(x.shape[0], np.int64), **kw)[1], "grad_out"),
]


@pytest.mark.parametrize("shape", [(64, 10), (1100, 1000)], ids=["small", "over-4MiB"])
@pytest.mark.parametrize("name,f,kw", CALLS, ids=[c[0] for c in CALLS])
def test_allocated_outputs_are_fresh_and_out_is_reused(name, f, kw, shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    a, b = f(x), f(x)
    for y in (a, b):
        assert y.flags.owndata and y.flags.c_contiguous and y.dtype == x.dtype
    assert not np.shares_memory(a, b) and not np.shares_memory(a, x)
    np.testing.assert_array_equal(a, b)
    before = a.copy()
    f(2 * x)                                    # a later call leaves earlier results alone
    np.testing.assert_array_equal(a, before)
    buf = np.empty_like(x)
    assert f(x, **{kw: buf}) is buf
    np.testing.assert_array_equal(buf, a)
