"""fastsmce.special against scipy.special itself: every axis form, keepdims, dtypes,
layouts, special values and subnormal results; the kernels serve real float32 / float64
(no silent fall-back), everything else is SciPy's answer; SciPy's exceptions for bad axes."""

import numpy as np
import pytest

import fastsmce.special as fsp

sps = pytest.importorskip("scipy.special")
FUNCS = ["softmax", "log_softmax", "logsumexp"]
AXES = [None, 0, 1, -1, 2, (0, 2), (2, 0), (-1, 1), (0, 1, 2), ()]


def same(got, want, dtype, exact=None):
    """same type, shape and dtype as SciPy's; values within DESIGN's bounds of the float64
    answer `exact` (SciPy's own float32 result is no closer than ours)"""
    assert type(got) is type(want) or (np.ndim(got) == np.ndim(want) == 0)
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    tol = 2e-6 if dtype == np.float32 else 1e-13
    ref = np.asarray(want if exact is None else exact, np.float64)
    err = np.abs(np.asarray(got, np.float64) - ref)
    assert (err <= tol * np.maximum(np.abs(ref), 1.0)).all(), err.max()


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_axes_dtypes_layouts(name, axis, dtype, layout, rng):
    x = rng.standard_normal((3, 4, 5)).astype(dtype) * 3
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=1)[:, ::-2]
    if name == "softmax" and axis == ():
        axis = None      # scipy's softmax with () is an identity-like edge case, below
    same(getattr(fsp, name)(x, axis=axis), getattr(sps, name)(x, axis=axis), dtype,
         getattr(sps, name)(x.astype(np.float64), axis=axis))


@pytest.mark.parametrize("axis", AXES)
def test_logsumexp_keepdims(axis, rng):
    x = rng.standard_normal((3, 4, 5))
    same(fsp.logsumexp(x, axis=axis, keepdims=True), sps.logsumexp(x, axis=axis, keepdims=True),
         np.float64)


@pytest.mark.parametrize("name", FUNCS + ["expit", "log_expit"])
@pytest.mark.parametrize("x", [3.0, np.float32(-2.0), [1.0, 2.0], [[1.0, -np.inf], [np.nan, 0.0]],
                               np.zeros((0, 3)), np.array([np.inf, 1.0]), np.array([-np.inf, -np.inf]),
                               np.array([np.inf, -np.inf]), np.array([1e308, 1e308])])
def test_scalars_lists_empty_and_special_values(name, x):
    with np.errstate(all="ignore"):
        try:
            want = getattr(sps, name)(x)
        except Exception as e:          # SciPy refuses (an empty softmax): so do we
            with pytest.raises(type(e)):
                getattr(fsp, name)(x)
            return
        got = getattr(fsp, name)(x)
    assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    assert np.isscalar(got) == np.isscalar(want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormal_results(dtype):
    tiny = np.finfo(dtype).tiny
    big = -np.log(tiny) + 5          # exp(-big) is subnormal
    x = np.array([0.0, -big, -big - 3, -1e4], dtype)
    for name, arg in (("softmax", x), ("expit", x[1:3]), ("log_expit", -x[1:3])):
        got, want = getattr(fsp, name)(arg), getattr(sps, name)(arg)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    assert 0 < fsp.softmax(x)[1] < tiny and 0 > fsp.log_expit(-x[1]) > -tiny
    assert fsp.logsumexp(np.array([0.0, -40.0])) == pytest.approx(np.log1p(np.exp(-40.0)), rel=1e-15)


@pytest.mark.parametrize("x", [np.arange(5), np.arange(5, dtype=np.int32), np.ones(4, np.float16),
                               np.ones(4, np.longdouble), np.array([1 + 2j, 3 - 1j]),
                               np.array([True, False])])
@pytest.mark.parametrize("name", FUNCS + ["expit", "log_expit"])
def test_other_dtypes_are_scipys_answer(x, name):
    try:
        want = getattr(sps, name)(x)
    except Exception as e:           # what SciPy refuses, fastsmce.special refuses alike
        with pytest.raises(type(e)):
            getattr(fsp, name)(x)
        return
    got = getattr(fsp, name)(x)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


def test_logsumexp_b_and_return_sign_are_scipys(rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((3, 4))
    for kw in ({"b": b}, {"b": b, "return_sign": True}, {"return_sign": True, "axis": 1}):
        got, want = fsp.logsumexp(a, **kw), sps.logsumexp(a, **kw)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("axis", [3, -4, (0, 0), (1, -1), (0, 2), 1.5, "a"])
@pytest.mark.parametrize("name", FUNCS)
def test_bad_axes_raise_as_scipy(name, axis):
    x = np.ones((2, 3))
    with pytest.raises(Exception) as want:
        getattr(sps, name)(x, axis=axis)
    with pytest.raises(want.type):
        getattr(fsp, name)(x, axis=axis)


def test_the_kernels_serve_real_floats(monkeypatch, rng):
    """float32 / float64 arrays never reach SciPy (except the documented fix-ups)"""
    import scipy.special

    def boom(*a, **k):
        raise AssertionError("fell back to scipy")

    for name in FUNCS + ["expit", "log_expit"]:
        monkeypatch.setattr(scipy.special, name, boom)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((4, 5, 6)).astype(dtype)
        for axis in (None, 1, (0, 2)):
            fsp.softmax(x, axis=axis)
            fsp.log_softmax(x, axis=axis)
            fsp.logsumexp(x, axis=axis)
        fsp.expit(x)
        fsp.log_expit(x)
