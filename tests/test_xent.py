"""cross_entropy / cross_entropy_with_grad: values against the float64 reference of PyTorch's
semantics (tests/xent_reference.py), gradients against central finite differences, PyTorch
parity where torch is importable, layouts, special values, bad input, memory, threads."""

import itertools
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastsmce
from xent_reference import cross_entropy_ref, cross_entropy_grad_fd

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL = {np.float32: 2e-5, np.float64: 1e-12}
ATOL = {np.float32: 2e-6, np.float64: 1e-13}
REDUCTIONS = ("none", "mean", "sum")


def make(shape, axis=-1, dtype=np.float64, kind="int", seed=0, ignore_every=0, scale=3.0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    C = shape[axis]
    bshape = tuple(s for d, s in enumerate(shape) if d != axis % len(shape))
    if kind == "int":
        t = rng.integers(0, C, size=bshape)
        if ignore_every:
            t.reshape(-1)[::ignore_every] = -100
    else:
        t = rng.random(shape).astype(dtype)
        t /= t.sum(axis=axis, keepdims=True)
    w = (rng.random(C) + 0.25).astype(dtype)
    return x, t, w


def grad_ref(x, t, **kw):
    """analytic float64 gradient of the reference (checked against finite differences below)"""
    import scipy.special as sp
    axis = kw.get("axis", -1)
    xm = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    C = xm.shape[-1]
    w = np.ones(C) if kw.get("weight") is None else np.asarray(kw["weight"], np.float64)
    eps = kw.get("label_smoothing", 0.0)
    t = np.asarray(t)
    if t.dtype.kind in "iu":
        keep = t != kw.get("ignore_index", -100)
        ys = np.where(keep, t, 0)
        u = np.full(xm.shape, eps / C) * w
        oh = np.zeros(xm.shape)
        np.put_along_axis(oh, ys[..., None], 1.0, axis=-1)
        u = u + (1 - eps) * oh * w
        u = u * keep[..., None]
        denom = (w[ys] * keep).sum()
    else:
        u = ((1 - eps) * np.moveaxis(t.astype(np.float64), axis, -1) + eps / C) * w
        denom = u.shape[:-1] and np.prod(u.shape[:-1]) or 1.0
    p = sp.softmax(xm, axis=-1)
    g = p * u.sum(-1, keepdims=True) - u
    if kw.get("reduction", "mean") == "mean":
        g = g / denom if denom else g * 0
    return np.moveaxis(g, -1, axis)


OPTIONS = [
    dict(),
    dict(weight=True),
    dict(label_smoothing=0.1),
    dict(weight=True, label_smoothing=0.25),
    dict(ignore_every=3),
    dict(weight=True, ignore_every=4, label_smoothing=0.05),
]


def _call(fn, x, t, w, opt, red, **more):
    kw = dict(reduction=red, **more)
    if opt.get("weight"):
        kw["weight"] = w
    if "label_smoothing" in opt:
        kw["label_smoothing"] = opt["label_smoothing"]
    return fn(x, t, **kw), kw


def _close(a, b, dtype, scale=1.0):
    np.testing.assert_allclose(np.asarray(a, np.float64), b, rtol=RTOL[dtype],
                               atol=ATOL[dtype] * scale)


# ---- values and gradients against the references ------------------------------------

# ignore_index applies to class indices only: no probability-target cases with it
KIND_OPTS = [(k, o) for k in ("int", "prob") for o in range(len(OPTIONS))
             if k == "int" or not OPTIONS[o].get("ignore_every")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,opt", KIND_OPTS)
@pytest.mark.parametrize("C", [1, 3, 10, 17, 64, 1000, 70001])
def test_matches_reference(dtype, kind, C, opt):
    opt = OPTIONS[opt]
    N = 3 if C > 10000 else 29
    x, t, w = make((N, C), dtype=dtype, kind=kind, ignore_every=opt.get("ignore_every", 0), seed=C)
    for red in REDUCTIONS:
        (loss, grad), kw = _call(fastsmce.cross_entropy_with_grad, x, t, w, opt, red)
        loss_only = fastsmce.cross_entropy(x, t, **kw)
        ref = cross_entropy_ref(x, t, **kw)
        assert grad.dtype == dtype and grad.shape == x.shape
        assert np.asarray(loss).dtype == dtype
        scale = np.log(C) + 10
        _close(loss, ref, dtype, scale * (N if red == "sum" else 1))
        _close(loss_only, ref, dtype, scale * (N if red == "sum" else 1))
        _close(grad, grad_ref(x, t, **kw), dtype)


@pytest.mark.parametrize("kind,opt", KIND_OPTS)
@pytest.mark.parametrize("red", REDUCTIONS)
def test_grad_matches_finite_differences(kind, opt, red):
    opt = OPTIONS[opt]
    x, t, w = make((5, 7), kind=kind, ignore_every=opt.get("ignore_every", 0), seed=opt.get("ignore_every", 1))
    (loss, grad), kw = _call(fastsmce.cross_entropy_with_grad, x, t, w, opt, red)
    fd = cross_entropy_grad_fd(x, t, **kw)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    # and the analytic reference the large tests use agrees with the differences
    np.testing.assert_allclose(grad_ref(x, t, **kw), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["int", "prob"])
def test_class_axis_and_nd_batches(dtype, kind):
    for shape, axis in [((4, 7, 3, 5), 1), ((6, 9), 0), ((2, 3, 11), -1), ((5, 1, 4), 1), ((11,), 0)]:
        x, t, w = make(shape, axis=axis, dtype=dtype, kind=kind, seed=len(shape))
        for red in REDUCTIONS:
            loss, grad = fastsmce.cross_entropy_with_grad(x, t, axis=axis, weight=w, reduction=red,
                                                          label_smoothing=0.1)
            kw = dict(axis=axis, weight=w, reduction=red, label_smoothing=0.1)
            ref = cross_entropy_ref(x, t, **kw)
            assert np.shape(loss) == np.shape(ref)
            _close(loss, ref, dtype, 20)
            _close(grad, grad_ref(x, t, **kw), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,opt", KIND_OPTS)
@pytest.mark.parametrize("shape", [(3, 5, 41), (2, 40, 7, 3), (70, 2)])
def test_class_axis_1_every_option(dtype, kind, opt, shape):
    """classes strided, neighbouring examples contiguous: the column kernels"""
    opt = OPTIONS[opt]
    x, t, w = make(shape, axis=1, dtype=dtype, kind=kind, ignore_every=opt.get("ignore_every", 0), seed=7)
    for red in REDUCTIONS:
        (loss, grad), kw = _call(fastsmce.cross_entropy_with_grad, x, t, w, opt, red, axis=1)
        ref = cross_entropy_ref(x, t, **kw)
        _close(loss, ref, dtype, 20 * (x.size if red == "sum" else 1))
        _close(fastsmce.cross_entropy(x, t, **kw), ref, dtype, 20 * (x.size if red == "sum" else 1))
        _close(grad, grad_ref(x, t, **kw), dtype)
        y = x.copy()
        fastsmce.cross_entropy_with_grad(y, t, grad_out=y, **kw)
        np.testing.assert_array_equal(y, grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts_strided_negative_fortran(dtype):
    base, tb, w = make((40, 60), dtype=dtype, kind="int", seed=5)
    probs = make((40, 60), dtype=dtype, kind="prob", seed=6)[1]
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
            _close(loss, cross_entropy_ref(v, target, **kw), dtype, 100 * rows)
            _close(grad, grad_ref(v, target, **kw), dtype)
            # into a strided grad_out
            big = np.full((v.shape[0], 2 * v.shape[1]), 7, dtype=dtype)
            out = big[:, ::2]
            l2, g2 = fastsmce.cross_entropy_with_grad(v, target, reduction="sum", weight=w[:v.shape[1]],
                                                       grad_out=out)
            assert g2 is out
            _close(out, grad.astype(np.float64), dtype)     # another kernel may run: not bitwise
            assert np.all(big[:, 1::2] == 7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["int", "prob"])
@pytest.mark.parametrize("C", [10, 1000, 70001])
def test_grad_out_may_be_the_logits(dtype, kind, C):
    x, t, w = make((6, C), dtype=dtype, kind=kind, seed=2)
    for opt in (dict(), dict(weight=w, label_smoothing=0.2)):
        loss, grad = fastsmce.cross_entropy_with_grad(x, t, **opt)
        y = x.copy()
        loss2, g2 = fastsmce.cross_entropy_with_grad(y, t, grad_out=y, **opt)
        assert g2 is y
        np.testing.assert_array_equal(g2, grad)
        assert loss2 == loss


def test_overlapping_grad_out_is_safe():
    x, t, _ = make((8, 33), kind="int", seed=3)
    ref_loss, ref_grad = fastsmce.cross_entropy_with_grad(x, t)
    buf = np.zeros((9, 33))
    buf[1:] = x
    loss, g = fastsmce.cross_entropy_with_grad(buf[1:], t, grad_out=buf[:-1])
    np.testing.assert_array_equal(buf[:-1], ref_grad)
    assert loss == ref_loss


# ---- semantics at the edges -------------------------------------------------------------

def test_ignored_rows_give_zero_loss_and_grad():
    x, t, w = make((10, 5), kind="int", seed=4)
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
    x, _, w = make((4, 6), kind="int")
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


def test_zero_size_batches():
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


def test_single_example_and_scalar_target():
    x = np.array([1.0, 2.0, 0.5])
    loss = fastsmce.cross_entropy(x, 1, reduction="none")
    assert np.ndim(loss) == 0
    assert np.isclose(loss, cross_entropy_ref(x, np.array(1), reduction="none"))
    loss, grad = fastsmce.cross_entropy_with_grad(x, np.int8(2))
    assert grad.shape == (3,)


def test_integer_dtypes_and_list_inputs():
    x, t, _ = make((7, 4), kind="int")
    ref = fastsmce.cross_entropy(x, t)
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64):
        assert fastsmce.cross_entropy(x, t.astype(dt)) == ref
    assert fastsmce.cross_entropy(x.tolist(), t.tolist()) == ref
    # integer logits compute in float64, like the rest of fastsmce
    assert np.asarray(fastsmce.cross_entropy(np.arange(12).reshape(3, 4), [0, 1, 3])).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_results(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [1e4, 1e4, -1e4]], dtype=dtype)
    t = np.array([1, 0, 2])
    for opt in (dict(), dict(label_smoothing=0.1), dict(weight=np.array([1, 2, 3], dtype=dtype))):
        loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="none", **opt)
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        ref = cross_entropy_ref(x, t, reduction="none", **opt)
        np.testing.assert_allclose(loss, ref, rtol=1e-6)
    p = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype=dtype)
    loss, grad = fastsmce.cross_entropy_with_grad(x, p, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss, cross_entropy_ref(x, p, reduction="none"), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [5, 1000, 70001])
