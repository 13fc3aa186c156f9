"""Slow, obviously-correct references for the softmax family (forward and backward), and the
tolerance checks of DESIGN.md section 3 that the softmax tests and the fuzzer share.

Everything is computed in ``np.longdouble`` (80-bit extended on x86 Linux) after converting the
input values exactly, and returned as float64.  Special values follow fastsmce's contract
(DESIGN.md section 3), which is scipy.special's except where scipy itself warns:

* a row containing NaN:                      softmax NaN, log_softmax NaN, logsumexp NaN
* a row containing +inf (and no NaN):        softmax NaN, log_softmax NaN, logsumexp +inf
* a row of only -inf (or an empty row):      softmax NaN, log_softmax NaN, logsumexp -inf
* a -inf entry in an otherwise finite row:   probability 0, log-probability -inf

(scipy.special.log_softmax gives ``[-inf, nan, -inf]`` for ``[1, inf, 2]``; we ask for a row of
NaN, which is what PyTorch gives.)
"""

import numpy as np

LD = np.longdouble

# Tolerances of DESIGN.md section 3.
PROB_RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-14}
# Probabilities below this are only checked absolutely (|got - ref| <= floor).
PROB_FLOOR = {np.dtype(np.float32): 1e-30, np.dtype(np.float64): 1e-300}
# log-space: |got - ref| <= LOG_ATOL * max(1, |ref|)
LOG_ATOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-14}
# Backward results: |got - ref| <= BWD_RTOL * (magnitude of the terms), see *_backward_scale.
BWD_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-13}


def result_dtype(x):
    """The dtype fastsmce must return for input ``x``."""
    dt = np.asarray(x).dtype
    if dt.kind == "f" and dt.itemsize == 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _rows(x, axis):
    x = np.asarray(x)
    if x.ndim == 0:
        raise np.exceptions.AxisError(axis, 0)
    axis = _normalize_axis(axis, x.ndim)
    xl = np.moveaxis(x.astype(LD), axis, -1)
    return xl, axis


def _normalize_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def _row_stats(xl):
    """(m, s, finite_row, has_nan, has_pinf, all_ninf) along the last axis, in longdouble."""
    has_nan = np.isnan(xl).any(axis=-1)
    has_pinf = np.isposinf(xl).any(axis=-1)
    all_ninf = np.isneginf(xl).all(axis=-1)           # True for empty rows as well
    finite_row = ~(has_nan | has_pinf | all_ninf)
    with np.errstate(all="ignore"):
        m = np.max(np.where(finite_row[..., None], xl, LD(0)), axis=-1, initial=LD(-np.inf))
        m = np.where(finite_row, m, LD(0))
        d = xl - m[..., None]                          # -inf entries stay -inf
        e = np.exp(d)
        s = e.sum(axis=-1)
    return d, e, m, s, finite_row, has_nan, has_pinf, all_ninf


def _out(r, as_longdouble):
    if as_longdouble:
        return r
    with np.errstate(over="ignore"):  # beyond float64 range: +-inf, the right answer
        return r.astype(np.float64)


def logsumexp_ref(x, axis=-1, keepdims=False, as_longdouble=False):
    xl, ax = _rows(x, axis)
    d, e, m, s, finite_row, has_nan, has_pinf, all_ninf = _row_stats(xl)
    with np.errstate(all="ignore"):
        r = m + np.log(s)
    r = np.where(finite_row, r, LD(0))
    r = np.where(all_ninf, LD(-np.inf), r)
    r = np.where(has_pinf, LD(np.inf), r)
    r = np.where(has_nan, LD(np.nan), r)
    if keepdims:
        r = np.expand_dims(r, ax)
    return _out(r, as_longdouble)


def softmax_ref(x, axis=-1, as_longdouble=False):
    xl, ax = _rows(x, axis)
    d, e, m, s, finite_row, *_ = _row_stats(xl)
    with np.errstate(all="ignore"):
        p = e / s[..., None]
    p = np.where(finite_row[..., None], p, LD(np.nan))
    p = np.moveaxis(p, -1, ax)
    return _out(p, as_longdouble)


def log_softmax_ref(x, axis=-1, as_longdouble=False):
    xl, ax = _rows(x, axis)
    d, e, m, s, finite_row, *_ = _row_stats(xl)
    with np.errstate(all="ignore"):
        lp = d - np.log(s)[..., None]
    lp = np.where(finite_row[..., None], lp, LD(np.nan))
    lp = np.moveaxis(lp, -1, ax)
    return _out(lp, as_longdouble)


def softmax_backward_ref(grad, probs, axis=-1, as_longdouble=False):
    """probs * (grad - sum(grad * probs, axis))"""
    g, ax = _rows(grad, axis)
    p, _ = _rows(probs, axis)
    dot = (g * p).sum(axis=-1, keepdims=True)
    r = np.moveaxis(p * (g - dot), -1, ax)
    return _out(r, as_longdouble)


def log_softmax_backward_ref(grad, log_probs, axis=-1, as_longdouble=False):
    """grad - exp(log_probs) * sum(grad, axis)"""
    g, ax = _rows(grad, axis)
    lp, _ = _rows(log_probs, axis)
    r = np.moveaxis(g - np.exp(lp) * g.sum(axis=-1, keepdims=True), -1, ax)
    return _out(r, as_longdouble)


