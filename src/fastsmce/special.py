"""fastsmce.special: a drop-in for ``scipy.special``'s softmax family and logistic functions.

``softmax(x, axis=None)``, ``log_softmax(x, axis=None)``, ``logsumexp(a, axis=None, b=None,
keepdims=False, return_sign=False)``, ``expit(x)`` and ``log_expit(x)`` take SciPy's
arguments with SciPy's defaults (``axis=None``: every element; tuple axes) and give SciPy's
results.  Real float32 / float64 inputs without ``b`` or ``return_sign`` run on fastsmce's
kernels, any axis or axes; everything else (integers, float16, longdouble, complex, ``b``,
``return_sign``, ufunc keywords, non-NumPy arrays) is handed to SciPy itself, so that
changing ``from scipy.special import softmax`` to ``from fastsmce.special import softmax``
changes nothing but the speed.  SciPy's own tests of these functions run against this module
(tests/special).
"""

from __future__ import annotations

import operator

import numpy as np

from . import _core

__all__ = ["softmax", "log_softmax", "logsumexp", "expit", "log_expit"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))


def _scipy():
    import scipy.special

    return scipy.special


def _fast_array(x):
    """x as a NumPy array when the kernels serve it (real float32 / float64), else None"""
    if type(x) is not np.ndarray:
        if not isinstance(x, (list, tuple, float, np.floating)):
            return None             # other array types (array API), ints, ...: SciPy decides
        x = np.asarray(x)
    return x if x.dtype in _FAST else None


def _axes(axis, ndim):
    """the axes as a sorted tuple of non-negative ints (SciPy's / NumPy's errors), or None
    when they are not plain integers"""
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (operator.index(axis),) if not isinstance(axis, tuple) else \
            tuple(operator.index(a) for a in axis)
    except TypeError:
        return None
    out = tuple(sorted(np.lib.array_utils.normalize_axis_tuple(axes, ndim)))
    return out


def _reduce_last(x, axes):
    """x with `axes` moved last and merged into one: (view or copy, the kept shape)"""
    rest = [d for d in range(x.ndim) if d not in axes]
    y = np.transpose(x, rest + list(axes))
    kept = y.shape[:len(rest)]
    return y.reshape(kept + (-1,)), kept


def _along(fn, x, axes):
    """fn(x, axis=-1) over the merged axes, back in x's layout"""
    if len(axes) == 1:
        return fn(x, axis=axes[0])
    if x.ndim == 0:
        return fn(x.reshape(1), axis=-1).reshape(())
    k = x.ndim - len(axes)
    if axes == tuple(range(k, x.ndim)):  # the last axes in order (axis=None): no transposes
        return fn(x.reshape(x.shape[:k] + (-1,)), axis=-1).reshape(x.shape)
    y, kept = _reduce_last(x, axes)
    rest = [d for d in range(x.ndim) if d not in axes]
    out = fn(y, axis=-1).reshape(tuple(x.shape[d] for d in rest + list(axes)))
    return np.transpose(out, np.argsort(rest + list(axes)))


def _scalar(out, a):
    return out[()] if a.ndim == 0 else out


def _scipy_rows(run, name, kind):
    """run(x, axis) -> (the kernels' output, the rows SciPy defines otherwise, or None when
    run does not know them), with those rows (_bad_rows' when run does not know them)
    redone by SciPy: rows with a non-finite max (SciPy's special values) and softmax's
    subnormal results, which the kernels' exp flushes to 0"""
    def fn(x, axis=-1):
        out, rows = run(x, axis)
        if rows is None:
            rows = _bad_rows(x, out, axis, kind) if out.size else None
        elif not rows.any():
            rows = None
        if rows is not None:
            with np.errstate(all="ignore"):
                ref = getattr(_scipy(), name)(x, axis=axis)
            np.copyto(out, ref, where=np.expand_dims(rows, axis))
        return out
    return fn


def _bad_rows(x, out, axis, kind):
    """which rows along `axis` of the kernels' output hold a value that is not > 0 (kind
    "not_positive", softmax's: a 0, maybe a subnormal the kernels' exp flushed, or a NaN)
    or a NaN (kind "nan", log_softmax's), shaped like out without `axis`; None when no row
    does.  log_softmax: y = x - logsumexp(x) row by row, so a row whose first x and first
    y are both finite has a finite logsumexp, hence no NaN and no +inf in x, and no NaN in
    y: only the other rows are looked at.  Otherwise a C-contiguous output along its last
    axis (what the kernels give a C-ordered input): one parallel pass in the kernels'
    module; other layouts: NumPy, the same test"""
    if kind == "nan":
        suspect = ~(np.isfinite(np.take(x, 0, axis=axis)) & np.isfinite(np.take(out, 0, axis=axis)))
        if not suspect.any():
            return None
        rows = np.zeros(suspect.shape, dtype=bool)
        rows[suspect] = np.isnan(np.moveaxis(out, axis, -1)[suspect]).any(axis=-1)
        return rows if rows.any() else None
    if out.flags.c_contiguous and axis in (-1, out.ndim - 1):
        rows = _core._rows_flag(out.reshape(-1, out.shape[-1]), kind).reshape(out.shape[:-1])
    else:
        rows = np.logical_not(out > 0).any(axis=axis) if not out.min() > 0 else None
    return rows if rows is not None and rows.any() else None