def test_nan_and_inf_rows(dtype, C):
    """A NaN or +inf logit makes that row's loss and gradient NaN (as PyTorch); a -inf logit
    at a non-target class is probability 0; -inf at the target class is an infinite loss."""
    x = np.zeros((4, C), dtype=dtype)
    x[0, 1] = np.nan
    x[1, 2] = np.inf
    x[2, 3] = -np.inf
    x[3, 0] = -np.inf
    t = np.array([0, 0, 0, 0])
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="none")
    assert np.isnan(loss[0]) and np.all(np.isnan(grad[0]))
    assert np.isnan(loss[1]) and np.all(np.isnan(grad[1]))
    assert np.isclose(loss[2], np.log(C - 1)) and np.all(np.isfinite(grad[2])) and grad[2, 3] == 0
    assert loss[3] == np.inf and np.all(np.isfinite(grad[3]))
    assert grad[3, 0] == -1 and np.isclose(grad[3, 1], 1 / (C - 1))


# ---- properties ---------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 20), c=st.integers(1, 300), seed=st.integers(0, 2**31),
       scale=st.sampled_from([0.1, 1.0, 30.0]), prob=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_grad_rows_sum_to_zero(n, c, seed, scale, prob, dtype):
    x, t, _ = make((n, c), dtype=dtype, kind="prob" if prob else "int", seed=seed, scale=scale)
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, reduction="sum")
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(grad.astype(np.float64).sum(1), 0, atol=tol)
    assert np.all(np.asarray(loss) >= -tol * n)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 10), c=st.integers(2, 100), seed=st.integers(0, 2**31),
       shift=st.floats(-50, 50))
