"""sigmoid / log_sigmoid: accuracy in ulp against an extended-precision reference, special
values, dtypes, layouts, out= (in place too), bad out, threads."""

import warnings

import numpy as np
import pytest

import fastsmce

LD = np.longdouble
# ulp bounds: exp (<= 2 ulp f32, 1 ulp f64) plus one divide / the log1p
ULP = {np.float32: 3, np.float64: 2.5}


def ref_sigmoid(x):
    x = np.asarray(x, dtype=LD)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def ref_log_sigmoid(x):
    x = np.asarray(x, dtype=LD)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def ulp_error(got, ref, dtype):
    ref_t = np.asarray(ref).astype(dtype)
    sp = np.spacing(np.abs(ref_t)).astype(LD)
    tiny = np.finfo(dtype).tiny
    sp = np.maximum(sp, LD(np.spacing(dtype(tiny))))
    return np.abs(np.asarray(got, dtype=LD) - np.asarray(ref, dtype=LD)) / sp


def wide_inputs(dtype, rng, n=200_000):
    lim = 90 if dtype == np.float32 else 720
    x = np.concatenate([rng.uniform(-lim, lim, n), rng.standard_normal(n) * 4,
                        np.linspace(-30, 30, 6001), [0.0, -0.0, 1e-30, -1e-30]])
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_within_a_few_ulp_of_extended_precision(name, dtype, rng):
    x = wide_inputs(dtype, rng)
    got = getattr(fastsmce, name)(x)
    ref = (ref_sigmoid if name == "sigmoid" else ref_log_sigmoid)(x)
    assert got.dtype == dtype
    # results below the smallest normal are flushed to 0, like the exp (DESIGN.md section 4)
    tiny = np.finfo(dtype).tiny
    sub = np.abs(ref) < tiny
    assert np.all((got[sub] == 0) | (np.abs(got[sub]) < tiny))
    err = ulp_error(got[~sub], ref[~sub], dtype)
    i = np.argmax(err)
    assert err.max() <= ULP[dtype], (x[~sub][i], got[~sub][i], err.max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_and_no_warnings(dtype):
    x = np.array([np.inf, -np.inf, np.nan, -1e4, 1e4, -120, 120, 0.0, -0.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = fastsmce.sigmoid(x)
        ls = fastsmce.log_sigmoid(x)
    assert s[0] == 1 and s[1] == 0 and np.isnan(s[2])
    assert s[3] == 0 and s[4] == 1 and s[7] == 0.5 and s[8] == 0.5
    assert s[5] == dtype(ref_sigmoid(-120)) or abs(s[5] / float(ref_sigmoid(-120)) - 1) < 1e-6
    assert ls[0] == 0 and ls[1] == -np.inf and np.isnan(ls[2])
    assert ls[3] == -1e4 and ls[4] == 0 and ls[5] == -120
    assert ls[7] == dtype(-np.log(2))


def test_nan_propagates_in_every_lane_position():
    for n in range(1, 40):
        x = np.linspace(-3, 3, n).astype(np.float32)
        x[n - 1] = np.nan
        assert np.isnan(fastsmce.sigmoid(x)[n - 1])
        assert np.isnan(fastsmce.log_sigmoid(x)[n - 1])
        assert not np.isnan(fastsmce.sigmoid(x)[: n - 1]).any()


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.float16, np.uint8])
def test_other_real_dtypes_compute_in_float64(dtype):
    x = np.arange(-5, 6).astype(dtype)
    y = fastsmce.sigmoid(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, ref_sigmoid(x.astype(np.float64)).astype(np.float64), rtol=1e-15)


def test_complex_input_is_rejected():
    with pytest.raises(TypeError, match="x"):
        fastsmce.sigmoid(np.ones(3, dtype=np.complex128))


LAYOUTS = {
    "c": lambda a: a,
    "fortran": np.asfortranarray,
    "strided": lambda a: a[::2, ::3],
    "negative": lambda a: a[::-1, ::-2],
    "transposed3d": lambda a: a.reshape(6, 10, 20).transpose(2, 0, 1)[:, ::2],
    "column": lambda a: a[:, 5],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_any_layout_matches_contiguous(name, layout, rng):
    a = LAYOUTS[layout](rng.standard_normal((60, 20)) * 5)
    f = getattr(fastsmce, name)
    np.testing.assert_array_equal(f(a), f(np.ascontiguousarray(a)))
    ro = a.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(f(ro), f(np.ascontiguousarray(a)))


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_zero_size_and_0d(name):
    f = getattr(fastsmce, name)
    assert f(np.empty((0, 7))).shape == (0, 7)
    r = f(np.float64(2.0))
    assert np.ndim(r) == 0 and np.isclose(float(r), float((ref_sigmoid if name == "sigmoid" else ref_log_sigmoid)(2.0)))


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_out_in_place_and_supplied(name, rng):
    f = getattr(fastsmce, name)
    x = rng.standard_normal((300, 257)).astype(np.float32)
    expected = f(x)
    out = np.empty_like(x)
    assert f(x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    y = x.copy()
    assert f(y, out=y) is y
    np.testing.assert_array_equal(y, expected)
    # a strided out and an out overlapping the input other than exactly
    big = np.zeros((300, 514), np.float32)
    f(x, out=big[:, ::2])
    np.testing.assert_array_equal(big[:, ::2], expected)
    z = np.concatenate([x.ravel(), [0]]).astype(np.float32)
    f(z[1:].reshape(x.shape), out=z[:-1].reshape(x.shape))
    np.testing.assert_array_equal(z[:-1].reshape(x.shape), f(np.concatenate([x.ravel()[1:], [0]]).astype(np.float32).reshape(x.shape)))


@pytest.mark.parametrize("bad,exc", [(np.empty((3, 4), np.float64), TypeError),
                                     (np.empty((4, 3), np.float32), ValueError),
                                     ([0.0] * 12, TypeError)])
def test_bad_out_raises_and_writes_nothing(bad, exc):
    x = np.ones((3, 4), np.float32)
    before = np.array(bad, copy=True)
    with pytest.raises(exc, match="out"):
        fastsmce.sigmoid(x, out=bad)
    np.testing.assert_array_equal(np.asarray(bad), before)


@pytest.mark.threads
@pytest.mark.parametrize("shape", [(4096, 100), (1, 1_000_003), (3000, 3)])
@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_bit_identical_for_any_thread_count(name, shape, rng):
    x = rng.standard_normal(shape) * 10
    res = []
    for t in (1, 2, 3):
        fastsmce.set_num_threads(t)
        res.append(getattr(fastsmce, name)(x))
    assert np.array_equal(res[0], res[1]) and np.array_equal(res[0], res[2])
