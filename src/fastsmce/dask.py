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

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "cross_entropy_with_grad",
           "linear_cross_entropy", "linear_cross_entropy_with_grad"]

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


# ---- cross-entropy -----------------------------------------------------------------------

def _as_dask(a, chunks):
    """a (array-like or Dask array) chunked as chunks: a target or class weights follow
    the logits' chunks (small arrays: rechunking them is cheap)"""
    if isinstance(a, da.Array):
        return a.rechunk(chunks)
    return da.from_array(np.asarray(a), chunks=chunks)


def _class_weights(weight, dtype, chunks):
    """the class weights (NumPy, checked) as a Dask array chunked like the classes, and their
    sum as the chunks' statistics sum them (None: all 1)"""
    if weight is None:
        return None, float(sum(chunks))
    w = np.asarray(weight, dtype)
    return da.from_array(w, chunks=(chunks,)), float(np.sum(w, dtype=np.float64))


def _xent_args(logits, target, weight, ignore_index, reduction, label_smoothing):
    """the checks of fastsmce.cross_entropy that need no values, on stand-ins; returns
    (logits, target, weight) as Dask arrays chunked alike, and the loss dtype"""
    logits = da.asarray(logits)
    if logits.ndim == 0:
        raise ValueError("logits must have at least one dimension (the classes)")
    tdtype = target.dtype if hasattr(target, "dtype") else np.asarray(target).dtype
    tshape = tuple(np.shape(target))
    batch, full = logits.shape[:-1], logits.shape
    if tdtype.kind == "f" and tshape == full:
        raise TypeError("fastsmce.dask.cross_entropy takes integer class indices; class "
                        "probabilities are not supported")
    if tdtype.kind == "f" and tshape == batch:
        raise TypeError(f"target has floating dtype {tdtype} and shape {tshape}: class "
                        f"indices must be integers (class probabilities must have the "
                        f"logits' shape {full})")
    if tshape != batch and tdtype.kind in "iuf":
        if tdtype.kind in "iu" and tshape == full:
            raise ValueError(f"target has the logits' shape {tshape} but an integer dtype "
                             f"({tdtype}): class probabilities must be floating point; class "
                             f"indices must have shape {batch}")
        raise ValueError(f"target has shape {tshape}; expected {batch} (class indices) "
                         f"or {full} (class probabilities)")
    C = logits.shape[-1]
    if weight is not None and isinstance(weight, da.Array):
        weight = weight.compute()       # V floats: checked here like the NumPy function's
    # options, dtypes and the class weights, on zero rows of C classes (no memory)
    ref = fastsmce.cross_entropy(np.zeros((0, C), logits.dtype), np.zeros(0, tdtype),
                                 weight=weight, ignore_index=ignore_index, reduction=reduction,
                                 label_smoothing=label_smoothing)
    dtype = np.asarray(ref).dtype
    if logits.ndim == 1:        # one row: a batch of one, squeezed at the end
        logits, target = logits[None], (target[None] if isinstance(target, da.Array)
                                        else np.asarray(target)[None])
    logits = logits.astype(dtype)
    target = _as_dask(target, logits.chunks[:-1])
    weight, wsum = _class_weights(weight, dtype, logits.chunks[-1])
    return logits, target, weight, wsum, dtype


def _class_stats(logits, target, weight, ign):
    """every row's statistics over the whole vocabulary: per chunk, then the tree merge"""
    ind = _letters(logits.ndim)
    rows, cls = ind[:-1], ind[-1]
    stats = da.blockwise(
        _stats_block, ind + "Z", logits, ind, target, rows, _class_ids(logits.chunks[-1]), cls,
        weight, cls if weight is not None else None, axis=logits.ndim - 1, ign=ign, xent=True,
        new_axes={"Z": _NSTAT}, adjust_chunks={cls: 1}, dtype=_F64,
        meta=np.empty((0,) * (logits.ndim + 1), np.float64))
    return _merged(stats, logits.ndim - 1)


def _loss_block(st, t, V, wsum, ign, eps, out_dtype):
    """reduction "none": the rows' losses"""
    loss = fastsmce.cross_entropy_from_stats(_unpack(st, V, wsum), t, ignore_index=ign,
                                             reduction="none", label_smoothing=eps)
    return np.asarray(loss).astype(out_dtype).reshape(t.shape)