def test_shift_invariance(n, c, seed, shift):
    x, t, w = make((n, c), kind="int", seed=seed)
    a = fastsmce.cross_entropy(x, t, weight=w, reduction="none", label_smoothing=0.1)
    b = fastsmce.cross_entropy(x + shift, t, weight=w, reduction="none", label_smoothing=0.1)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * (1 + abs(shift)))


# ---- bad input: clear exceptions, nothing written -----------------------------------------

def _bad(exc, match, *args, **kw):
    x = args[0]
    out = np.full(np.shape(x), 7.0, dtype=np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float64)
    with pytest.raises(exc, match=match):
        fastsmce.cross_entropy_with_grad(*args, grad_out=out, **kw)
    assert np.all(out == 7.0)
    with pytest.raises(exc, match=match):
        fastsmce.cross_entropy(*args, **kw)


def test_bad_input_raises_before_writing():
    x = np.zeros((4, 3))
    t = np.array([0, 1, 2, 1])
    _bad(IndexError, "class index 3", x, np.array([0, 1, 3, 1]))
    _bad(IndexError, "class index -1", x, np.array([0, -1, 2, 1]))
    _bad(ValueError, "target has shape", x, np.array([0, 1, 2]))
    _bad(ValueError, "integer dtype", x, np.zeros((4, 3), dtype=np.int64))
    _bad(TypeError, "class\\s+indices must be integers", x, np.zeros(4))
    _bad(TypeError, "target must hold", x, np.array(["a", "b", "c", "d"]))
    _bad(TypeError, "target must hold", x, np.zeros(4, dtype=bool))
    _bad(ValueError, "weight has shape", x, t, weight=np.ones(4))
    _bad(ValueError, "weight holds a negative", x, t, weight=np.array([1.0, -1.0, 1.0]))
    _bad(ValueError, "weight holds a non-finite", x, t, weight=np.array([1.0, np.nan, 1.0]))
    _bad(ValueError, "weight holds a non-finite", x, t, weight=np.array([1.0, np.inf, 1.0]))
    _bad(TypeError, "weight must be a real", x, t, weight=np.array(["a", "b", "c"]))
    _bad(ValueError, "reduction must be one of", x, t, reduction="avg")
    _bad(ValueError, "reduction must be one of", x, t, reduction=None)
    _bad(ValueError, "label_smoothing must lie in", x, t, label_smoothing=1.5)
    _bad(ValueError, "label_smoothing must lie in", x, t, label_smoothing=-0.1)
    _bad(ValueError, "label_smoothing must lie in", x, t, label_smoothing=float("nan"))
    _bad(TypeError, "label_smoothing must be a number", x, t, label_smoothing="a")
    _bad(TypeError, "ignore_index must be an integer", x, t, ignore_index=1.5)
    _bad(ValueError, "ignore_index must fit in int64", x, t, ignore_index=2**64)
    _bad(IndexError, "class index 3", x, np.array([0, 1, 3, 1]), weight=np.ones(3))
    _bad(TypeError, "logits must be a real", np.zeros((4, 3), dtype=complex), t)
    _bad(np.exceptions.AxisError, "axis 2 is out of bounds", x, t, axis=2)
    with pytest.raises(ValueError, match="at least one dimension"):
        fastsmce.cross_entropy(np.float64(1.0), 0)


