# Cross-entropy family (included by _core.pyx): validate -> plan -> run -> reduce.
# The maths is csrc/kernels/xent.inc; per-row losses come back in float64 and are
# summed here in row order (compensated), so any thread count gives the same bits.

cdef struct XentJob:
    fs_dtype dt
    fs_xent_args base           # options; the pointers are set per segment
    Layout L                    # arrays: logits, probabilities, grad, labels, losses


cdef int _xent_segment(const void *job, int64_t r, int64_t n, char **p) noexcept nogil:
    cdef const XentJob *j = <const XentJob *>job
    cdef const Layout *L = &j.L
    cdef fs_xent_args a = j.base
    a.rows = n
    a.x, a.x_rs, a.x_cs = p[0], L.rs[0], L.cs[0]
    a.prob, a.p_rs, a.p_cs = p[1], L.rs[1], L.cs[1]
    a.grad, a.g_rs, a.g_cs = p[2], L.rs[2], L.cs[2]
    a.label, a.label_s = <const int64_t *>p[3], L.rs[3]
    a.loss = <double *>p[4]     # C-order layout of C-contiguous losses: stride 1
    return fs_cross_entropy_2d(j.dt, &a)


cdef int _xent_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    return _walk(&(<const XentJob *>job).L, lo, hi, _xent_segment, job)


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


cdef cnp.ndarray _class_indices(cnp.ndarray t):
    """integer class indices as C-contiguous int64 (uint64 beyond int64 is out of range)"""
    if (t.dtype.kind == "u" and t.dtype.itemsize >= 8 and t.size
            and t.max() > np.iinfo(np.int64).max):
        raise IndexError("target holds a class index out of range")
    return _c_contig(t, np.int64)


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
        return _class_indices(t), None
    if kind == "f":
        if tshape != full_shape:
            if tshape == batch_shape:
                raise TypeError(f"target has floating dtype {t.dtype} and shape {tshape}: class "
                                f"indices must be integers (class probabilities must have the "
                                f"logits' shape {full_shape})")
            raise ValueError(f"target has shape {tshape}; expected {batch_shape} (class indices) "
                             f"or {full_shape} (class probabilities)")
        return None, _real(t, "target", x)
    raise TypeError(f"target must hold integer class indices or floating class probabilities; "
                    f"got dtype {t.dtype}")


cdef cnp.ndarray _xent_weight(weight, cnp.ndarray x, int64_t ncls):
    if weight is None:
        return None
    cdef cnp.ndarray w = _real(weight, "weight", x, True)
    if (<object>w).shape != (ncls,):
        raise ValueError(f"weight has shape {(<object>w).shape}; expected ({ncls},), one per class")
    if not np.all(np.isfinite(w)):
        raise ValueError("weight holds a non-finite value")
    if np.any(w < 0):
        raise ValueError("weight holds a negative value")
    return w


cdef cnp.ndarray _xent_options(logits, axis, ignore_index, reduction, label_smoothing, int *ax,
                               int64_t *ign, double *eps):
    """the logits array; *ax the class axis, *ign ignore_index, *eps label_smoothing, checked"""
    cdef cnp.ndarray x = _real(logits, "logits")
    cdef int nd = cnp.PyArray_NDIM(x)
    if nd == 0:
        raise ValueError("logits must have at least one dimension (the classes)")
    ax[0] = _axis(axis, nd)
    _reduction(reduction)
    eps[0] = _smoothing(label_smoothing)
    ign[0] = _ignore_index(ignore_index)
    return x


cdef double _xent_denominator(cnp.ndarray lab, cnp.ndarray w, int64_t R, int64_t ncls, int64_t ign,
                              ignore_index) except? -1:
    """the "mean" denominator: counted examples, or the summed weights of their classes;
    class indices out of range (and not ignore_index) raise IndexError here"""
    cdef const int64_t *lp
    cdef const char *wp = <const char *>cnp.PyArray_DATA(w) if w is not None else NULL
    cdef int isz = cnp.PyArray_ITEMSIZE(w) if w is not None else 0
    cdef int64_t nbad = 0, bad = 0
    cdef double denom = R
    if lab is None:
        return denom
    lp = <const int64_t *>cnp.PyArray_DATA(lab)
    with nogil:
        nbad = _xent_check_labels(lp, R, ncls, ign, &bad)
        if nbad:
            pass        # raised below; the weights must not be indexed by a bad label
        elif wp == NULL:
            denom = <double>(R - _xent_count(lp, R, ign))
        else:
            denom = _xent_weight_total(lp, R, ign, wp, isz)
    if nbad:
        raise IndexError(f"target holds class index {bad} outside [0, {ncls}) "
                         f"(and not ignore_index={ignore_index})")
    return denom


