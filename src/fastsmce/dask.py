"""fastsmce on Dask arrays: softmax, log_softmax, logsumexp, cross-entropy and a
vocabulary-parallel linear cross-entropy, lazily (``pip install "fastsmce[dask]"``).

A reduction axis held in one chunk: one ``map_blocks`` over fastsmce's NumPy function.
Split over several chunks, it is never rechunked: each chunk gives its rows' statistics
(max, sum exp(x - max), the target's logit where it holds the target, its class weight,
the weighted logit sum) in float64 from the C core, a tree reduction over the chunks
merges them exactly (``fastsmce.merge_shard_stats``, DESIGN section 4), and a last
blockwise pass writes the outputs (softmax, log_softmax, the gradient) or the losses
(``fastsmce.cross_entropy_from_stats``).  Each input chunk is read at most twice and no
task holds more than one input chunk.

Errors: bad options, dtypes and shapes raise at call time with the NumPy functions'
exceptions and messages; what needs the values (a class index out of range) raises when
the result is computed.  Cross-entropy takes integer class indices on the last axis.
"""

import string

import dask.array as da
import numpy as np

import fastsmce
from fastsmce import _core

__all__ = ["softmax", "log_softmax", "logsumexp"]

# the packed statistics of a row: the first six fields of fastsmce.ShardStats, in order
_NSTAT = 6
_F64 = np.dtype(np.float64)


def _pack(st):
    return np.stack([np.asarray(f, np.float64) for f in st[:_NSTAT]], -1)


def _unpack(a, num_classes=0, weight_sum=0.0):
    return fastsmce.ShardStats(*(a[..., i] for i in range(_NSTAT)), num_classes, weight_sum)


def _merge(a, axis, keepdims=True):
    """the tree reduction's combine / aggregate: the statistics of the chunks along axis
    merged into one (kept as a dimension of size 1)"""
    ax = axis[0] if isinstance(axis, tuple) else axis
    return _pack(fastsmce.merge_shard_stats(
        [_unpack(p) for p in np.split(a, a.shape[ax], axis=ax)]))


def _identity(a, axis, keepdims=True):
    return a


def _canonical(st, rows):
    """a chunk's (max, sumexp) of rows holding NaN or +inf, made to merge as the NumPy
    functions decide: max NaN when a NaN is there (the merged max stays NaN), else +inf
    with sumexp 1 (the kernel's sumexp of inf - inf is NaN either way)"""
    bad = np.isnan(st.sumexp)
    if bad.any():
        st.max[bad] = np.where(np.isnan(rows[bad]).any(axis=-1), np.nan, np.inf)
        st.sumexp[bad] = 1.0
    return st


def _stats_block(z, t, start, w, axis, ign, xent):
    """the statistics of one chunk, shaped like it with the axis of size 1, plus the
    fields' axis last"""
    z = np.moveaxis(z, axis, -1)
    z2 = z.reshape(-1, z.shape[-1])
    st = _core._logit_stats(z2, None if t is None else t.reshape(-1),
                            int(start[0]) if start is not None and len(start) else 0, w, ign, xent)
    if not xent:
        st = _canonical(st, z2)
    return np.expand_dims(_pack(st).reshape(z.shape[:-1] + (_NSTAT,)), axis)


def _letters(n):
    return string.ascii_lowercase[:n]


def _class_ids(chunks):
    """the class ids, chunked like the class axis: a task reads its first class id (lazy
    blocks: nothing of size V is ever built in one piece)"""
    return da.arange(sum(chunks), chunks=(chunks,), dtype=np.int64)


def _merged(stats, axis):
    """the statistics merged over the chunks of axis (a tree), that axis dropped"""
    meta = np.empty((0,) * stats.ndim, np.float64)
    red = da.reduction(stats, _identity, _merge, axis=axis, keepdims=True, dtype=_F64,
                       combine=_merge, concatenate=True, meta=meta)
    return red.squeeze(axis)


# ---- softmax, log_softmax, logsumexp ------------------------------------------------------

def _proxy(x):
    """a one-element stand-in of x's dtype and rank for the NumPy functions' checks"""
    return np.zeros((1,) * x.ndim, dtype=x.dtype)


def _row_stats(x, ax):
    """x's rows' (max, sumexp) merged over the chunks of axis ax: shape x.shape without ax,
    plus the fields' axis"""
    ind = _letters(x.ndim)
    stats = da.blockwise(_stats_block, ind + "Z", x, ind, None, None, None, None, None, None,
                         axis=ax, ign=-100, xent=False, new_axes={"Z": _NSTAT},
                         adjust_chunks={ind[ax]: 1}, dtype=_F64,
                         meta=np.empty((0,) * (x.ndim + 1), np.float64))
    return _merged(stats, ax)


def _lse_block(st, out_dtype):
    m, s = st[..., 0], st[..., 1]
    with np.errstate(all="ignore"):
        lse = np.where(np.isfinite(m), m + np.log(s), m)
    return lse.astype(out_dtype)


def _write_block(x, st, axis, log):
    z = np.moveaxis(x, axis, -1)
    m, s = st[..., 0].reshape(-1), st[..., 1].copy().reshape(-1)
    s[m == np.inf] = np.nan         # a row with +inf: NaN, as the NumPy functions
    y = _core._softmax_from_stats(z.reshape(-1, z.shape[-1]), m, s, log)
    return np.moveaxis(y.reshape(z.shape), -1, axis)


def _softmax_like(x, axis, log):
    x = da.asarray(x)
    f = fastsmce.log_softmax if log else fastsmce.softmax
    dtype = f(_proxy(x), axis=axis).dtype          # the NumPy function's checks and dtype
    ax = axis % x.ndim
    if x.numblocks[ax] == 1:
        return x.map_blocks(f, axis=ax, dtype=dtype)
    x = x.astype(dtype)
    st = _row_stats(x, ax)
    ind = _letters(x.ndim)
    rows = ind[:ax] + ind[ax + 1:]
    return da.blockwise(_write_block, ind, x, ind, st, rows + "Z", axis=ax, log=log,
                        concatenate=True, dtype=dtype, meta=np.empty((0,) * x.ndim, dtype))


def softmax(x, axis=-1):
    """fastsmce.softmax of a Dask array along axis, lazily (the axis may span chunks)."""
    return _softmax_like(x, axis, False)


def log_softmax(x, axis=-1):
    """fastsmce.log_softmax of a Dask array along axis, lazily."""
    return _softmax_like(x, axis, True)


def logsumexp(x, axis=-1, keepdims=False):
    """fastsmce.logsumexp of a Dask array along axis, lazily."""
    x = da.asarray(x)
    ref = fastsmce.logsumexp(_proxy(x), axis=axis, keepdims=keepdims)
    dtype = np.asarray(ref).dtype
    ax = axis % x.ndim
    if x.numblocks[ax] == 1:
        return x.map_blocks(fastsmce.logsumexp, axis=ax, keepdims=keepdims, dtype=dtype,
                            **({} if keepdims else {"drop_axis": ax}),
                            **({"chunks": x.chunks[:ax] + ((1,),) + x.chunks[ax + 1:]}
                               if keepdims else {}))
    st = _row_stats(x.astype(dtype), ax)
    lse = st.map_blocks(_lse_block, out_dtype=dtype, dtype=dtype, drop_axis=st.ndim - 1,
                        meta=np.empty((0,) * (st.ndim - 1), dtype))
    return da.expand_dims(lse, ax) if keepdims else lse

