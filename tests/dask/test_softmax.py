"""softmax, log_softmax, logsumexp of Dask arrays == the NumPy functions', whatever the
chunks: the class axis in one chunk (map_blocks) or split in 2-8 uneven chunks (chunk
statistics, tree merge, write pass), rows split too, NaN / inf rows."""

import pytest

pytest.importorskip("dask.array")

import dask
import dask.array as da
import numpy as np
from dask_helpers import assert_close, same_error, split

import fastsmce
import fastsmce.dask as fd


def _logits(rng, shape, dtype):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x[1, 3] = np.nan
    x[2, -2] = np.inf
    x[3] = -np.inf
    x[4, :10] = -np.inf
    x[5, 5] = x[5, -1] = np.inf
    x[6, 0] = 1e30
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nchunks", [1, 2, 5, 8])
def test_matches_numpy_with_the_class_axis_split(client, rng, dtype, nchunks):
    x = _logits(rng, (11, 67), dtype)
    cols = split(67, nchunks, rng) if nchunks > 1 else 67
    X = da.from_array(x, chunks=((4, 7), cols))
    ops = ("softmax", "log_softmax", "logsumexp")
    got = [getattr(fd, op)(X) for op in ops]
    assert all(isinstance(g, da.Array) for g in got)
    for op, g in zip(ops, dask.compute(*got)):
        assert_close(g, getattr(fastsmce, op)(x), dtype)


def test_any_axis_and_rank(client, rng):
    x = rng.standard_normal((3, 29, 4))
    X = da.from_array(x, chunks=(2, (9, 3, 17), 3))
    ops = ("softmax", "log_softmax", "logsumexp")
    got = dask.compute(*[getattr(fd, op)(X, axis=ax) for op in ops for ax in (1, -3)])
    ref = [getattr(fastsmce, op)(x, axis=ax) for op in ops for ax in (1, -3)]
    for g, r in zip(got, ref):
        assert_close(g, r, np.float64)


@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_keepdims(client, rng, keepdims):
    x = rng.standard_normal((6, 40)).astype(np.float32)
    for chunks in [(3, 40), (3, (13, 27))]:
        got = fd.logsumexp(da.from_array(x, chunks=chunks), axis=1, keepdims=keepdims)
        assert_close(got.compute(), fastsmce.logsumexp(x, axis=1, keepdims=keepdims), np.float32)


def test_integer_input_computes_in_float64(client):
    x = np.arange(24).reshape(4, 6)
    got = fd.softmax(da.from_array(x, chunks=(2, (2, 4))))
    assert got.dtype == np.float64
    assert_close(got.compute(), fastsmce.softmax(x), np.float64)


def test_the_class_axis_is_never_rechunked(rng):
    x = da.from_array(rng.standard_normal((8, 100)), chunks=(4, (30, 30, 40)))
    for op in (fd.softmax, fd.log_softmax):
        y = op(x)
        assert y.chunks == x.chunks
        biggest = max(np.prod([c[i] for c, i in zip(y.chunks, k)])
                      for k in np.ndindex(*y.numblocks))
        assert biggest <= 4 * 40
    assert fd.logsumexp(x).chunks == ((4, 4),)


@pytest.mark.parametrize("bad", [
    dict(axis=2), dict(axis=-3), dict(axis=1.5)])
def test_bad_axis_raises_at_call_time_like_numpy(bad):
    x = np.zeros((3, 4))
    X = da.from_array(x, chunks=(2, 2))
    for op in ("softmax", "log_softmax", "logsumexp"):
        same_error(lambda: getattr(fastsmce, op)(x, **bad), lambda: getattr(fd, op)(X, **bad))


def test_complex_dtype_raises_at_call_time():
    X = da.zeros((3, 4), dtype=np.complex128, chunks=2)
    with pytest.raises(TypeError, match="real-valued"):
        fd.softmax(X)


def _readers(y, x):
    """how many tasks of y's graph read each block of x"""
    graph = dict(y.__dask_graph__())
    counts = {k: 0 for k in graph if isinstance(k, tuple) and k[0] == x.name}
    for k, task in graph.items():
        for d in getattr(task, "dependencies", ()):
            if d in counts:
                counts[d] += 1
    return counts


def test_each_chunk_is_read_at_most_twice(rng):
    x = da.from_array(rng.standard_normal((8, 100)), chunks=(4, (30, 30, 40)))
    for op in (fd.softmax, fd.log_softmax, fd.logsumexp):
        counts = _readers(op(x).map_blocks(np.negative), x)   # a layer on top: no fusion
        assert len(counts) == 6 and 1 <= max(counts.values()) <= 2, counts
    one = da.from_array(rng.standard_normal((8, 100)), chunks=(4, 100))
    assert max(_readers(fd.softmax(one).map_blocks(np.negative), one).values()) == 1
