"""cross-entropy layouts: the class axis strided (axis 1, the column kernels), strided /
negative-stride / Fortran logits and targets, a strided grad_out, grad_out aliasing the logits
or overlapping them."""

import numpy as np
import pytest

import fastsmce
from helpers import REDUCTIONS, XENT_KIND_OPTS, XENT_OPTIONS, xent_call, xent_case, xent_close
from reference.xent import cross_entropy_grad_ref, cross_entropy_ref


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,opt", XENT_KIND_OPTS)
@pytest.mark.parametrize("shape", [(3, 5, 41), (2, 40, 7, 3), (70, 2)])
def test_class_axis_1_matches_reference_for_every_option(dtype, kind, opt, shape):
    """classes strided, neighbouring examples contiguous: the column kernels"""
    opt = XENT_OPTIONS[opt]
    x, t, w = xent_case(shape, axis=1, dtype=dtype, kind=kind, ignore_every=opt.get("ignore_every", 0), seed=7)
    for red in REDUCTIONS:
        (loss, grad), kw = xent_call(fastsmce.cross_entropy_with_grad, x, t, w, opt, red, axis=1)
        ref = cross_entropy_ref(x, t, **kw)
        xent_close(loss, ref, dtype, 20 * (x.size if red == "sum" else 1))
        xent_close(fastsmce.cross_entropy(x, t, **kw), ref, dtype, 20 * (x.size if red == "sum" else 1))
        xent_close(grad, cross_entropy_grad_ref(x, t, **kw), dtype)
        y = x.copy()
        fastsmce.cross_entropy_with_grad(y, t, grad_out=y, **kw)
        np.testing.assert_array_equal(y, grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_negative_and_fortran_layouts_match_reference(dtype):
    base, tb, w = xent_case((40, 60), dtype=dtype, kind="int", seed=5)
    probs = xent_case((40, 60), dtype=dtype, kind="prob", seed=6)[1]
    views = [base[::2, ::3], base[::-1], base[:, ::-1], np.asfortranarray(base), base.T.copy().T,
             base[5:25, 7:50]]
    for v in views:
        rows = v.shape[0]
        t = tb[:rows] % v.shape[1]
        p = np.ascontiguousarray(probs[:rows, :v.shape[1]])
        p /= p.sum(1, keepdims=True)
        for target in (t, p, p[::-1][::-1], np.asfortranarray(p)):
            loss, grad = fastsmce.cross_entropy_with_grad(v, target, reduction="sum", weight=w[:v.shape[1]])
            kw = dict(reduction="sum", weight=w[:v.shape[1]])
            xent_close(loss, cross_entropy_ref(v, target, **kw), dtype, 100 * rows)
            xent_close(grad, cross_entropy_grad_ref(v, target, **kw), dtype)
            # into a strided grad_out
            big = np.full((v.shape[0], 2 * v.shape[1]), 7, dtype=dtype)
            out = big[:, ::2]
            l2, g2 = fastsmce.cross_entropy_with_grad(v, target, reduction="sum", weight=w[:v.shape[1]],
                                                       grad_out=out)
            assert g2 is out
            xent_close(out, grad.astype(np.float64), dtype)     # another kernel may run: not bitwise
            assert np.all(big[:, 1::2] == 7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["int", "prob"])
@pytest.mark.parametrize("C", [10, 1000, 70001])
def test_grad_out_may_be_the_logits_bit_for_bit(dtype, kind, C):
    x, t, w = xent_case((6, C), dtype=dtype, kind=kind, seed=2)
    for opt in (dict(), dict(weight=w, label_smoothing=0.2)):
        loss, grad = fastsmce.cross_entropy_with_grad(x, t, **opt)
        y = x.copy()
        loss2, g2 = fastsmce.cross_entropy_with_grad(y, t, grad_out=y, **opt)
        assert g2 is y
        np.testing.assert_array_equal(g2, grad)
        assert loss2 == loss


def test_overlapping_grad_out_is_safe():
    x, t, _ = xent_case((8, 33), kind="int", seed=3)
    ref_loss, ref_grad = fastsmce.cross_entropy_with_grad(x, t)
    buf = np.zeros((9, 33))
    buf[1:] = x
    loss, g = fastsmce.cross_entropy_with_grad(buf[1:], t, grad_out=buf[:-1])
    np.testing.assert_array_equal(buf[:-1], ref_grad)
    assert loss == ref_loss