def _normalizer(name, run, kind, doc):
    """scipy.special.<name>(x, axis=None) on the kernels (run: as _scipy_rows takes it)"""
    fast = _scipy_rows(run, name, kind)

    def fn(x, axis=None):
        a = _fast_array(x)
        axes = _axes(axis, a.ndim) if a is not None else None
        if axes is None or a.size == 0:
            return getattr(_scipy(), name)(x, axis=axis)
        return _scalar(_along(fast, a, axes), a)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


# softmax: rows split across threads are checked as they are written (_softmax_checked)
softmax = _normalizer("softmax", _core._softmax_checked, "not_positive",
                      """``scipy.special.softmax``: exp(x) / sum(exp(x)) over ``axis``
(None: all elements; an int or a tuple of ints)""")
log_softmax = _normalizer("log_softmax", lambda x, axis: (_core.log_softmax(x, axis=axis), None),
                          "nan", """``scipy.special.log_softmax``: x - logsumexp(x) over ``axis``
(None: all elements; an int or a tuple of ints)""")


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``scipy.special.logsumexp``: log(sum(b * exp(a))) over ``axis`` (None: all elements);
    the kernels serve real float32 / float64 ``a`` without ``b`` or ``return_sign``"""
    x = _fast_array(a) if b is None and not return_sign else None
    axes = _axes(axis, x.ndim) if x is not None else None
    if axes is None or x.size == 0 or not axes:
        return _scipy().logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    y, kept = _reduce_last(x, axes)
    out = _core.logsumexp(y, axis=-1)
    if np.ndim(out) == 0:
        out = np.array(out)
    small = np.abs(out) < 0.5
    if small.any():
        # M + log(S) cancels when the result is near 0 (gh-18295: [0, -40] gives 4.2e-18):
        # those rows again as M + log1p(sum of the other terms), in float64
        out[small] = _lse_log1p(y[small]).astype(out.dtype)
    if keepdims:
        out = out.reshape(tuple(1 if d in axes else n for d, n in enumerate(x.shape)))
    return out[()] if np.ndim(out) == 0 else out


def _lse_log1p(rows):
    """logsumexp of each row, float64, as max + log1p(sum of exp(x - max) but one max)"""
    r = rows.astype(np.float64)
    m = r.max(axis=-1, keepdims=True)
    with np.errstate(all="ignore"):
        e = np.exp(r - m)
        first = np.argmax(r, axis=-1)
        e[np.arange(len(r)), first] = 0.0
        res = m[:, 0] + np.log1p(e.sum(axis=-1))
    # infinities and NaN as the kernel has them (inf - inf would be NaN here)
    bad = ~np.isfinite(m[:, 0])
    res[bad] = _core.logsumexp(rows[bad], axis=-1) if bad.any() else res[bad]
    return res


# where exp(-x) falls below the smallest normal the kernels' log_expit gives 0 and SciPy
# the subnormal -exp(-x) (x > _TINY); SciPy's expit gives 0 there as the kernels do
_TINY = {np.dtype(np.float32): -np.log(np.finfo(np.float32).tiny),
         np.dtype(np.float64): -np.log(np.finfo(np.float64).tiny)}


def _elementwise(name, kernel, x, args, kwargs):
    a = _fast_array(x) if not args and not kwargs else None
    if a is None:
        return getattr(_scipy(), name)(x, *args, **kwargs)
    out = kernel(a)
    if name == "log_expit" and a.size and a.max() > _TINY[a.dtype]:
        far = a > _TINY[a.dtype]
        out[far] = -np.exp(-a[far])
    return _scalar(out, a)


def expit(x, *args, **kwargs):
    """``scipy.special.expit`` (the logistic sigmoid); ufunc keywords go to SciPy"""
    return _elementwise("expit", _core.sigmoid, x, args, kwargs)


def log_expit(x, *args, **kwargs):
    """``scipy.special.log_expit`` (log of the logistic sigmoid); ufunc keywords go to SciPy"""
    return _elementwise("log_expit", _core.log_sigmoid, x, args, kwargs)
