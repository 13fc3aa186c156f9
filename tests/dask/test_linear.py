"""Vocabulary-parallel linear_cross_entropy == fastsmce.linear_cross_entropy: input chunked
by rows, the weight and bias by classes (uneven shards), every reduction and option; and
on workers whose memory limit is below the whole weight matrix (it never sits on one)."""

import pytest

pytest.importorskip("dask.array")

import dask
import dask.array as da
import numpy as np
from dask_helpers import assert_close, same_error, split

import fastsmce
import fastsmce.dask as fd


def _case(rng, dtype, N=30, D=8, V=131):
    x = rng.standard_normal((N, D)).astype(dtype)
    W = rng.standard_normal((V, D)).astype(dtype)
    b = rng.standard_normal(V).astype(dtype)
    t = rng.integers(0, V, N)
    t[[3, 11]] = -100
    return x, W, b, t


def _case_with(rng, dtype, opts):
    """a case and the keyword arguments of opts: bias / weight True take the case's bias,
    random class weights; ignore_index marks three rows"""
    x, W, b, t = _case(rng, dtype)
    kw = dict(opts)
    t[[3, 5, 11]] = kw.get("ignore_index", -100)
    if kw.pop("bias", False):
        kw["linear_bias"] = b
    if kw.pop("weight", False):
        kw["weight"] = rng.random(131) + 0.1
    return x, W, t, kw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opts", [{}, dict(bias=True),
                                  dict(bias=True, weight=True, label_smoothing=0.2),
                                  dict(ignore_index=7, label_smoothing=0.1)])
def test_sharded_vocabulary_matches_numpy(client, rng, dtype, opts):
    x, W, t, kw = _case_with(rng, dtype, opts)
    shards = split(131, 5, rng)
    X = da.from_array(x, chunks=((9, 21), 8))
    Wd = da.from_array(W, chunks=(shards, 8))
    reductions = ("mean", "sum", "none")
    lazy = [fd.linear_cross_entropy(X, Wd, t, reduction=r, **kw) for r in reductions]
    assert all(isinstance(g, da.Array) for g in lazy)
    for g, r in zip(dask.compute(*lazy), reductions):
        assert_close(g, fastsmce.linear_cross_entropy(x, W, t, reduction=r, **kw), dtype)


def test_each_task_sees_one_shard(rng):
    x, W, b, t = _case(rng, np.float64)
    Wd = da.from_array(W, chunks=((40, 40, 51), 8))
    loss = fd.linear_cross_entropy(da.from_array(x, chunks=(10, 8)), Wd, t, linear_bias=b)
    # the weight's blocks are read by the statistics tasks only, one block each
    graph = dict(loss.__dask_graph__())
    wkeys = {k for k in graph if isinstance(k, tuple) and k[0] == Wd.name}
    assert len(wkeys) == 3
    for k, task in graph.items():
        deps = {d for d in getattr(task, "dependencies", ()) if d in wkeys}
        assert len(deps) <= 1, k


def test_numpy_weight_and_one_row(client, rng):
    x, W, b, t = _case(rng, np.float32)
    assert_close(fd.linear_cross_entropy(x, W, t).compute(),
                 fastsmce.linear_cross_entropy(x, W, t), np.float32)
    assert_close(fd.linear_cross_entropy(x[0], da.from_array(W, chunks=(50, 8)), t[0],
                                         reduction="none").compute(),
                 fastsmce.linear_cross_entropy(x[0], W, t[0], reduction="none"), np.float32)


@pytest.mark.parametrize("bad", [
    dict(W=np.zeros((5, 3))), dict(b=np.zeros(4)), dict(t=np.zeros(3, np.int64)),
    dict(t=np.zeros(4, np.float64)), dict(reduction="x"), dict(label_smoothing=2.0),
    dict(weight=np.ones(3)), dict(weight=-np.ones(5)), dict(x=np.zeros((4, 2), complex))])
