"""cross_entropy / cross_entropy_with_grad: loss and gradient against the float64 reference of
PyTorch's semantics (reference.xent) for every option, class axis and N-d batches, and the
semantics at the edges (ignored rows, all ignored, weighted mean, zero size, scalars, integer
targets)."""

import numpy as np
import pytest

import fastsmce
from helpers import REDUCTIONS, XENT_KIND_OPTS, XENT_OPTIONS, xent_call, xent_case, xent_close
from reference.xent import cross_entropy_grad_ref, cross_entropy_ref


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,opt", XENT_KIND_OPTS)
@pytest.mark.parametrize("C", [1, 3, 10, 17, 64, 1000, 70001])
def test_matches_reference(dtype, kind, C, opt):
    opt = XENT_OPTIONS[opt]
    N = 3 if C > 10000 else 29
    x, t, w = xent_case((N, C), dtype=dtype, kind=kind, ignore_every=opt.get("ignore_every", 0), seed=C)
    for red in REDUCTIONS:
        (loss, grad), kw = xent_call(fastsmce.cross_entropy_with_grad, x, t, w, opt, red)
        loss_only = fastsmce.cross_entropy(x, t, **kw)
        ref = cross_entropy_ref(x, t, **kw)
        assert grad.dtype == dtype and grad.shape == x.shape
        assert np.asarray(loss).dtype == dtype
        scale = np.log(C) + 10
        xent_close(loss, ref, dtype, scale * (N if red == "sum" else 1))
        xent_close(loss_only, ref, dtype, scale * (N if red == "sum" else 1))
        xent_close(grad, cross_entropy_grad_ref(x, t, **kw), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["int", "prob"])
def test_class_axis_and_nd_batches_match_reference(dtype, kind):
    for shape, axis in [((4, 7, 3, 5), 1), ((6, 9), 0), ((2, 3, 11), -1), ((5, 1, 4), 1), ((11,), 0)]:
        x, t, w = xent_case(shape, axis=axis, dtype=dtype, kind=kind, seed=len(shape))
        for red in REDUCTIONS:
            loss, grad = fastsmce.cross_entropy_with_grad(x, t, axis=axis, weight=w, reduction=red,
                                                          label_smoothing=0.1)
            kw = dict(axis=axis, weight=w, reduction=red, label_smoothing=0.1)
            ref = cross_entropy_ref(x, t, **kw)
            assert np.shape(loss) == np.shape(ref)
            xent_close(loss, ref, dtype, 20)
            xent_close(grad, cross_entropy_grad_ref(x, t, **kw), dtype)


def test_ignored_rows_give_zero_loss_and_grad():
    x, t, w = xent_case((10, 5), kind="int", seed=4)
    t[[1, 4, 7]] = -100
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="none", weight=w, label_smoothing=0.3)
    assert np.all(loss[[1, 4, 7]] == 0)
    assert np.all(grad[[1, 4, 7]] == 0)
    t2 = t.copy()
    t2[t2 == -100] = 3
    t2[[0, 2]] = 3
    l3 = fastsmce.cross_entropy(x, t2, ignore_index=3, reduction="none")
    assert l3[0] == 0 and l3[1] == 0


def test_all_ignored_mean_is_nan_with_zero_grad():
    x, _, w = xent_case((4, 6), kind="int")
    t = np.full(4, -100)
    for kw in (dict(), dict(weight=w), dict(label_smoothing=0.2)):
        loss, grad = fastsmce.cross_entropy_with_grad(x, t, **kw)
        assert np.isnan(loss)
        assert np.all(grad == 0)
        assert fastsmce.cross_entropy(x, t, reduction="sum", **kw) == 0


def test_weighted_mean_divides_by_counted_weights():
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    t = np.array([2, 0, -100])
    w = np.array([0.5, 1.0, 2.0])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expect = -(2.0 * logp[0, 2] + 0.5 * logp[1, 0]) / 2.5
    assert np.isclose(fastsmce.cross_entropy(x, t, weight=w), expect, rtol=1e-14)


def test_zero_size_batches_give_nan_mean_and_zero_sum():
    for dtype in (np.float32, np.float64):
        x = np.zeros((0, 5), dtype=dtype)
        t = np.zeros(0, dtype=np.int64)
        loss, grad = fastsmce.cross_entropy_with_grad(x, t)
        assert np.isnan(loss) and grad.shape == (0, 5)
        assert fastsmce.cross_entropy(x, t, reduction="sum") == 0
        assert fastsmce.cross_entropy(x, t, reduction="none").shape == (0,)
        p = np.zeros((0, 5), dtype=dtype)
        assert np.isnan(fastsmce.cross_entropy(x, p))
        # zero classes with probability targets: nothing to add
        assert fastsmce.cross_entropy(np.zeros((3, 0)), np.zeros((3, 0)), reduction="sum") == 0


def test_single_example_and_scalar_target_give_scalar_loss():
    x = np.array([1.0, 2.0, 0.5])
    loss = fastsmce.cross_entropy(x, 1, reduction="none")
    assert np.ndim(loss) == 0
    assert np.isclose(loss, cross_entropy_ref(x, np.array(1), reduction="none"))
    loss, grad = fastsmce.cross_entropy_with_grad(x, np.int8(2))
    assert grad.shape == (3,)


def test_integer_targets_of_any_dtype_and_lists_give_the_same_loss():
    x, t, _ = xent_case((7, 4), kind="int")
    ref = fastsmce.cross_entropy(x, t)
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64):
        assert fastsmce.cross_entropy(x, t.astype(dt)) == ref
    assert fastsmce.cross_entropy(x.tolist(), t.tolist()) == ref
    # integer logits compute in float64, like the rest of fastsmce
    assert np.asarray(fastsmce.cross_entropy(np.arange(12).reshape(3, 4), [0, 1, 3])).dtype == np.float64
