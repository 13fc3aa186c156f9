"""cross_entropy and cross_entropy_with_grad of Dask logits == the NumPy functions', the
class axis split in 2-8 uneven chunks and the rows too: every reduction, class weights,
label smoothing, ignored rows, NaN / inf rows, errors."""

import pytest

pytest.importorskip("dask.array")

import dask
import dask.array as da
import numpy as np
from dask_helpers import assert_close, same_error, split

import fastsmce
import fastsmce.dask as fd


def _case(rng, dtype, N=13, C=71, special=True):
    x = (rng.standard_normal((N, C)) * 3).astype(dtype)
    t = rng.integers(0, C, N)
    t[2] = t[7] = -100
    if special:
        x[4, 9] = np.nan
        x[5, 3] = np.inf
        x[6, :20] = -np.inf
        t[6] = 30
    return x, t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nchunks", [1, 3, 8])
def test_loss_and_grad_match_numpy(client, rng, dtype, nchunks):
    x, t = _case(rng, dtype)
    X = da.from_array(x, chunks=((6, 7), split(71, nchunks, rng) if nchunks > 1 else 71))
    reductions = ("mean", "sum", "none")
    x_ok, t_ok = x[7:], t[7:]               # NaN / inf rows only under "none"
    X_ok = X[7:]
    lazy = [fd.cross_entropy_with_grad(X if r == "none" else X_ok, t if r == "none" else t_ok,
                                       reduction=r) for r in reductions]
    assert all(g.chunks == (X if r == "none" else X_ok).chunks
               for (_, g), r in zip(lazy, reductions))
    lazy += [fd.cross_entropy(X, t, reduction="none")]
    got = dask.compute(*lazy)
    for (loss, grad), r in zip(got, reductions):
        ref_loss, ref_grad = fastsmce.cross_entropy_with_grad(x if r == "none" else x_ok,
                                                              t if r == "none" else t_ok,
                                                              reduction=r)
        assert_close(loss, ref_loss, dtype)
        assert_close(grad, ref_grad, dtype)
    assert_close(got[-1], fastsmce.cross_entropy(x, t, reduction="none"), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smoothing, weighted", [(0.25, False), (0.0, True), (0.25, True)])
def test_options_match_numpy(client, rng, dtype, smoothing, weighted):
    x, t = _case(rng, dtype, special=False)
    w = rng.random(71) + 0.1 if weighted else None
    X = da.from_array(x, chunks=(5, split(71, 4, rng)))
    T = da.from_array(t, chunks=4)          # chunked otherwise than the logits: follows them
    reductions = ("mean", "sum", "none")
    opts = dict(weight=w, label_smoothing=smoothing, ignore_index=-100)
    got = dask.compute(*[fd.cross_entropy_with_grad(X, T, reduction=r, **opts) for r in reductions])
    for g, r in zip(got, reductions):
        ref = fastsmce.cross_entropy_with_grad(x, t, reduction=r, **opts)
        assert_close(g[0], ref[0], dtype)
        assert_close(g[1], ref[1], dtype)


def test_ignore_index_and_all_ignored(client, rng):
    x, t = _case(rng, np.float64, special=False)
    t[:] = 5
    X = da.from_array(x, chunks=(7, (30, 41)))
    for r in ("mean", "sum", "none"):
        got = dask.compute(*fd.cross_entropy_with_grad(X, t, ignore_index=5, reduction=r))
        ref = fastsmce.cross_entropy_with_grad(x, t, ignore_index=5, reduction=r)
        assert_close(got[0], ref[0], np.float64)       # mean: NaN, gradient 0
        assert_close(got[1], ref[1], np.float64)


def test_batch_dims_and_one_row(client, rng):
    x = rng.standard_normal((2, 3, 20))
    t = rng.integers(0, 20, (2, 3))
    X = da.from_array(x, chunks=(1, 2, (7, 13)))
    for r in ("none", "mean"):
        assert_close(fd.cross_entropy(X, t, reduction=r).compute(),
                     fastsmce.cross_entropy(x, t, reduction=r), np.float64)
    got = dask.compute(*fd.cross_entropy_with_grad(X[0, 0], t[0, 0], reduction="none"))
    ref = fastsmce.cross_entropy_with_grad(x[0, 0], t[0, 0], reduction="none")
    assert_close(got[0], ref[0], np.float64)
    assert_close(got[1], ref[1], np.float64)


@pytest.mark.parametrize("bad", [
    dict(reduction="avg"), dict(label_smoothing=1.5), dict(label_smoothing=-0.1),
    dict(ignore_index=1.5), dict(weight=np.ones(3)), dict(weight=-np.ones(10)),
    dict(weight=np.full(10, np.nan))])
def test_bad_options_raise_at_call_time_like_numpy(bad):
    x, t = np.zeros((4, 10)), np.zeros(4, np.int64)
    X = da.from_array(x, chunks=(2, 5))
    same_error(lambda: fastsmce.cross_entropy(x, t, **bad), lambda: fd.cross_entropy(X, t, **bad))


def test_bad_target_shapes_raise_at_call_time_like_numpy():
    x = np.zeros((4, 10))
    X = da.from_array(x, chunks=(2, 5))
    for t in (np.zeros(3, np.int64), np.zeros((4, 10), np.int64), np.zeros(4, np.float64)):
        same_error(lambda: fastsmce.cross_entropy(x, t), lambda: fd.cross_entropy(X, t))
    with pytest.raises(TypeError, match="real-valued"):
        fd.cross_entropy(da.zeros((4, 10), dtype=complex, chunks=2), np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="last axis"):
        fd.cross_entropy(X, np.zeros(10, np.int64), axis=0)


def test_class_index_out_of_range_raises_at_compute_like_numpy(client):
    x = np.zeros((4, 10))
    X = da.from_array(x, chunks=(2, 5))
    for bad in (10, -3):
        t = np.array([0, 1, bad, 2])
        loss = fd.cross_entropy(X, t)           # values unknown until computed
        same_error(lambda: fastsmce.cross_entropy(x, t), loss.compute)