def test_bad_grad_out():
    x = np.zeros((4, 3))
    t = np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match="grad_out has shape"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=np.zeros((4, 4)))
    with pytest.raises(TypeError, match="grad_out has dtype"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=np.zeros((4, 3), dtype=np.float32))
    ro = np.zeros((4, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="grad_out is read-only"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=ro)
    with pytest.raises(TypeError, match="grad_out must be a numpy.ndarray"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=[[0.0] * 3] * 4)


# ---- memory: loss-only and in-place calls make nothing of size N x C -----------------------

@pytest.mark.parametrize("kind", ["int", "prob"])
def test_no_n_by_c_temporaries(kind):
    x, t, w = make((2000, 500), dtype=np.float32, kind=kind)
    nbytes = x.nbytes
    for call in (lambda: fastsmce.cross_entropy(x, t, weight=w, label_smoothing=0.1),
                 lambda: fastsmce.cross_entropy(x, t, reduction="none"),
                 lambda: fastsmce.cross_entropy_with_grad(x, t, grad_out=x, weight=w)):
        call()
        tracemalloc.start()
        call()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < nbytes / 8, peak


# ---- threads and SIMD paths ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis,kind", [((4096, 100), -1, "int"), ((3000, 300), -1, "prob"),
                                              ((64, 10, 8, 9), 1, "int"), ((4, 200000), -1, "int"),
                                              ((50000, 3), -1, "int"), ((3000, 17), 0, "int"),
                                              ((3000, 17), 0, "prob")])