def _sum_block(st, t, V, wsum, ign, eps):
    """the block's summed losses and "mean" denominator (the counted rows' class weights),
    shaped (1, ..., 1, 2)"""
    total = fastsmce.cross_entropy_from_stats(_unpack(st, V, wsum), t, ignore_index=ign,
                                              reduction="sum", label_smoothing=eps)
    denom = np.sum(np.where(t != ign, st[..., 3], 0.0))
    return np.array([total, denom]).reshape((1,) * t.ndim + (2,))


def _grad_block(z, t, st, start, w, scale, V, wsum, ign, eps):
    z2 = z.reshape(-1, z.shape[-1])
    g = _core._logit_grad(z2, t.reshape(-1), _unpack(st.reshape(-1, _NSTAT), V, wsum),
                          int(start[0]) if len(start) else 0, w, ign, eps,
                          float(scale))
    return g.reshape(z.shape)


def _losses(st, target, V, wsum, ign, eps, reduction, dtype):
    """the loss from the rows' merged statistics st (rows' dims + fields) and the target:
    (loss, the gradient's scale: a 0-d Dask array for "mean", else 1.0)"""
    rows = _letters(target.ndim)
    opts = dict(V=V, wsum=wsum, ign=ign, eps=eps)
    if reduction == "none":
        loss = da.blockwise(_loss_block, rows, st, rows + "Z", target, rows, out_dtype=dtype,
                            concatenate=True, dtype=dtype, meta=np.empty((0,) * len(rows), dtype),
                            **opts)
        return loss, 1.0
    parts = da.blockwise(_sum_block, rows + "Z", st, rows + "Z", target, rows,
                         adjust_chunks={r: 1 for r in rows}, concatenate=True, dtype=_F64,
                         meta=np.empty((0,) * (len(rows) + 1), np.float64), **opts)
    parts = parts.sum(axis=tuple(range(len(rows))))
    total, denom = parts[0], parts[1]
    if reduction == "sum":
        return total.astype(dtype), 1.0
    safe = da.where(denom != 0, denom, 1.0)
    return (da.where(denom != 0, total / safe, np.nan).astype(dtype),
            da.where(denom != 0, 1.0 / safe, 0.0))


def _xent(logits, target, weight, ignore_index, reduction, label_smoothing, want_grad):
    shape1 = da.asarray(logits).ndim == 1
    logits, target, weight, wsum, dtype = _xent_args(logits, target, weight, ignore_index,
                                                     reduction, label_smoothing)
    C = logits.shape[-1]
    st = _class_stats(logits, target, weight, ignore_index)
    loss, scale = _losses(st, target, C, wsum, ignore_index, label_smoothing, reduction, dtype)
    if shape1 and reduction == "none":
        loss = loss[0]
    if not want_grad:
        return loss
    ind = _letters(logits.ndim)
    rows, cls = ind[:-1], ind[-1]
    grad = da.blockwise(_grad_block, ind, logits, ind, target, rows, st, rows + "Z",
                        _class_ids(logits.chunks[-1]), cls, weight,
                        cls if weight is not None else None, scale,
                        () if isinstance(scale, da.Array) else None,
                        concatenate=True, dtype=dtype, meta=np.empty((0,) * logits.ndim, dtype),
                        V=C, wsum=wsum, ign=ignore_index, eps=label_smoothing)
    return loss, (grad[0] if shape1 else grad)


def cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """fastsmce.cross_entropy of Dask logits (..., classes), the class axis last (axis must
    be -1) and split over any chunks, with integer class indices target (...): a 0-d Dask
    array for "mean" / "sum", the rows' losses for "none"."""
    _last_axis(logits, axis)
    return _xent(logits, target, weight, ignore_index, reduction, label_smoothing, False)


def cross_entropy_with_grad(logits, target, *, axis=-1, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0):
    """(loss, grad) as fastsmce.cross_entropy_with_grad; grad = d loss / d logits, a Dask
    array chunked like the logits (for "none", that of loss.sum())."""
    _last_axis(logits, axis)
    return _xent(logits, target, weight, ignore_index, reduction, label_smoothing, True)


def _last_axis(logits, axis):
    nd = np.ndim(logits)
    if not isinstance(axis, (int, np.integer)) or axis % max(nd, 1) != nd - 1:
        raise ValueError(f"fastsmce.dask cross-entropy takes the classes on the last axis "
                         f"(axis=-1); got axis={axis!r}")