def softmax_backward_scale(grad, probs, axis=-1):
    """Magnitude of the terms of the softmax VJP: |p| * (|g| + sum |g p|); rounding errors of
    any sensible implementation are a small multiple of eps times this."""
    g, ax = _rows(grad, axis)
    p, _ = _rows(probs, axis)
    s = np.abs(p) * (np.abs(g) + np.abs(g * p).sum(axis=-1, keepdims=True))
    return np.moveaxis(s, -1, ax).astype(np.float64)


def log_softmax_backward_scale(grad, log_probs, axis=-1):
    g, ax = _rows(grad, axis)
    lp, _ = _rows(log_probs, axis)
    s = np.abs(g) + np.exp(lp) * np.abs(g).sum(axis=-1, keepdims=True)
    return np.moveaxis(s, -1, ax).astype(np.float64)


def softmax_jacobian(s):
    """J_ij = d S_i / d x_j = S_i (delta_ij - S_j), from one row of probabilities (longdouble)"""
    return np.diag(s) - np.outer(s, s)


def log_softmax_jacobian(lp):
    """J_ij = d logS_i / d x_j = delta_ij - S_j, from one row of log-probabilities (longdouble)"""
    s = np.exp(lp)
    return np.eye(len(s), dtype=LD) - np.outer(np.ones_like(s), s)


def rows_vjp(jac_of_row, g, second):
    """Apply the per-row Jacobian built by ``jac_of_row`` (longdouble) as g @ J, row by row:
    the backward passes written as explicit vector-Jacobian products (2-D inputs, last axis)."""
    out = np.empty(g.shape, LD)
    for r in range(g.shape[0]):
        out[r] = g[r].astype(LD) @ jac_of_row(second[r].astype(LD))
    return out.astype(np.float64)


# ---------------------------------------------------------------------------
# assertions
# ---------------------------------------------------------------------------

def _same_nan_and_inf(got, ref, what):
    __tracebackhide__ = True
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    bad = np.isnan(got) != np.isnan(ref)
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(f"{what}: NaN mismatch at {i}: got {got[i]!r}, expected {ref[i]!r} "
                             f"({int(bad.sum())} of {bad.size} entries)")
    inf = np.isinf(ref) | np.isinf(got)
    bad = inf & (got != ref)
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(f"{what}: inf mismatch at {i}: got {got[i]!r}, expected {ref[i]!r} "
                             f"({int(bad.sum())} of {bad.size} entries)")
    return got, ref, np.isfinite(ref) & np.isfinite(got)


def _report(what, got, ref, bad, err, tol):
    __tracebackhide__ = True
    i = tuple(np.argwhere(bad)[0])
    worst = tuple(np.unravel_index(np.argmax(np.where(bad, err / np.maximum(tol, 1e-300), 0)),
                                   bad.shape)) if bad.ndim else ()
    raise AssertionError(
        f"{what}: {int(bad.sum())} of {bad.size} entries out of tolerance; first at {i}: "
        f"got {got[i]!r}, expected {ref[i]!r} (err {err[i]:.3g}, tol {tol[i]:.3g}); worst at "
        f"{worst}: got {got[worst]!r}, expected {ref[worst]!r} (err {err[worst]:.3g}, "
        f"tol {tol[worst]:.3g})")


def assert_probs_close(got, ref, dtype, what="softmax", rtol_scale=1.0):
    """Probabilities: relative PROB_RTOL where ref >= PROB_FLOOR, absolute PROB_FLOOR below;
    NaN exactly where the reference has NaN."""
    __tracebackhide__ = True
    dtype = np.dtype(dtype)
    got, ref, fin = _same_nan_and_inf(got, ref, what)
    rtol = PROB_RTOL[dtype] * rtol_scale
    floor = PROB_FLOOR[dtype]
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(fin, np.abs(got - ref), 0.0)
    tol = np.where(np.abs(ref) >= floor, rtol * np.abs(ref), floor)
    bad = fin & (err > tol)
    if bad.any():
        _report(what, got, ref, bad, err, tol)


def assert_log_close(got, ref, dtype, what="log-space", atol_scale=1.0):
    """Log-space values: |got - ref| <= LOG_ATOL * max(1, |ref|); infinities and NaN exact.
    A finite reference beyond the range of ``dtype`` must come out as the matching infinity."""
    __tracebackhide__ = True
    dtype = np.dtype(dtype)
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(over="ignore"):
        cast = ref.astype(dtype).astype(np.float64)
    ref = np.where(np.isinf(cast) & np.isfinite(ref), cast, ref)
    got, ref, fin = _same_nan_and_inf(got, ref, what)
    tol = LOG_ATOL[dtype] * atol_scale * np.maximum(1.0, np.abs(ref))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(fin, np.abs(got - ref), 0.0)
    bad = fin & (err > tol)
    if bad.any():
        _report(what, got, ref, bad, err, tol)


def assert_scaled_close(got, ref, scale, rtol, what="backward"):
    """|got - ref| <= rtol * scale (+ a denormal-sized floor)."""
    __tracebackhide__ = True
    got, ref, fin = _same_nan_and_inf(got, ref, what)
    tol = rtol * np.asarray(scale, dtype=np.float64) + 1e-300
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(fin, np.abs(got - ref), 0.0)
    bad = fin & (err > tol)
    if bad.any():
        _report(what, got, ref, bad, err, tol)
