"""What the fastsmce.dask tests share (importable by bare name: conftest.py puts this
directory on sys.path)."""

import numpy as np
import pytest


def split(n, k, rng):
    """k uneven chunk sizes (>= 1) summing to n"""
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return tuple(int(c) for c in np.diff(np.concatenate([[0], cuts, [n]])))


def assert_close(got, ref, dtype):
    if np.dtype(dtype) == np.float32:
        np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-6 * max(1.0, np.nanmax(np.abs(
            np.where(np.isfinite(ref), ref, 0)), initial=0)), equal_nan=True)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14, equal_nan=True)
    assert np.asarray(got).dtype == np.asarray(ref).dtype


def same_error(call_np, call_dask):
    """call_dask raises what call_np raises: the same exception type and message"""
    with pytest.raises(Exception) as want:
        call_np()
    with pytest.raises(type(want.value)) as got:
        call_dask()
    assert str(got.value) == str(want.value)