# ---- vocabulary-parallel linear cross-entropy ----------------------------------------------

def _lin_stats_block(x, W, t, b, ids, w, ign):
    st = fastsmce.linear_cross_entropy_stats(
        x.reshape(-1, x.shape[-1]), W, t.reshape(-1), linear_bias=b,
        class_start=int(ids[0]) if len(ids) else 0, weight=w, ignore_index=ign)
    return _pack(st).reshape(x.shape[:-1] + (1, _NSTAT))


def _lin_args(input, linear_weight, target, linear_bias, weight, ignore_index, reduction,
              label_smoothing):
    """the checks of fastsmce.linear_cross_entropy that need no values (its messages);
    returns the arrays as Dask arrays chunked to agree, and the loss dtype"""
    X, W = da.asarray(input), da.asarray(linear_weight)
    b = da.asarray(linear_bias) if linear_bias is not None else None
    tdtype = target.dtype if hasattr(target, "dtype") else np.asarray(target).dtype
    if X.ndim < 1:
        raise ValueError("input must have at least one dimension (the features)")
    D = X.shape[-1]
    if W.ndim != 2 or W.shape[1] != D:
        raise ValueError(f"linear_weight has shape {W.shape}; expected (classes, {D}), the "
                         f"input's last dimension")
    V = W.shape[0]
    if V < 1:
        raise ValueError("linear_weight must have at least one row (class)")
    if b is not None and b.shape != (V,):
        raise ValueError(f"linear_bias has shape {b.shape}; expected ({V},)")
    # dtypes and options on stand-ins of one class (and zero rows)
    ref = fastsmce.linear_cross_entropy(
        np.zeros((0, D), X.dtype), np.zeros((1, D), W.dtype), np.zeros(0, tdtype),
        linear_bias=np.zeros(1, b.dtype) if b is not None else None, ignore_index=ignore_index,
        reduction=reduction, label_smoothing=label_smoothing)
    if tuple(np.shape(target)) != X.shape[:-1]:
        raise ValueError(f"target has shape {tuple(np.shape(target))}; expected {X.shape[:-1]}, "
                         f"the input's shape without its last dimension")
    if isinstance(weight, da.Array):
        weight = weight.compute()       # V floats
    if weight is not None:              # the class weights' checks (shape, values)
        fastsmce.cross_entropy(np.zeros((0, V), W.dtype), np.zeros(0, np.int64), weight=weight)
    dtype = np.asarray(ref).dtype
    if X.ndim == 1:
        X = X[None]
        target = target[None] if isinstance(target, da.Array) else np.asarray(target)[None]
    X = X.rechunk({X.ndim - 1: -1})     # features in one chunk; rows as they come
    W = W.rechunk({1: -1})              # classes as they come: the shards
    if b is not None:
        b = b.rechunk((W.chunks[0],))
    weight, wsum = _class_weights(weight, dtype, W.chunks[0])
    return X, W, _as_dask(target, X.chunks[:-1]), b, weight, wsum, dtype


def _linear(input, linear_weight, target, linear_bias, weight, ignore_index, reduction,
            label_smoothing, want_grad):
    one = da.asarray(input).ndim == 1
    X, W, target, b, weight, wsum, dtype = _lin_args(input, linear_weight, target, linear_bias,
                                                     weight, ignore_index, reduction,
                                                     label_smoothing)
    if want_grad and X.ndim != 2:
        raise ValueError("fastsmce.dask.linear_cross_entropy_with_grad takes input (N, D) and "
                         f"target (N,); got input of shape {da.asarray(input).shape}")
    V = W.shape[0]
    rows = _letters(target.ndim)
    cls, feat = "y", "z"     # after the rows' letters (at most 24 batch dimensions)
    stats = da.blockwise(
        _lin_stats_block, rows + cls + "Z", X, rows + feat, W, cls + feat, target, rows,
        b, cls if b is not None else None, _class_ids(W.chunks[0]), cls,
        weight, cls if weight is not None else None, ign=ignore_index, concatenate=True,
        new_axes={"Z": _NSTAT}, adjust_chunks={cls: 1}, dtype=_F64,
        meta=np.empty((0,) * (len(rows) + 2), np.float64))
    st = _merged(stats, len(rows))
    loss, scale = _losses(st, target, V, wsum, ignore_index, label_smoothing, reduction, dtype)
    loss = loss[0] if one and reduction == "none" else loss
    if not want_grad:
        return loss
    return loss, _linear_grads(X, W, target, b, weight, st, scale, V, wsum, ignore_index,
                               label_smoothing, dtype, one)


