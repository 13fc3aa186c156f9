# sigmoid family: included by _core.pyx (shares its helpers).  Validates, allocates,
# releases the GIL and splits rows over OpenMP threads; the maths is in
# csrc/kernels/sigmoid.inc (C API: csrc/fastsmce_sigmoid.h).

from libc.string cimport memset

cdef extern from "fastsmce.h" nogil:
    ctypedef struct fs_binary_loss_args:
        int64_t rows, cols
        const void *x
        int64_t x_rs, x_cs
        const void *z
        int64_t z_rs, z_cs
        const int64_t *indptr
        const int64_t *indices
        const double *data
        const void *w
        int64_t w_rs, w_cs
        const void *pw
        int64_t pw_rs, pw_cs
        void *loss
        int64_t loss_rs, loss_cs
        void *grad
        int64_t g_rs, g_cs
        double grad_scale
    int fs_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs)
    int fs_log_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                          int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs)
    int fs_bce_with_logits_2d(fs_dtype dt, const fs_binary_loss_args *a, double *sum, int64_t *bad)
    int fs_sigmoid_focal_2d(fs_dtype dt, const fs_binary_loss_args *a, double alpha, double gamma,
                            double *sum, int64_t *bad)
    int64_t fs_count_outside_unit_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *z,
                                     int64_t z_rs, int64_t z_cs)

cdef enum:
    SG_SIGMOID = 0
    SG_LOG_SIGMOID = 1
    SG_BCE = 0
    SG_FOCAL = 1
    SG_COL_CHUNK = 65536        # elementwise tasks: at most this many columns
    SG_TASK = 16384             # loss tasks: rows of about this many elements (fixed: the
                                # sums fold per task, so results do not depend on threads)

# ---------------------------------------------------------------------------
# elementwise: sigmoid, log_sigmoid
# ---------------------------------------------------------------------------

cdef bint _collapse2(cnp.ndarray a, cnp.ndarray y, int64_t *d, int64_t *sa, int64_t *sy):
    """Same-shaped a and y as one rows x cols view (d, element strides sa / sy of
    rows and cols); False when more than two axes remain after merging."""
    cdef int nd = cnp.PyArray_NDIM(a), i, k = 0
    cdef int64_t isz = cnp.PyArray_ITEMSIZE(a)
    cdef int64_t n[64]
    cdef int64_t s0[64]
    cdef int64_t s1[64]
    for i in range(nd):
        if cnp.PyArray_DIMS(a)[i] == 1:
            continue
        n[k] = cnp.PyArray_DIMS(a)[i]
        s0[k] = cnp.PyArray_STRIDES(a)[i] // isz
        s1[k] = cnp.PyArray_STRIDES(y)[i] // isz
        if k > 0 and s0[k - 1] == n[k] * s0[k] and s1[k - 1] == n[k] * s1[k]:
            n[k - 1] *= n[k]
            s0[k - 1] = s0[k]
            s1[k - 1] = s1[k]
        else:
            k += 1
    if k > 2:
        return False
    d[0] = d[1] = 1
    sa[0] = sa[1] = sy[0] = sy[1] = 0
    for i in range(k):
        d[2 - k + i] = n[i]
        sa[2 - k + i] = s0[i]
        sy[2 - k + i] = s1[i]
    return True


cdef int _elementwise_call(int op, fs_dtype dt, int64_t rows, int64_t cols, const char *x,
                           int64_t x_rs, int64_t x_cs, char *y, int64_t y_rs,
                           int64_t y_cs) noexcept nogil:
    if op == SG_SIGMOID:
        return fs_sigmoid_2d(dt, rows, cols, x, x_rs, x_cs, y, y_rs, y_cs)
    return fs_log_sigmoid_2d(dt, rows, cols, x, x_rs, x_cs, y, y_rs, y_cs)


