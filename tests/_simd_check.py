"""Accuracy checks for one SIMD path, run in a subprocess by tests/test_simd_paths.py:

    FASTSMCE_SIMD=avx2 python tests/_simd_check.py avx2 [--config-only]

Prints ``CONFIG {json}`` (show_config(mode="dicts") plus the RuntimeWarnings raised at import)
on the first line, then checks all five functions on many shapes (SIMD tails n = 1..33, 1000,
70000, columns), special values in the tails, the strided exp ulp sweep, and 1-vs-2-thread
bit-identity.  Exits 0 and prints OK, or exits non-zero with one line per failure.

The exp checkers are also imported by tests/test_exp_ulp.py."""

import json
import os
import sys
import warnings

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


# ---------------------------------------------------------------------------
# the subprocess
# ---------------------------------------------------------------------------

def _collect(fails, label, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except AssertionError as e:
        fails.append(f"{label}: {str(e).splitlines()[0] if str(e) else 'assertion failed'}")


def _accuracy(fails):
    from _cases import FUNCS, check, gen_inputs

    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        for name in FUNCS:
            gens = gen_inputs(name, rng, dtype)
            cases = [((3, n), -1) for n in range(1, 34)]
            cases += [((n, 5), 0) for n in (1, 2, 7, 16, 17, 33)]
            cases += [((9, 1), 0), ((33, 31), 0), ((4, 1000), -1), ((1000, 4), 0),
                      ((2, 70000), -1), ((64, 10), -1), ((300, 257), 0), ((300, 257), -1)]
            for shape, axis in cases:
                args = [g(shape) for g in gens]
                _collect(fails, f"{name} {np.dtype(dtype).name} {shape} axis={axis}", check,
                         name, args, axis=axis)
                if shape[0] > 1 and shape[1] > 1:  # strided rows: the gathered-row path
                    args = [np.asfortranarray(a) for a in args]
                    _collect(fails, f"{name} {np.dtype(dtype).name} F{shape} axis={axis}",
                             check, name, args, axis=axis)


def _special_tails(fails):
    """NaN, +inf and -inf placed in the vector tail of every row length 1..33 (and columns)."""
    from _cases import check

    rng = np.random.default_rng(8)
    for dtype in (np.float32, np.float64):
        for n in range(1, 34):
            x = rng.standard_normal((6, n)).astype(dtype)
            x[0, -1] = np.nan
            x[1, -1] = np.inf
            x[2, :] = -np.inf
            x[3, -1] = -np.inf
            x[4, 0] = -np.inf
            for name in ("softmax", "log_softmax", "logsumexp"):
                _collect(fails, f"{name} special row n={n} {np.dtype(dtype).name}", check,
                         name, [x], axis=-1)
                _collect(fails, f"{name} special column n={n} {np.dtype(dtype).name}", check,
                         name, [np.ascontiguousarray(x.T)], axis=0)


def _exp_ulp(fails):
    from fastsmce import _core

    bits = np.arange(0x80000000, 0xC2D00000 + 1, 97, dtype=np.uint32)
    fails += [f"exp f32: {m}" for m in check_exp_f32_patterns(_core._exp, bits)]
    x = exp_f64_points(np.random.default_rng(9), 200000)
    fails += [f"exp f64: {m}" for m in check_exp_f64(_core._exp, x)]


def _threads(fails):
    import fastsmce
    from _cases import FUNCS, call, gen_inputs

    rng = np.random.default_rng(10)
    for dtype in (np.float32, np.float64):
        for shape, axis in (((4096, 100), -1), ((3, 300001), -1), ((1000, 300), 0)):
            for name in FUNCS:
                args = [g(shape) for g in gen_inputs(name, rng, dtype)]
                res = []
                for t in (1, 2):
                    fastsmce.set_num_threads(t)
                    res.append(call(name, args, axis))
                fastsmce.set_num_threads(None)
                if not np.array_equal(res[0], res[1], equal_nan=True):
                    fails.append(f"{name} {np.dtype(dtype).name} {shape} axis={axis}: 1 and 2 "
                                 f"threads differ")


def main(argv):
    expected = argv[1] if len(argv) > 1 else ""
    config_only = "--config-only" in argv
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import fastsmce
    cfg = fastsmce.show_config(mode="dicts")
    cfg["import_warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    print("CONFIG " + json.dumps(cfg), flush=True)
    if config_only:
        return 0
    if expected and cfg["simd"] != expected:
        print(f"FAIL: requested {expected!r}, active path is {cfg['simd']!r}")
        return 2
    fails = []
    _accuracy(fails)
    _special_tails(fails)
    _exp_ulp(fails)
    _threads(fails)
    if fails:
        for f in fails[:60]:
            print("FAIL: " + f)
        print(f"{len(fails)} failures on path {cfg['simd']!r}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