cdef tuple _xent(logits, target, axis, weight, ignore_index, reduction, label_smoothing,
                 bint want_grad, grad_out):
    # validate
    cdef int ax = 0, d, k = 0
    cdef int64_t ign = 0
    cdef double eps = 0
    cdef cnp.ndarray xa = _xent_options(logits, axis, ignore_index, reduction, label_smoothing,
                                        &ax, &ign, &eps)
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef int64_t ncls = cnp.PyArray_DIMS(xa)[ax]
    full_shape = (<object>xa).shape
    batch_shape = full_shape[:ax] + full_shape[ax + 1:]
    if type(target) is np.ndarray and _xent_is_labels(target, xa, ax):
        labels, probs = target, None
    else:
        labels, probs = _xent_target(target, xa, ax, batch_shape)
    cdef cnp.ndarray lab = labels, prb = probs
    cdef cnp.ndarray w = _xent_weight(weight, xa, ncls)
    cdef int64_t R = cnp.PyArray_SIZE(xa) // ncls if ncls else int(np.prod(batch_shape))
    cdef double denom = _xent_denominator(lab, w, R, ncls, ign, ignore_index)
    # outputs (nothing is written before every check has passed)
    cdef cnp.ndarray g = None
    if want_grad:
        g = _target(grad_out, xa, nd, cnp.PyArray_DIMS(xa), True, "grad_out")
        if grad_out is not None:
            xa = _unalias(xa, g)
            # The kernels read the target probabilities and the class weights again after
            # writing the gradient (short rows keep their exps in it): any overlap with
            # grad_out, an exact one too, needs a copy (only the logits may be grad_out).
            if prb is not None and np.may_share_memory(prb, g):
                prb = prb.copy()
            if w is not None and np.may_share_memory(w, g):
                w = w.copy()
    cdef npy_intp bdims[MAX_DIMS]
    for d in range(nd):
        if d != ax:
            bdims[k] = cnp.PyArray_DIMS(xa)[d]
            k += 1
    cdef cnp.ndarray losses = cnp.PyArray_EMPTY(nd - 1, bdims, cnp.NPY_DOUBLE, 0)
    # plan
    cdef XentJob j
    cdef Plan p
    cdef int err
    memset(&j.base, 0, sizeof(j.base))
    j.dt = _dtype_of(xa)
    _layout(&j.L, ax, False, 5, xa, prb, g, lab, losses)
    j.base.cols = ncls
    j.base.ignore_index = ign
    j.base.weight = cnp.PyArray_DATA(w) if w is not None else NULL
    j.base.weight_sum = float(np.sum(w, dtype=np.float64)) if w is not None else <double>ncls
    j.base.smoothing = eps
    j.base.grad_scale = (1.0 / denom if denom != 0 else 0.0) if reduction == "mean" else 1.0
    _plan(&p, R, max(ncls, 1), 0, 1, 0)
    # run
    cdef double total = 0
    cdef const double *lbuf = <const double *>cnp.PyArray_DATA(losses)
    cdef bint summed = reduction != "none"
    with nogil:
        err = _run(&p, _xent_task, &j) if R else 0
        if not err and summed:
            total = _xent_sum(lbuf, R)
    if err & FS_ERR_ARG:
        raise IndexError("target holds a class index out of range")   # validated before: unreachable
    _raise_status(err)
    # reduce (in row order: any thread count gives the same bits)
    if reduction == "none":
        loss = losses.astype(xa.dtype)
        if loss.ndim == 0:
            loss = loss[()]
    else:
        if reduction == "mean":
            total = total / denom if denom != 0 else NAN
        loss = np.float64(total) if j.dt == FS_FLOAT64 else np.float32(total)
    if want_grad:
        return loss, _finish(grad_out, g)
    return loss, None


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