cdef int _elementwise_run(int op, cnp.ndarray a, cnp.ndarray y) except -1:
    cdef int64_t d[2]
    cdef int64_t sa[2]
    cdef int64_t sy[2]
    cdef int64_t isz = cnp.PyArray_ITEMSIZE(a), total = cnp.PyArray_SIZE(a)
    cdef int64_t cc, ncc, rpt, nrb, ntasks, t, r0, c0, nr, nc
    cdef fs_dtype dt = FS_FLOAT32 if isz == 4 else FS_FLOAT64
    cdef int nthreads = _threads(), err = 0
    cdef const char *px
    cdef char *py
    if not _collapse2(a, y, d, sa, sy):
        # more than two axes that do not merge: compute on a contiguous copy
        c = np.ascontiguousarray(a)
        r = np.empty_like(c)
        _elementwise_run(op, c, r)
        y[...] = r
        return 0
    px = <const char *>cnp.PyArray_DATA(a)
    py = <char *>cnp.PyArray_DATA(y)
    if total < PARALLEL_MIN or nthreads <= 1:
        with nogil:
            err = _elementwise_call(op, dt, d[0], d[1], px, sa[0], sa[1], py, sy[0], sy[1])
    else:
        cc = min(d[1], <int64_t>SG_COL_CHUNK)
        ncc = (d[1] + cc - 1) // cc
        rpt = max(<int64_t>1, TASK_MIN // cc)
        nrb = (d[0] + rpt - 1) // rpt
        ntasks = nrb * ncc
        with nogil:
            for t in prange(ntasks, num_threads=nthreads, schedule="static"):
                r0 = (t // ncc) * rpt
                c0 = (t % ncc) * cc
                nr = min(rpt, d[0] - r0)
                nc = min(cc, d[1] - c0)
                err |= _elementwise_call(op, dt, nr, nc, px + (r0 * sa[0] + c0 * sa[1]) * isz,
                                         sa[0], sa[1], py + (r0 * sy[0] + c0 * sy[1]) * isz,
                                         sy[0], sy[1])
    if err:
        raise MemoryError("fastsmce: out of memory for a row buffer")
    return 0


cdef object _elementwise(int op, x, out):
    cdef cnp.ndarray a = _as_real(x, "x")
    cdef cnp.ndarray y = _target(out, a, cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), True)
    if out is not None:
        a = _unalias(a, y)
    if cnp.PyArray_SIZE(a):
        _elementwise_run(op, a, y)
    return _finish(out, y)


def sigmoid(x, *, out=None):
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise, computed as
    (x >= 0 ? 1 : e) / (1 + e) with e = exp(-|x|): no overflow for any x,
    sigmoid(+inf) = 1, sigmoid(-inf) = 0, NaN stays NaN.  ``out`` may be ``x``."""
    return _elementwise(SG_SIGMOID, x, out)


def log_sigmoid(x, *, out=None):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), elementwise: exact -|x|
    for very negative x (log_sigmoid(-1e4) == -1e4), 0 at +inf, -inf at -inf,
    NaN stays NaN.  ``out`` may be ``x``."""
    return _elementwise(SG_LOG_SIGMOID, x, out)

# ---------------------------------------------------------------------------
# binary losses: BCE with logits (dense or sparse targets), sigmoid focal loss
# ---------------------------------------------------------------------------

cdef cnp.ndarray _real_like(v, cnp.ndarray like, str name):
    """v as an array of like's dtype (native, aligned); a real-valued input is required"""
    cdef cnp.ndarray a = v if type(v) is np.ndarray else _asarray(v, name)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real-valued array; got dtype {a.dtype}")
    if a.dtype != like.dtype:
        a = a.astype(like.dtype)
    if not _usable(a):
        a = a.copy()
    return a


cdef tuple _view2(cnp.ndarray a, int64_t rows, int64_t cols):
    """(array, row stride, column stride) of a as rows x cols (a copy when no view exists)"""
    cdef int64_t isz = cnp.PyArray_ITEMSIZE(a)
    v = a.reshape(rows, cols)
    return v, v.strides[0] // isz, v.strides[1] // isz


cdef object _broadcast_operand(v, cnp.ndarray x, str name, int64_t rows, int64_t cols, str how):
    if v is None:
        return None
    cdef cnp.ndarray a = _real_like(v, x, name)
    if cnp.PyArray_SIZE(a):
        # checked on the array as given (before broadcasting): two reductions, no copy
        lo, hi = a.min(), a.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{name} holds a non-finite value")
        if lo < 0:
            raise ValueError(f"{name} holds a negative value")
    try:
        b = np.broadcast_to(a, (<object>x).shape)
    except ValueError:
        raise ValueError(f"{name} of shape {(<object>a).shape} does not broadcast to the logits' "
                         f"shape {(<object>x).shape} ({how})") from None
    return _view2(b, rows, cols)


cdef bint _is_sparse_target(t):
    return not isinstance(t, np.ndarray) and hasattr(t, "indptr") and hasattr(t, "indices")


cdef tuple _csr_positives(t, int64_t rows, int64_t cols):
    """(indptr int64, indices int64, data float64 or None) of CSR positives, validated:
    shape (rows, cols), indptr[0] == 0 and non-decreasing, indices in [0, cols),
    no column twice in a row, data (if any) in [0, 1]."""
    cdef object indptr, indices, data       # Python-level arrays here (slices, .shape)
    fmt = getattr(t, "format", None)
    if fmt is not None and fmt != "csr":
        raise TypeError(f"target: sparse targets must be CSR (got format {fmt!r}); use .tocsr()")
    if getattr(t, "has_canonical_format", True) is False:
        t = t.copy()
        t.sum_duplicates()
    shape = getattr(t, "shape", None)
    if shape is not None and tuple(shape) != (rows, cols):
        raise ValueError(f"target: sparse shape {tuple(shape)} does not match the logits' "
                         f"shape {(rows, cols)}")
    indptr = _c_contig(t.indptr, np.int64)
    indices = _c_contig(t.indices, np.int64)
    if indptr.ndim != 1 or indptr.size != rows + 1:
        raise ValueError(f"target: indptr must have {rows + 1} entries (rows + 1); "
                         f"got shape {indptr.shape}")
    if indptr[0] != 0 or (rows and np.any(indptr[1:] < indptr[:-1])):
        raise ValueError("target: indptr must start at 0 and never decrease")
    nnz = int(indptr[rows])
    if indices.ndim != 1 or indices.size < nnz:
        raise ValueError(f"target: indptr[-1] = {nnz} exceeds the {indices.size} indices")
    indices = indices[:nnz]
    if nnz and (indices.min() < 0 or indices.max() >= cols):
        raise IndexError(f"target: column index out of range [0, {cols})")
    if nnz > 1:
        step = np.diff(indices)
        inner = np.ones(nnz - 1, dtype=bool)
        ends = indptr[1:-1]
        ends = ends[(ends > 0) & (ends < nnz)]
        inner[ends - 1] = False
        if np.any(step[inner] <= 0):
            rowid = np.repeat(np.arange(rows, dtype=np.int64), np.diff(indptr))
            if np.unique(rowid * cols + indices).size != nnz:
                raise ValueError("target: a column appears twice in a row of the sparse target")
    data = getattr(t, "data", None)
    if data is not None:
        data = np.asarray(data)
        if data.dtype.kind not in "biuf":
            raise TypeError(f"target: sparse data must be real-valued; got dtype {data.dtype}")
        data = _c_contig(data, np.float64)
        if data.ndim != 1 or data.size < nnz:
            raise ValueError(f"target: sparse data must hold {nnz} values")
        data = data[:nnz]
        if not np.all((data >= 0) & (data <= 1)):
            raise ValueError("target: sparse target values must lie in [0, 1]")
        if np.all(data == 1):
            data = None
    return indptr, indices, data


cdef int _loss_task(int kind, fs_dtype dt, const fs_binary_loss_args *base, int64_t r0, int64_t nr,
                    int64_t isz, double alpha, double gamma, double *sum,
                    int64_t *bad) noexcept nogil:
    cdef fs_binary_loss_args a = base[0]
    a.rows = nr
    a.x = <const char *>base.x + r0 * base.x_rs * isz
    if base.z != NULL:
        a.z = <const char *>base.z + r0 * base.z_rs * isz
    if base.indptr != NULL:
        a.indptr = base.indptr + r0
    if base.w != NULL:
        a.w = <const char *>base.w + r0 * base.w_rs * isz
    if base.pw != NULL:
        a.pw = <const char *>base.pw + r0 * base.pw_rs * isz
    if base.loss != NULL:
        a.loss = <char *>base.loss + r0 * base.loss_rs * isz
    if base.grad != NULL:
        a.grad = <char *>base.grad + r0 * base.g_rs * isz
    if kind == SG_BCE:
        return fs_bce_with_logits_2d(dt, &a, sum, bad)
    return fs_sigmoid_focal_2d(dt, &a, alpha, gamma, sum, bad)


cdef void _set_view(tuple v, const void **p, int64_t *rs, int64_t *cs):
    cdef cnp.ndarray a = v[0]
    p[0] = cnp.PyArray_DATA(a)
    rs[0] = v[1]
    cs[0] = v[2]


cdef object _binary_loss(int kind, logits, target, weight, pos_weight, reduction, bint want_grad,
                         grad_out, double alpha, double gamma):
    _reduction(reduction)
    cdef cnp.ndarray x = _as_real(logits, "logits")
    cdef int nd = cnp.PyArray_NDIM(x)
    shape = (<object>x).shape
    cdef int64_t cols = shape[nd - 1] if nd else 1
    cdef int64_t rows = 1, isz = cnp.PyArray_ITEMSIZE(x)
    cdef int64_t numel = cnp.PyArray_SIZE(x)
    cdef int d
    for d in range(nd - 1):
        rows *= shape[d]
    cdef fs_dtype dt = FS_FLOAT32 if isz == 4 else FS_FLOAT64
    cdef bint sparse = _is_sparse_target(target)
    cdef cnp.ndarray z = None, g = None, gview = None, lo = None
    cdef cnp.ndarray indptr = None, indices = None, data = None
    if sparse:
        if kind == SG_FOCAL:
            raise TypeError("sigmoid_focal_loss: target must be a dense array (sparse targets "
                            "are supported by the binary cross-entropy functions only)")
        if nd != 2:
            raise ValueError(f"target: sparse targets need 2-D logits; got {nd}-D logits")
        indptr, indices, data = _csr_positives(target, rows, cols)
    else:
        z = _real_like(target, x, "target")
        if (<object>z).shape != shape:
            raise ValueError(f"target of shape {(<object>z).shape} must have the logits' shape {shape}")
    wv = _broadcast_operand(weight, x, "weight", rows, cols, "broadcast to the logits")
    pwv = _broadcast_operand(pos_weight, x, "pos_weight", rows, cols,
                             "broadcast along the last axis of the logits")
    # outputs (nothing is written to grad_out before every check has passed)
    cdef bint user_grad = False
    if want_grad:
        if grad_out is not None:
            _check_out(grad_out, x, nd, cnp.PyArray_DIMS(x), "grad_out")
            g = grad_out
            if _usable(g):
                gv = g.view()
                try:
                    gv.shape = (rows, cols)     # a view, or AttributeError
                    gview = gv
                    user_grad = True
                except AttributeError:
                    pass
            if user_grad:
                x = _unalias(x, g)
                if z is not None and np.may_share_memory(z, g):
                    z = z.copy()
                # a copy (ascontiguousarray returns a contiguous weight as it is, still
                # overlapping grad_out: the gradient then overwrote weights not yet read)
                if wv is not None and np.may_share_memory(wv[0], g):
                    wv = _view2(np.array(wv[0], copy=True), rows, cols)
                if pwv is not None and np.may_share_memory(pwv[0], g):
                    pwv = _view2(np.array(pwv[0], copy=True), rows, cols)
        if gview is None:
            gview = np.empty((rows, cols), dtype=x.dtype)
    if reduction == "none":
        lo = np.empty((rows, cols), dtype=x.dtype)
    xv = _view2(x, rows, cols)
    cdef fs_binary_loss_args a
    memset(&a, 0, sizeof(a))
    a.rows = rows
    a.cols = cols
    _set_view(xv, &a.x, &a.x_rs, &a.x_cs)
    if z is not None:
        zv = _view2(z, rows, cols)
        _set_view(zv, &a.z, &a.z_rs, &a.z_cs)
    else:
        a.indptr = <const int64_t *>cnp.PyArray_DATA(indptr)
        a.indices = <const int64_t *>cnp.PyArray_DATA(indices)
        if data is not None:
            a.data = <const double *>cnp.PyArray_DATA(data)
    if wv is not None:
        _set_view(wv, &a.w, &a.w_rs, &a.w_cs)
    if pwv is not None:
        _set_view(pwv, &a.pw, &a.pw_rs, &a.pw_cs)
    if lo is not None:
        a.loss = cnp.PyArray_DATA(lo)
        a.loss_rs = cols
        a.loss_cs = 1
    if gview is not None:
        a.grad = cnp.PyArray_DATA(gview)
        a.g_rs = gview.strides[0] // isz
        a.g_cs = gview.strides[1] // isz
    a.grad_scale = 1.0 / numel if reduction == "mean" and numel else 1.0
    # fixed tasks of whole rows: partial sums folded in task order
    cdef int nthreads = _threads()
    cdef int64_t rpt = max(<int64_t>1, (<int64_t>SG_TASK + cols - 1) // max(cols, <int64_t>1))
    cdef int64_t ntasks = (rows + rpt - 1) // rpt if numel else 0
    cdef bint par = numel >= PARALLEL_MIN and nthreads > 1 and ntasks > 1
    cdef double *sums = <double *>malloc((ntasks + 1) * sizeof(double))
    cdef int64_t *bads = <int64_t *>malloc((ntasks + 1) * sizeof(int64_t))
    cdef int64_t t, anybad = 0
    cdef int err = 0
    cdef double total = 0
    if sums == NULL or bads == NULL:
        free(sums)
        free(bads)
        raise MemoryError("fastsmce: out of memory for the partial sums")
    try:
        if user_grad and z is not None:
            # the targets are checked before grad_out is written (one extra read of target)
            with nogil:
                if par:
                    for t in prange(ntasks, num_threads=nthreads, schedule="static"):
                        bads[t] = fs_count_outside_unit_2d(
                            dt, min(rpt, rows - t * rpt), cols,
                            <const char *>a.z + t * rpt * a.z_rs * isz, a.z_rs, a.z_cs)
                else:
                    for t in range(ntasks):
                        bads[t] = fs_count_outside_unit_2d(
                            dt, min(rpt, rows - t * rpt), cols,
                            <const char *>a.z + t * rpt * a.z_rs * isz, a.z_rs, a.z_cs)
            for t in range(ntasks):
                anybad |= bads[t]
            if anybad:
                raise ValueError("target values must lie in [0, 1]")
        with nogil:
            if par:
                for t in prange(ntasks, num_threads=nthreads, schedule="static"):
                    err |= _loss_task(kind, dt, &a, t * rpt, min(rpt, rows - t * rpt), isz, alpha,
                                      gamma, &sums[t], &bads[t])
            else:
                for t in range(ntasks):
                    err |= _loss_task(kind, dt, &a, t * rpt, min(rpt, rows - t * rpt), isz, alpha,
                                      gamma, &sums[t], &bads[t])
        if err:
            raise MemoryError("fastsmce: out of memory for a row buffer")
        for t in range(ntasks):
            total += sums[t]
            anybad |= bads[t]
    finally:
        free(sums)
        free(bads)
    if anybad:
        raise ValueError("target values must lie in [0, 1]")
    if reduction == "none":
        loss = lo.reshape(shape)
    elif reduction == "sum":
        loss = x.dtype.type(total)
    else:
        loss = x.dtype.type(total / numel if numel else np.nan)
    if not want_grad:
        return loss
    if user_grad:
        return loss, grad_out
    grad = gview.reshape(shape)
    if grad_out is not None:
        grad_out[...] = grad
        grad = grad_out
    return loss, grad


def binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None,
                                     reduction="mean"):
    """PyTorch's ``F.binary_cross_entropy_with_logits``: per element
    ``weight * ((1 - z) * softplus(x) + pos_weight * z * softplus(-x))`` (the stable
    form of ``(1 - z) x + (1 + (pos_weight - 1) z) softplus(-x)``), reduced by
    ``reduction`` ("none", "mean" over all elements, "sum").

    ``target``: an array of the logits' shape with values in [0, 1] (checked: a
    ValueError otherwise; the check rides along the loss pass, or is one extra read
    of ``target`` when ``grad_out`` is given), or, for 2-D logits (N, C), sparse
    positives: a ``scipy.sparse`` CSR array/matrix, or any object with ``indptr``,
    ``indices`` and optionally ``data`` and ``shape``, naming for each row the columns
    whose target is ``data`` (1 without data; values in [0, 1]), every other target 0.
    ``weight`` broadcasts to the logits; ``pos_weight`` too (typically shape (C,),
    along the last axis); both must be finite and >= 0 (a ValueError otherwise, as
    for cross_entropy's weight).  Everything is computed in the logits' dtype: a target,
    weight or pos_weight of another dtype is converted first (a copy; pass them in
    the logits' dtype to avoid it).  Loss-only calls allocate nothing of the logits'
    size otherwise.  Non-finite logits: +-inf gives inf or, where a zero coefficient
    meets an infinite softplus (x = +inf with z = 1, x = -inf with z = 0), NaN."""
    return _binary_loss(SG_BCE, logits, target, weight, pos_weight, reduction, False, None, 0, 0)


def binary_cross_entropy_with_logits_with_grad(logits, target, *, weight=None, pos_weight=None,
                                               reduction="mean", grad_out=None):
    """``(loss, grad)`` of :func:`binary_cross_entropy_with_logits`, ``grad`` = d loss / d
    logits for the chosen reduction (for "none": the elementwise derivative of each
    loss), ``weight * ((1 - z) sigmoid(x) - pos_weight z sigmoid(-x))`` / N for "mean".
    One fused pass; ``grad_out`` may be ``logits`` itself (in place)."""
    return _binary_loss(SG_BCE, logits, target, weight, pos_weight, reduction, True, grad_out, 0, 0)


cdef tuple _focal_params(alpha, gamma):
    a = _float_arg(alpha, "alpha")
    gm = _float_arg(gamma, "gamma")
    if not np.isfinite(a):
        raise ValueError(f"alpha must be finite; got {alpha!r}")
    if not (np.isfinite(gm) and gm >= 0):
        raise ValueError(f"gamma must be finite and >= 0; got {gamma!r}")
    return a, gm


def sigmoid_focal_loss(logits, target, *, alpha=0.25, gamma=2.0, reduction="mean"):
    """torchvision's ``sigmoid_focal_loss``: ``a_t * BCE(x, z) * (1 - p_t) ** gamma`` with
    ``p = sigmoid(x)``, ``p_t = p z + (1 - p)(1 - z)``, ``a_t = alpha z + (1 - alpha)(1 - z)``
    (no alpha weighting when ``alpha < 0``), reduced by ``reduction``.  Computed in log
    space (``(1 - p_t) ** gamma = exp(gamma log(1 - p_t))`` with ``log(1 - p_t)`` from
    log-sigmoid), so it stays accurate where the direct formula rounds to 0 or NaN.
    ``target``: dense, the logits' shape, values in [0, 1]; ``gamma >= 0``."""
    a, gm = _focal_params(alpha, gamma)
    return _binary_loss(SG_FOCAL, logits, target, None, None, reduction, False, None, a, gm)


def sigmoid_focal_loss_with_grad(logits, target, *, alpha=0.25, gamma=2.0, reduction="mean",
                                 grad_out=None):
    """``(loss, grad)`` of :func:`sigmoid_focal_loss`, ``grad`` = d loss / d logits for the
    chosen reduction; ``grad_out`` may be ``logits`` itself (in place)."""
    a, gm = _focal_params(alpha, gamma)
    return _binary_loss(SG_FOCAL, logits, target, None, None, reduction, True, grad_out, a, gm)
