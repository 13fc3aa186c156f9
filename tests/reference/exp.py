"""Reference checks of the kernels' vectorised exp (``fastsmce._core._exp``): <= 2 ulp (float32)
against float64 exp rounded, <= 1 ulp (float64) against a correctly rounded exp (longdouble, and
mpmath near rounding midpoints), exactly +0.0 below ln(smallest normal), NaN -> NaN.  Each checker
returns a list of failure descriptions; tests/common/test_internal_kernels.py runs them in
process and tests/softmax/test_simd_paths.py on every SIMD path."""

import numpy as np

F32_CUTOFF = float(np.log(np.float64(np.finfo(np.float32).tiny)))  # -87.3365447505531
F64_CUTOFF = -708.3964185322641  # ln(2**-1022) rounded up: x >= this has exp(x) normal


def _fmt(x, y, ref, i):
    return f"exp({x[i]!r}) = {y[i]!r}, expected {ref[i]!r}"


def check_exp_f32_patterns(exp_fn, bits):
    """Check exp_fn on the float32 values with these bit patterns (all must be <= 0 or -0.0).
    Returns a list of failure descriptions (at most a few per kind)."""
    x = np.ascontiguousarray(np.asarray(bits, dtype=np.uint32)).view(np.float32)
    y = exp_fn(x)
    fails = []
    if y.dtype != np.float32 or y.shape != x.shape:
        return [f"_exp(float32) returned {y.dtype} {y.shape}"]
    x64 = x.astype(np.float64)
    nan = np.isnan(x)
    below = (x64 < F32_CUTOFF) & ~nan
    zero_bad = np.flatnonzero(below & ~((y == 0) & ~np.signbit(y)))
    if zero_bad.size:
        fails.append(f"{zero_bad.size} values below the cut-off not exactly +0.0, e.g. "
                     + "; ".join(_fmt(x, y, np.zeros_like(y), i) for i in zero_bad[:3]))
    nan_bad = np.flatnonzero(nan & ~np.isnan(y))
    if nan_bad.size:
        fails.append(f"NaN in, not NaN out: {y[nan_bad[:3]]}")
    ok = ~below & ~nan
    xs, ys = x64[ok], y[ok]
    ref = np.exp(xs).astype(np.float32)  # float64 exp rounded to float32
    dist = np.abs(ys.view(np.int32).astype(np.int64) - ref.view(np.int32).astype(np.int64))
    bad = np.flatnonzero(dist > 2)
    if bad.size:
        worst = bad[np.argmax(dist[bad])]
        fails.append(f"{bad.size} of {xs.size} float32 values over 2 ulp; worst "
                     f"{dist[worst]} ulp: " + _fmt(xs.astype(np.float32), ys, ref, worst)
                     + "; first: " + _fmt(xs.astype(np.float32), ys, ref, bad[0]))
    return fails


def _exp_f64_correctly_rounded(x):
    """exp of float64 values correctly rounded to float64: longdouble, with mpmath for the few
    values whose longdouble result lies near a float64 rounding midpoint."""
    ld = np.exp(x.astype(np.longdouble))
    ref = ld.astype(np.float64)
    ulp = np.spacing(ref).astype(np.longdouble)
    with np.errstate(all="ignore"):
        frac = np.abs((ld - ref.astype(np.longdouble)) / ulp)
    near = np.flatnonzero(np.abs(frac - 0.5) < 1e-3)
    if near.size:
        import mpmath
        with mpmath.workprec(200):
            for i in near:
                ref[i] = float(mpmath.exp(mpmath.mpf(float(x[i]))))
    return ref


def check_exp_f64(exp_fn, x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = exp_fn(x)
    if y.dtype != np.float64 or y.shape != x.shape:
        return [f"_exp(float64) returned {y.dtype} {y.shape}"]
    fails = []
    nan = np.isnan(x)
    below = (x < F64_CUTOFF) & ~nan
    zero_bad = np.flatnonzero(below & ~((y == 0) & ~np.signbit(y)))
    if zero_bad.size:
        fails.append(f"{zero_bad.size} values below the cut-off not exactly +0.0, e.g. "
                     + "; ".join(_fmt(x, y, np.zeros_like(y), i) for i in zero_bad[:3]))
    if (nan & ~np.isnan(y)).any():
        fails.append("NaN in, not NaN out")
    ok = ~below & ~nan
    xs, ys = x[ok], y[ok]
    ref = _exp_f64_correctly_rounded(xs)
    dist = np.abs(ys.view(np.int64) - ref.view(np.int64))
    bad = np.flatnonzero(dist > 1)
    if bad.size:
        worst = bad[np.argmax(dist[bad])]
        fails.append(f"{bad.size} of {xs.size} float64 values over 1 ulp; worst {dist[worst]} "
                     f"ulp: " + _fmt(xs, ys, ref, worst) + "; first: " + _fmt(xs, ys, ref, bad[0]))
    return fails


def exp_f64_points(rng, n):
    """n values with magnitude log-uniform in [2**-60, 708.3964] (negative), plus n // 5
    uniform in [-708.3964, 0]."""
    mag = np.exp(rng.uniform(np.log(2.0**-60), np.log(-F64_CUTOFF), n))
    uni = rng.uniform(F64_CUTOFF, 0, n // 5)
    return np.concatenate([-mag, uni])
