"""Shard statistics: linear_cross_entropy_stats over disjoint slices of the classes,
merge_shard_stats and cross_entropy_from_stats give linear_cross_entropy of the whole
vocabulary, for every option, uneven shards, any merge order and grouping; their errors."""

import numpy as np
import pytest

import fastsmce
from reference.linear import linear_xent_ref

lce = fastsmce.linear_cross_entropy
stats_of = fastsmce.linear_cross_entropy_stats
merge = fastsmce.merge_shard_stats
from_stats = fastsmce.cross_entropy_from_stats
TOL = {np.float32: 2e-5, np.float64: 1e-10}
pytestmark = pytest.mark.usefixtures("lce_path")


def problem(rng, N=17, D=6, V=23, dtype=np.float64, scale=1.0):
    X = (rng.standard_normal((N, D)) * scale).astype(dtype)
    W = (rng.standard_normal((V, D)) * scale).astype(dtype)
    b = rng.standard_normal(V).astype(dtype)
    t = rng.integers(0, V, N)
    t[::5] = -100
    return X, W, b, t


def shard_stats(X, W, b, t, cuts, weight=None, **kw):
    edges = [0, *cuts, W.shape[0]]
    return [stats_of(X, W[lo:hi], t, linear_bias=None if b is None else b[lo:hi], class_start=lo,
                     weight=None if weight is None else weight[lo:hi], **kw)
            for lo, hi in zip(edges[:-1], edges[1:])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.15}, {"weight": True}, {"z_loss": 0.03},
                                  {"softcap": 3.0},
                                  {"weight": True, "label_smoothing": 0.1, "z_loss": 0.01, "softcap": 6.0}])
@pytest.mark.parametrize("cuts", [(), (1,), (11,), (3, 4, 17), (2, 9, 14, 20, 22)])
def test_merged_shards_give_the_whole_loss(dtype, reduction, opts, cuts, rng):
    X, W, b, t = problem(rng, dtype=dtype)
    kw = dict(opts)
    w = rng.uniform(0.3, 2.0, W.shape[0]).astype(dtype) if kw.pop("weight", False) else None
    cap = kw.pop("softcap", None)
    parts = shard_stats(X, W, b, t, cuts, weight=w, softcap=cap)
    got = from_stats(merge(*parts), t, reduction=reduction, **kw)
    whole = lce(X, W, t, linear_bias=b, weight=w, softcap=cap, reduction=reduction, **kw)
    ref = linear_xent_ref(X, W, t, b=b, weight=w, softcap=cap, reduction=reduction, **kw)
    scale = max(1.0, np.max(np.abs(ref)))
    assert np.asarray(got).dtype == np.float64
    assert np.max(np.abs(np.asarray(got, np.float64) - ref)) <= TOL[dtype] * scale
    assert np.max(np.abs(np.asarray(got, np.float64) - np.asarray(whole, np.float64))) <= TOL[dtype] * scale


def test_merge_is_associative_and_order_free(rng):
    X, W, b, t = problem(rng, V=40)
    p = shard_stats(X, W, b, t, (7, 8, 25, 31))
    ref = from_stats(merge(*p), t, reduction="none", label_smoothing=0.1)
    for combo in (merge(merge(p[0], p[1]), merge(p[2], merge(p[3], p[4]))),
                  merge(*p[::-1]), merge(merge(p[4], p[0]), p[2], merge(p[3], p[1])), merge(p)):
        np.testing.assert_allclose(from_stats(combo, t, reduction="none", label_smoothing=0.1), ref,
                                   rtol=1e-13, atol=1e-13)


def test_stats_hold_the_rows_logsumexp_and_target(rng):
    X, W, b, t = problem(rng)
    st = merge(*shard_stats(X, W, b, t, (5, 12)))
    Z = X @ W.T + b
    np.testing.assert_allclose(st.max + np.log(st.sumexp), np.log(np.exp(Z).sum(1)), rtol=1e-13)
    counted = t != -100
    np.testing.assert_allclose(st.target_logit[counted], Z[counted, t[counted]], rtol=1e-13)
    assert (st.target_count == counted).all() and st.num_classes == W.shape[0]
    np.testing.assert_allclose(st.logit_sum, Z.sum(1), rtol=1e-12)


def test_huge_logits_and_batch_shape(rng):
    X, W, b, t = problem(rng, N=12, scale=30.0)
    X3, t3 = X.reshape(3, 4, -1), t.reshape(3, 4)
    parts = [stats_of(X3, W[:9], t3, linear_bias=b[:9]), stats_of(X3, W[9:], t3, linear_bias=b[9:], class_start=9)]
    assert parts[0].max.shape == (3, 4)
    got = from_stats(merge(*parts), t3, reduction="none")
    ref = linear_xent_ref(X, W, t, b=b, reduction="none").reshape(3, 4)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)


def test_an_empty_shard_adds_nothing(rng):
    X, W, b, t = problem(rng)
    parts = shard_stats(X, W, b, t, (10,))
    N = X.shape[0]
    empty = fastsmce.ShardStats(np.full(N, -np.inf), np.zeros(N), np.zeros(N), np.zeros(N),
                                np.zeros(N, np.int64), np.zeros(N), 0, 0.0)
    np.testing.assert_array_equal(from_stats(merge(empty, *parts), t, reduction="none"),
                                  from_stats(merge(*parts), t, reduction="none"))


def test_errors(rng):
    X, W, b, t = problem(rng)
    a, c = shard_stats(X, W, b, t, (10,))
    with pytest.raises(ValueError, match="class_start"):
        stats_of(X, W, t, class_start=-1)
    with pytest.raises(TypeError, match="class_start"):
        stats_of(X, W, t, class_start=1.5)
    with pytest.raises(IndexError, match="class index -3"):
        stats_of(X, W, np.full_like(t, -3))
    with pytest.raises(ValueError, match="weight"):
        stats_of(X, W[:10], t, weight=np.ones(11))
    with pytest.raises(ValueError, match="not 1"):       # a shard counted twice
        from_stats(merge(a, a, c), t)
    with pytest.raises(ValueError, match="not 1"):       # a shard missing: targets in it not found
        from_stats(a._replace(num_classes=W.shape[0]), t)
    with pytest.raises(IndexError, match="outside"):
        from_stats(merge(a, c), np.full_like(t, W.shape[0]))
    with pytest.raises(ValueError, match="shape"):
        from_stats(merge(a, c), t[:-1])
    with pytest.raises(ValueError, match="different shapes"):
        merge(a, stats_of(X[:-1], W[10:], t[:-1], class_start=10))
    with pytest.raises(TypeError, match="ShardStats"):
        merge(a, (1, 2))
    with pytest.raises(ValueError, match="at least one"):
        merge()
    with pytest.raises(TypeError, match="stats"):
        from_stats(tuple(a), t)
    with pytest.raises(ValueError, match="reduction"):
        from_stats(merge(a, c), t, reduction="avg")
    with pytest.raises(ValueError, match="z_loss"):
        from_stats(merge(a, c), t, z_loss=-1.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        from_stats(merge(a, c), t, label_smoothing=2.0)