def test_bad_arguments_raise_at_call_time_like_numpy(bad):
    a = dict(x=np.zeros((4, 2)), W=np.zeros((5, 2)), t=np.zeros(4, np.int64), b=None)
    a.update(bad)
    x, W, t, b = a.pop("x"), a.pop("W"), a.pop("t"), a.pop("b")
    same_error(lambda: fastsmce.linear_cross_entropy(x, W, t, linear_bias=b, **a),
                lambda: fd.linear_cross_entropy(da.from_array(x, chunks=2),
                                                da.from_array(W, chunks=(2, -1)), t,
                                                linear_bias=b, **a))


@pytest.fixture(scope="module")
def small_workers():
    """two worker processes of 200 MiB each (about 85 MiB of it the interpreter, dask and
    fastsmce), below the 256 MiB weight matrix of the test below"""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", memory_limit="200MiB") as c, \
            distributed.Client(c) as cl:
        yield cl


def test_vocabulary_larger_than_a_worker(small_workers):
    """V=524288, D=128 float32: the weight (256 MiB) is generated shard by shard inside the
    graph (16 shards of 16 MiB) and never whole on a worker; the loss is exact"""
    N, D, V = 16, 128, 1 << 19
    rng = da.random.default_rng(7)
    Wd = rng.standard_normal((V, D), chunks=(V // 16, D), dtype=np.float32) * np.float32(0.3)
    x = np.random.default_rng(8).standard_normal((N, D)).astype(np.float32)
    t = np.random.default_rng(9).integers(0, V, N)
    workers = set(small_workers.scheduler_info()["workers"])
    X = da.from_array(x, chunks=(8, D))
    got = fd.linear_cross_entropy(X, Wd, t, reduction="none").compute()
    assert set(small_workers.scheduler_info()["workers"]) == workers     # none killed
    W = Wd.compute(scheduler="sync")        # the same values, here, for the reference
    np.testing.assert_allclose(got, fastsmce.linear_cross_entropy(x, W, t, reduction="none"),
                               rtol=2e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opts", [dict(reduction="mean"),
                                  dict(reduction="sum", bias=True, weight=True,
                                       label_smoothing=0.2),
                                  dict(reduction="none", bias=True, ignore_index=7)])
def test_sharded_gradients_match_numpy(client, rng, dtype, opts):
    x, W, t, kw = _case_with(rng, dtype, opts)
    X = da.from_array(x, chunks=((9, 21), 8))
    Wd = da.from_array(W, chunks=(split(131, 4, rng), 8))
    loss, grads = fd.linear_cross_entropy_with_grad(X, Wd, t, **kw)
    assert grads.input.chunks == X.chunks and grads.linear_weight.chunks == Wd.chunks
    got = dask.compute(loss, *[g for g in grads if g is not None])
    ref_loss, ref = fastsmce.linear_cross_entropy_with_grad(x, W, t, **kw)
    assert_close(got[0], ref_loss, dtype)
    for g, r in zip(got[1:], [r for r in ref if r is not None]):
        # float32: sums of products in another order (BLAS over other splits)
        if dtype == np.float32:
            np.testing.assert_allclose(g, r, rtol=2e-5, atol=2e-6 * np.abs(r).max())
        else:
            assert_close(g, r, dtype)
    assert (grads.linear_bias is None) == ("linear_bias" not in kw)


def test_gradients_of_one_row_and_of_a_numpy_weight(client, rng):
    x, W, b, t = _case(rng, np.float64)
    loss, grads = fd.linear_cross_entropy_with_grad(x[0], W, t[0], linear_bias=b)
    got = dask.compute(loss, *grads)
    ref_loss, ref = fastsmce.linear_cross_entropy_with_grad(x[0], W, t[0], linear_bias=b)
    for g, r in zip(got, (ref_loss,) + tuple(ref)):
        assert_close(g, r, np.float64)