def test_threads_bit_identical(dtype, shape, axis, kind):
    x, t, w = make(shape, axis=axis, dtype=dtype, kind=kind, ignore_every=7 if kind == "int" else 0)
    res = []
    try:
        for n in (1, 2, 3):
            fastsmce.set_num_threads(n)
            out = []
            for red in REDUCTIONS:
                out += list(fastsmce.cross_entropy_with_grad(x, t, axis=axis, weight=w, reduction=red,
                                                             label_smoothing=0.05))
                out.append(fastsmce.cross_entropy(x, t, axis=axis, reduction=red))
            res.append(out)
    finally:
        fastsmce.set_num_threads(None)
    for other in res[1:]:
        for a, b in zip(res[0], other):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def _simd_paths():
    cfg = fastsmce.show_config(mode="dicts")
    return cfg["simd_supported"]


@pytest.mark.simd
@pytest.mark.parametrize("simd", ["scalar", "avx2", "avx512"])
def test_every_simd_path(simd):
    if simd not in _simd_paths():
        pytest.skip(f"this CPU or build cannot run {simd}")
    env = dict(os.environ, FASTSMCE_SIMD=simd)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_root, HERE] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    code = (
        "import sys, numpy as np, pytest, fastsmce\n"
        f"assert fastsmce.show_config(mode='dicts')['simd'] == {simd!r}\n"
        "import test_xent as T\n"
        "for dt in (np.float32, np.float64):\n"
        "    for kind, opt in T.KIND_OPTS:\n"
        "        for C in (1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000, 70001):\n"
        "            T.test_matches_reference(dt, kind, C, opt)\n"
        "    for kind in ('int', 'prob'):\n"
        "        T.test_grad_out_may_be_the_logits(dt, kind, 1000)\n"
        "    T.test_extreme_logits_give_finite_results(dt)\n"
        "    for C in (5, 1000, 70001): T.test_nan_and_inf_rows(dt, C)\n"
        "    T.test_layouts_strided_negative_fortran(dt)\n"
        "    for kind, opt in T.KIND_OPTS:\n"
        "        for shape in ((3, 5, 41), (2, 40, 7, 3)):\n"
        "            T.test_class_axis_1_every_option(dt, kind, opt, shape)\n"
        "print('OK')\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]


# ---- PyTorch parity -----------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["int", "prob"])
def test_torch_parity_every_option(dtype, kind):
    torch = _torch()
    F = torch.nn.functional
    for shape, axis in [((13, 17), 1), ((6, 1000), 1), ((3, 5, 4, 6), 1), ((2, 70001), 1)]:
        x, t, w = make(shape, axis=axis, dtype=dtype, kind=kind, ignore_every=3 if kind == "int" else 0,
                       seed=shape[1])
        for use_w, eps, red, ign in itertools.product((False, True), (0.0, 0.15), REDUCTIONS,
                                                       (-100, 2)):
            if kind == "prob" and ign != -100:
                continue
            kw = dict(weight=w if use_w else None, label_smoothing=eps, reduction=red, ignore_index=ign)
            if kind == "int" and ign != -100:
                t = np.where(t == -100, ign, t)
            loss, grad = fastsmce.cross_entropy_with_grad(x, t, axis=axis, **kw)
            xt = torch.tensor(x, requires_grad=True)
            tt = torch.tensor(t)
            lt = F.cross_entropy(xt, tt, weight=None if w is None or not use_w else torch.tensor(w),
                                 label_smoothing=eps, reduction=red, ignore_index=ign)
            lt.sum().backward() if red == "none" else lt.backward()
            scale = 50 * (np.prod(shape) / shape[1] if red == "sum" else 1)
            np.testing.assert_allclose(np.asarray(loss, np.float64), lt.detach().numpy().astype(np.float64),
                                       rtol=RTOL[dtype] * 5, atol=ATOL[dtype] * scale)
            np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=RTOL[dtype] * 5, atol=ATOL[dtype] * 5)