def _lin_grad_task(x, W, t, b, start, w, st, scale, V, wsum, ign, eps):
    return tuple(_core._linear_shard_grads(
        x, W, t, _unpack(st, V, wsum), linear_bias=b, class_start=start, weight=w,
        ignore_index=ign, label_smoothing=eps, grad_scale=float(scale)))


def _tree_sum(parts):
    """the sum of delayed arrays, pairwise (a task holds two parts at a time)"""
    from dask import delayed
    while len(parts) > 1:
        parts = [delayed(np.add)(parts[k], parts[k + 1]) if k + 1 < len(parts) else parts[k]
                 for k in range(0, len(parts), 2)]
    return parts[0]


def _linear_grads(X, W, target, b, weight, st, scale, V, wsum, ign, eps, dtype, one):
    """fastsmce.LinearGrads as Dask arrays: d input by row chunk (each shard's share, summed
    over the shards), d linear_weight / d linear_bias by class shard (summed over the row
    chunks); each (row chunk, shard) task recomputes its logits block by block."""
    from dask import delayed
    xs, ws, ts, ss = (a.to_delayed().ravel() for a in (X, W, target, st))
    bs = b.to_delayed().ravel() if b is not None else [None] * len(ws)
    cw = weight.to_delayed().ravel() if weight is not None else [None] * len(ws)
    sc = scale.to_delayed()[()] if isinstance(scale, da.Array) else scale
    starts = np.cumsum((0,) + W.chunks[0][:-1])
    g = [[delayed(_lin_grad_task, nout=3)(xs[i], ws[j], ts[i], bs[j], int(starts[j]), cw[j],
                                          ss[i], sc, V, wsum, ign, eps)
          for j in range(len(ws))] for i in range(len(xs))]
    D = X.shape[1]
    dX = da.concatenate([da.from_delayed(_tree_sum([gj[0] for gj in g[i]]), (n, D), dtype=dtype)
                         for i, n in enumerate(X.chunks[0])])
    dW = da.concatenate([da.from_delayed(_tree_sum([g[i][j][1] for i in range(len(xs))]),
                                         (n, D), dtype=dtype) for j, n in enumerate(W.chunks[0])])
    db = None
    if b is not None:
        db = da.concatenate([da.from_delayed(_tree_sum([g[i][j][2] for i in range(len(xs))]),
                                             (n,), dtype=dtype) for j, n in enumerate(W.chunks[0])])
    return fastsmce.LinearGrads(dX[0] if one else dX, dW, db)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """fastsmce.linear_cross_entropy, vocabulary-parallel: input (..., D) chunked by rows,
    linear_weight (V, D) and linear_bias (V,) chunked by classes (the shards; a NumPy
    weight is one shard).  Each task takes one (row chunk, class shard) pair and gives its
    rows' shard statistics (fastsmce.linear_cross_entropy_stats: no logits beyond one
    block); a tree merges the shards of each row exactly (merge_shard_stats) and
    cross_entropy_from_stats gives the loss: a 0-d Dask array ("mean", "sum") or the rows'
    losses ("none")."""
    return _linear(input, linear_weight, target, linear_bias, weight, ignore_index, reduction,
                   label_smoothing, False)


def linear_cross_entropy_with_grad(input, linear_weight, target, *, linear_bias=None,
                                   weight=None, ignore_index=-100, reduction="mean",
                                   label_smoothing=0.0):
    """(loss, grads) as fastsmce.linear_cross_entropy_with_grad, vocabulary-parallel (input
    (N, D) or (D,)): grads.input chunked like the input's rows, grads.linear_weight /
    linear_bias like the shards.  A second pass over every (row chunk, shard) pair recomputes
    its logits from the merged statistics; the weight is still never whole on a worker, but
    its shards serve both passes, so Dask holds (or spills) them in between: a worker needs
    room for its share of the weight and of the weight's gradient (the loss alone needs one
    shard at a time)."""
    return _linear(input, linear_weight, target, linear_bias, weight, ignore_index, reduction,
                   label_smoothing, True)
