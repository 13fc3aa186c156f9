# Cross-entropy family: included by _core.pyx (uses its helpers).
# The maths is csrc/kernels/xent.inc; here: validate, allocate, split rows over
# threads, reduce the per-row losses in a fixed order.

cdef extern from "fastsmce.h" nogil:
    ctypedef struct fs_xent_args:
        int64_t rows, cols
        const void *x
        int64_t x_rs, x_cs
        const int64_t *label
        int64_t label_s
        int64_t ignore_index
        const void *prob
        int64_t p_rs, p_cs
        const void *weight
        double weight_sum
        double smoothing
        double grad_scale
        void *grad
        int64_t g_rs, g_cs
        double *loss
    int fs_cross_entropy_2d(fs_dtype dt, const fs_xent_args *a)

from libc.math cimport fabs

cdef struct XentJob:
    fs_dtype dt
    fs_xent_args base         # rows/cols, options; pointers at row 0
    int64_t isz
    int64_t total_rows        # rows over all outer blocks (C order of the batch shape)
    int64_t rows_inner        # rows of the innermost merged batch axis
    int nouter
    int64_t outer_n[MAX_DIMS]
    int64_t outer_st[3][MAX_DIMS]   # x, prob, grad strides (elements) of the outer axes
    int64_t rows_per_task


cdef int _xent_segment(const XentJob *j, int64_t r0, int64_t nr) noexcept nogil:
    """rows r0 .. r0+nr-1 (flattened, all in one outer block)"""
    cdef fs_xent_args a = j.base
    cdef int64_t o = r0 // j.rows_inner, i = r0 - o * j.rows_inner, idx
    cdef int64_t off0 = i * a.x_rs, off1 = i * a.p_rs, off2 = i * a.g_rs
    cdef int k
    for k in range(j.nouter - 1, -1, -1):
        idx = o % j.outer_n[k]
        o = o // j.outer_n[k]
        off0 += idx * j.outer_st[0][k]
        off1 += idx * j.outer_st[1][k]
        off2 += idx * j.outer_st[2][k]
    a.rows = nr
    a.x = <const char *>a.x + off0 * j.isz
    if a.prob != NULL:
        a.prob = <const char *>a.prob + off1 * j.isz
    if a.grad != NULL:
        a.grad = <char *>a.grad + off2 * j.isz
    if a.label != NULL:
        a.label = a.label + r0 * a.label_s
    a.loss = a.loss + r0
    return fs_cross_entropy_2d(j.dt, &a)


cdef int _xent_task(const XentJob *j, int64_t t) noexcept nogil:
    cdef int64_t r = t * j.rows_per_task
    cdef int64_t end = min(r + j.rows_per_task, j.total_rows), n
    cdef int err = 0
    while r < end:
        n = min(end - r, j.rows_inner - r % j.rows_inner)
        err |= _xent_segment(j, r, n)
        r += n
    return err


cdef int _xent_run(XentJob *j) except -1:
    cdef int nthreads = _threads()
    cdef int64_t cols = max(j.base.cols, 1)
    cdef int64_t total = j.total_rows * cols, per, ntasks, t
    cdef int err = 0
    if total < PARALLEL_MIN or nthreads <= 1:
        per = j.total_rows
    else:
        per = (j.total_rows + 4 * nthreads - 1) // (4 * nthreads)
        per = max(per, (TASK_MIN + cols - 1) // cols)
    j.rows_per_task = max(per, 1)
    ntasks = (j.total_rows + j.rows_per_task - 1) // j.rows_per_task
    with nogil:
        if ntasks <= 1 or nthreads <= 1 or total < PARALLEL_MIN:
            for t in range(ntasks):
                err |= _xent_task(j, t)
        else:
            for t in prange(ntasks, num_threads=nthreads, schedule="static"):
                err |= _xent_task(j, t)
    if err & FS_ERR_NOMEM:
        raise MemoryError("fastsmce: out of memory for a row buffer")
    if err:
        raise IndexError("target holds a class index out of range")   # validated before: unreachable
    return 0


cdef _xent_plan(XentJob *j, cnp.ndarray x, int ax, cnp.ndarray p, cnp.ndarray g):
    """the batch axes of x (all but `ax`) in C order, merged where every array's
    strides allow; the innermost is the rows axis of the 2-D views"""
    cdef int nd = cnp.PyArray_NDIM(x), d, k = 0, a
    cdef npy_intp *shape = cnp.PyArray_DIMS(x)
    cdef npy_intp *st[3]
    cdef int64_t dn[MAX_DIMS]
    cdef int64_t dst[3][MAX_DIMS]
    st[0] = cnp.PyArray_STRIDES(x)
    st[1] = cnp.PyArray_STRIDES(p if p is not None else x)
    st[2] = cnp.PyArray_STRIDES(g if g is not None else x)
    j.isz = cnp.PyArray_ITEMSIZE(x)
    j.base.cols = shape[ax]
    j.base.x_cs = cnp.PyArray_STRIDES(x)[ax] // j.isz
    j.base.p_cs = st[1][ax] // j.isz
    j.base.g_cs = st[2][ax] // j.isz
    j.total_rows = 1
    for d in range(nd):
        if d == ax:
            continue
        j.total_rows *= shape[d]
        if shape[d] == 1:
            continue
        if k > 0:
            for a in range(3):
                if dst[a][k - 1] != shape[d] * (st[a][d] // j.isz):
                    break
            else:
                dn[k - 1] *= shape[d]
                for a in range(3):
                    dst[a][k - 1] = st[a][d] // j.isz
                continue
        dn[k] = shape[d]
        for a in range(3):
            dst[a][k] = st[a][d] // j.isz
        k += 1
    j.rows_inner = 1
    j.base.x_rs = j.base.p_rs = j.base.g_rs = 0
    if k > 0:
        k -= 1
        j.rows_inner = dn[k]
        j.base.x_rs = dst[0][k]
        j.base.p_rs = dst[1][k]
        j.base.g_rs = dst[2][k]
    j.nouter = k
    for d in range(k):
        j.outer_n[d] = dn[d]
        for a in range(3):
            j.outer_st[a][d] = dst[a][d]


cdef int64_t _xent_check_labels(const int64_t *lp, int64_t n, int64_t ncls, int64_t ign,
                                int64_t *first_bad) noexcept nogil:
    """how many labels lie outside [0, ncls) and are not ign; the first one in *first_bad"""
    cdef int64_t r, v, nbad = 0
    for r in range(n):
        v = lp[r]
        if (<uint64_t>v >= <uint64_t>ncls) and v != ign:
            if nbad == 0:
                first_bad[0] = v
            nbad += 1
    return nbad


cdef int64_t _xent_count(const int64_t *lp, int64_t n, int64_t ign) noexcept nogil:
    cdef int64_t r, c = 0
    for r in range(n):
        c += lp[r] == ign
    return c


cdef inline void _sum_add(double *s, double *c, double v) noexcept nogil:
    """s += v with the rounding error gathered in c (Neumaier's compensated sum): a sum
    of n terms stays within a few ulp, where a plain one drifts by up to n * eps (the
    fuzzer saw 3e-12 relative on 262144 rows).  Non-finite sums are left alone."""
    cdef double t = s[0] + v
    if fabs(t) < INFINITY:
        if fabs(s[0]) >= fabs(v):
            c[0] += (s[0] - t) + v
        else:
            c[0] += (v - t) + s[0]
    s[0] = t


cdef inline double _sum_result(double s, double c) noexcept nogil:
    return s + c if fabs(s) < INFINITY else s


cdef double _xent_weight_total(const int64_t *lp, int64_t n, int64_t ign, const char *w,
                               int isz) noexcept nogil:
    """sum of w[label] over the labels that are not ign (all in range), in row order"""
    cdef int64_t r
    cdef double s = 0, c = 0
    for r in range(n):
        if lp[r] != ign:
            _sum_add(&s, &c, (<const double *>w)[lp[r]] if isz == 8 else (<const float *>w)[lp[r]])
    return _sum_result(s, c)


cdef double _xent_sum(const double *a, int64_t n) noexcept nogil:
    """sum in row order (compensated), whatever the threads"""
    cdef double s = 0, c = 0
    cdef int64_t r
    for r in range(n):
        _sum_add(&s, &c, a[r])
    return _sum_result(s, c)


cdef bint _xent_is_labels(cnp.ndarray t, cnp.ndarray x, int ax):
    """t is already what the kernel reads: int64, C-contiguous, x's shape without ax"""
    cdef int d, nd = cnp.PyArray_NDIM(x)
    if (cnp.PyArray_TYPE(t) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(t)
            or not cnp.PyArray_ISALIGNED(t) or cnp.PyArray_ISBYTESWAPPED(t)
            or cnp.PyArray_NDIM(t) != nd - 1):
        return False
    for d in range(nd - 1):
        if cnp.PyArray_DIMS(t)[d] != cnp.PyArray_DIMS(x)[d if d < ax else d + 1]:
            return False
    return True


cdef tuple _xent_target(target, cnp.ndarray x, int ax, tuple batch_shape):
    """(labels int64 C-contiguous, None) or (None, probabilities of x's dtype)"""
    cdef cnp.ndarray t = target if type(target) is np.ndarray else _asarray(target, "target")
    if _xent_is_labels(t, x, ax):
        return t, None
    kind = t.dtype.kind
    full_shape = (<object>x).shape
    tshape = (<object>t).shape
    if kind in "iu":
        if tshape != batch_shape:
            if tshape == full_shape:
                raise ValueError(f"target has the logits' shape {tshape} but an integer dtype "
                                 f"({t.dtype}): class probabilities must be floating point; class "
                                 f"indices must have shape {batch_shape}")
            raise ValueError(f"target has shape {tshape}; expected {batch_shape} (class indices) "
                             f"or {full_shape} (class probabilities)")
        if kind == "u" and t.dtype.itemsize >= 8 and t.size and t.max() > np.iinfo(np.int64).max:
            raise IndexError("target holds a class index out of range")
        return _c_contig(t, np.int64), None
    if kind == "f":
        if tshape != full_shape:
            if tshape == batch_shape:
                raise TypeError(f"target has floating dtype {t.dtype} and shape {tshape}: class "
                                f"indices must be integers (class probabilities must have the "
                                f"logits' shape {full_shape})")
            raise ValueError(f"target has shape {tshape}; expected {batch_shape} (class indices) "
                             f"or {full_shape} (class probabilities)")
        t = _as_real(t, "target")
        if t.dtype != x.dtype:
            t = t.astype(x.dtype)
        return None, t
    raise TypeError(f"target must hold integer class indices or floating class probabilities; "
                    f"got dtype {t.dtype}")


cdef cnp.ndarray _xent_weight(weight, cnp.ndarray x, int64_t ncls):
    if weight is None:
        return None
    cdef cnp.ndarray w = _asarray(weight, "weight")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"weight must be a real-valued array; got dtype {w.dtype}")
    if (<object>w).shape != (ncls,):
        raise ValueError(f"weight has shape {(<object>w).shape}; expected ({ncls},), one per class")
    w = _c_contig(w, x.dtype)
    if not np.all(np.isfinite(w)):
        raise ValueError("weight holds a non-finite value")
    if np.any(w < 0):
        raise ValueError("weight holds a negative value")
    return w


cdef tuple _xent(logits, target, axis, weight, ignore_index, reduction, label_smoothing,
                 bint want_grad, grad_out):
    cdef cnp.ndarray x = _as_real(logits, "logits")
    cdef int nd = cnp.PyArray_NDIM(x)
    if nd == 0:
        raise ValueError("logits must have at least one dimension (the classes)")
    cdef int ax = _axis(axis, nd)
    _reduction(reduction)
    eps = _float_arg(label_smoothing, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1]; got {label_smoothing!r}")
    try:
        ign = operator.index(ignore_index)
    except TypeError:
        raise TypeError(f"ignore_index must be an integer; got {type(ignore_index).__name__}") from None
    cdef int64_t ncls = cnp.PyArray_DIMS(x)[ax]
    full_shape = (<object>x).shape
    batch_shape = full_shape[:ax] + full_shape[ax + 1:]
    if type(target) is np.ndarray and _xent_is_labels(target, x, ax):
        labels, probs = target, None
    else:
        labels, probs = _xent_target(target, x, ax, batch_shape)
    cdef cnp.ndarray w = _xent_weight(weight, x, ncls)
    cdef cnp.ndarray lab = labels
    cdef cnp.ndarray prb = probs
    cdef cnp.ndarray g = None
    cdef XentJob j
    cdef int64_t R = 1, r, v, nbad = 0, bad = 0
    cdef int d
    cdef double denom = 0, total = 0
    cdef const int64_t *lp
    cdef char *wp = NULL
    cdef bint f64 = cnp.PyArray_ITEMSIZE(x) == 8
    for d in range(nd):
        if d != ax:
            R *= cnp.PyArray_DIMS(x)[d]
    if not -(2 ** 63) <= ign < 2 ** 63:
        raise ValueError(f"ignore_index must fit in int64; got {ign}")
    cdef int64_t ign64 = ign
    # class indices: range check and the "mean" denominator (sum of the counted weights)
    if w is not None:
        wp = <char *>cnp.PyArray_DATA(w)
    if lab is not None:
        lp = <const int64_t *>cnp.PyArray_DATA(lab)
        with nogil:
            nbad = _xent_check_labels(lp, R, ncls, ign64, &bad)
            if nbad:
                pass        # raised below; the weights must not be indexed by a bad label
            elif wp == NULL:
                denom = <double>(R - _xent_count(lp, R, ign64))
            elif f64:
                denom = _xent_weight_total(lp, R, ign64, <const char *>wp, 8)
            else:
                denom = _xent_weight_total(lp, R, ign64, <const char *>wp, 4)
        if nbad:
            raise IndexError(f"target holds class index {bad} outside [0, {ncls}) "
                             f"(and not ignore_index={ignore_index})")
    else:
        denom = R
    if want_grad:
        if grad_out is not None:
            _check_out(grad_out, x, nd, cnp.PyArray_DIMS(x), "grad_out")
            g = grad_out if _usable(grad_out) else np.empty_like(x)
            x = _unalias(x, g)
            # The kernels read the target probabilities and the class weights again after
            # writing the gradient (short rows keep their exps in it): any overlap with
            # grad_out, an exact one too, needs a copy (only the logits may be grad_out).
            if prb is not None and np.may_share_memory(prb, g):
                prb = prb.copy()
            if w is not None and np.may_share_memory(w, g):
                w = w.copy()
                wp = <char *>cnp.PyArray_DATA(w)
        else:
            g = np.empty_like(x)
    cdef cnp.ndarray losses = None
    cdef double *lbuf
    if reduction == "none":
        losses = np.empty(R, dtype=np.float64)
        lbuf = <double *>cnp.PyArray_DATA(losses)
    else:
        lbuf = <double *>malloc(max(R, 1) * sizeof(double))
        if lbuf == NULL:
            raise MemoryError("fastsmce: out of memory for the per-example losses")
    # fill the job
    memset(&j, 0, sizeof(j))
    j.dt = FS_FLOAT64 if f64 else FS_FLOAT32
    _xent_plan(&j, x, ax, prb, g)
    j.base.x = cnp.PyArray_DATA(x)
    j.base.label = <const int64_t *>cnp.PyArray_DATA(lab) if lab is not None else NULL
    j.base.label_s = 1
    j.base.ignore_index = ign64
    j.base.prob = cnp.PyArray_DATA(prb) if prb is not None else NULL
    j.base.weight = wp
    j.base.weight_sum = float(np.sum(w, dtype=np.float64)) if w is not None else <double>ncls
    j.base.smoothing = eps
    j.base.grad_scale = (1.0 / denom if denom != 0 else 0.0) if reduction == "mean" else 1.0
    j.base.grad = cnp.PyArray_DATA(g) if g is not None else NULL
    j.base.loss = lbuf
    try:
        if R:
            _xent_run(&j)
        if losses is None:
            with nogil:
                total = _xent_sum(lbuf, R)
    finally:
        if losses is None:
            free(lbuf)
    # reduce in row order (fixed, so any thread count gives the same bits)
    if reduction == "none":
        loss = losses.astype(x.dtype).reshape(batch_shape)
        if loss.ndim == 0:
            loss = loss[()]
    else:
        if reduction == "mean":
            total = total / denom if denom != 0 else NAN
        loss = np.float64(total) if f64 else np.float32(total)
    if g is not None and grad_out is not None and g is not grad_out:
        grad_out[...] = g
        g = grad_out
    return loss, g


def cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between softmax(logits) along `axis` and `target` (integer
    class indices shaped like logits without `axis`, or class probabilities
    shaped like logits), with torch.nn.functional.cross_entropy's options.
    Returns a scalar ("mean", "sum") or the per-example losses ("none")."""
    return _xent(logits, target, axis, weight, ignore_index, reduction, label_smoothing,
                 False, None)[0]


def cross_entropy_with_grad(logits, target, *, axis=-1, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0, grad_out=None):
    """(loss, grad): cross_entropy and its gradient d loss / d logits, from one
    read of the logits and one write of the gradient.  For reduction="none" the
    gradient is that of loss.sum().  grad_out (shaped and typed like logits) may
    be the logits array itself."""
    return _xent(logits, target, axis, weight, ignore_index, reduction, label_smoothing,
                 True, grad_out)
