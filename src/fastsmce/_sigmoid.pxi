# Sigmoid family (included by _core.pyx): elementwise sigmoid / log_sigmoid, binary
# cross-entropy with logits (dense or CSR targets) and the sigmoid focal loss.
# validate -> plan -> run -> reduce; the maths is csrc/kernels/sigmoid.inc.

cdef enum:
    SG_SIGMOID = 0
    SG_LOG_SIGMOID = 1
    SG_BCE = 0
    SG_FOCAL = 1
    SG_RUN = 65536              # elementwise: at most this many elements a C call (its
                                # scratch for strided runs is O(SG_RUN))
    SG_TASK = 16384             # loss tasks: rows of at most about this many elements, a
                                # multiple of 4 tasks when more than one (fixed by the shape:
                                # the sums fold per task, so results do not depend on threads;
                                # 3 tasks on 2 threads left one thread 2/3 of the work)
    CSR_PARALLEL_MIN = 1 << 18  # CSR indices checked by tasks of rows from this many
    BAD_TARGET = 1              # BinaryJob.bads, the bits of fs_bce_with_logits_2d's *bad: a
                                # dense target outside [0, 1]
    BAD_CSR_INDEX = 2           # ... a CSR column index outside [0, cols) (rows not computed)
    CSR_UNSORTED = 4            # ... a CSR row whose indices do not strictly increase

# ---------------------------------------------------------------------------
# elementwise: sigmoid, log_sigmoid
# ---------------------------------------------------------------------------

cdef struct ElemJob:
    int op
    fs_dtype dt
    Layout L                    # x, y; no class axis: every axis a batch axis, cols 1


cdef int _elem_segment(const void *job, int64_t r, int64_t n, char **p) noexcept nogil:
    """a run of n elements (the rows of the layout) as one row of the C kernel"""
    cdef const ElemJob *j = <const ElemJob *>job
    cdef const Layout *L = &j.L
    cdef int64_t k = 0, m
    cdef int err = 0
    while k < n:
        m = min(<int64_t>SG_RUN, n - k)
        if j.op == SG_SIGMOID:
            err |= fs_sigmoid_2d(j.dt, 1, m, p[0] + k * L.rs[0] * L.isz[0], 0, L.rs[0],
                                 p[1] + k * L.rs[1] * L.isz[1], 0, L.rs[1])
        else:
            err |= fs_log_sigmoid_2d(j.dt, 1, m, p[0] + k * L.rs[0] * L.isz[0], 0, L.rs[0],
                                     p[1] + k * L.rs[1] * L.isz[1], 0, L.rs[1])
        k += m
    return err


cdef int _elem_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    return _walk(&(<const ElemJob *>job).L, lo, hi, _elem_segment, job)


cdef object _elementwise(int op, x, out):
    cdef cnp.ndarray a = _real(x, "x")
    cdef cnp.ndarray y = _target(out, a, cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), True)
    cdef ElemJob j
    cdef Plan p
    cdef int err
    if out is not None:
        a = _unalias(a, y)
    if cnp.PyArray_SIZE(a):
        j.op = op
        j.dt = _dtype_of(a)
        _layout(&j.L, -1, True, 2, a, y)
        _plan(&p, j.L.total_rows, 1, 0, 1, 0)
        with nogil:
            err = _run(&p, _elem_task, &j)
        _raise_status(err)
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

cdef cnp.ndarray _broadcast_operand(v, cnp.ndarray x, str name, str how):
    """v as x's dtype, checked finite and >= 0, broadcast to x's shape (a view)"""
    if v is None:
        return None
    cdef cnp.ndarray a = _real(v, name, x)
    if cnp.PyArray_SIZE(a):
        # checked on the array as given (before broadcasting): two reductions, no copy
        lo, hi = a.min(), a.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{name} holds a non-finite value")
        if lo < 0:
            raise ValueError(f"{name} holds a negative value")
    try:
        return np.broadcast_to(a, (<object>x).shape)
    except ValueError:
        raise ValueError(f"{name} of shape {(<object>a).shape} does not broadcast to the logits' "
                         f"shape {(<object>x).shape} ({how})") from None


cdef bint _is_sparse_target(t):
    return not isinstance(t, np.ndarray) and hasattr(t, "indptr") and hasattr(t, "indices")


ctypedef fused _csr_real:
    float
    double


cdef struct CsrJob:
    const int64_t *ip           # validated int64 indptr
    const void *ix
    int bytes                   # 4 or 8: the indices' width
    int64_t cols
    int64_t *out                # the indices as int64 (NULL: int64 already)


cdef int _csr_check_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    """rows [lo, hi): 1 an index outside, 2 a row not strictly increasing (OR-ed over tasks)"""
    cdef const CsrJob *j = <const CsrJob *>job
    return fs_csr_indices_check(j.ip, j.ix, j.bytes, lo, hi, j.cols, j.out)


cdef inline int64_t _csr_col(const void *ix, bint wide, int64_t k) noexcept nogil:
    return (<const int64_t *>ix)[k] if wide else (<const int32_t *>ix)[k]


cdef bint _csr_duplicates(const int64_t *indptr, const void *ix, bint wide, int64_t rows,
                          unsigned char *seen) noexcept nogil:
    """whether a column appears twice in a row (ix: int64 when wide, else int32); seen:
    cols zeroed flags (left zeroed)"""
    cdef int64_t r, k
    cdef bint dup = False
    for r in range(rows):
        for k in range(indptr[r], indptr[r + 1]):
            dup = dup or seen[_csr_col(ix, wide, k)]
            seen[_csr_col(ix, wide, k)] = 1
        for k in range(indptr[r], indptr[r + 1]):
            seen[_csr_col(ix, wide, k)] = 0
        if dup:
            return True
    return False


cdef int _csr_values_scan(const _csr_real *d, int64_t nnz) noexcept nogil:
    """1 when a value lies outside [0, 1] (NaN too), else 2 when every value is 1, else 0
    (flat counts: vectorised)"""
    cdef int64_t k, bad = 0, other = 0
    for k in range(nnz):
        bad += (d[k] < 0) | (d[k] > 1) | (d[k] != d[k])
        other += d[k] != 1
    return 1 if bad else (0 if other else 2)


cdef void _f32_to_f64(const float *a, double *b, int64_t n) noexcept nogil:
    cdef int64_t k
    for k in range(n):
        b[k] = a[k]


cdef cnp.ndarray _csr_array(a, str what):
    """a CSR component as a 1-D-checked, aligned, C-contiguous int32 or int64 array (as
    given when it is one; other dtypes and array-likes become int64)"""
    cdef cnp.ndarray r
    if type(a) is np.ndarray:
        r = a
        if ((cnp.PyArray_TYPE(r) == cnp.NPY_INT32 or cnp.PyArray_TYPE(r) == cnp.NPY_INT64)
                and cnp.PyArray_IS_C_CONTIGUOUS(r) and cnp.PyArray_ISALIGNED(r)
                and not cnp.PyArray_ISBYTESWAPPED(r)):
            return r
    return _c_contig(a, np.int64)


cdef int _csr_raise(int st, const int64_t *ip, cnp.ndarray indices, int64_t rows,
                    int64_t cols) except -1:
    """the error of a CSR indices check's status st (bits of fs_csr_indices_check's codes):
    an index outside the columns, or (when some row is not strictly increasing) a column
    twice in a row"""
    cdef unsigned char *seen
    if st & 1:
        raise IndexError(f"target: column index out of range [0, {cols})")
    if st & 2:
        seen = <unsigned char *>calloc(max(cols, <int64_t>1), 1)
        if seen == NULL:
            raise MemoryError("fastsmce: out of memory for the duplicate check")
        with nogil:
            st = _csr_duplicates(ip, cnp.PyArray_DATA(indices), cnp.PyArray_ITEMSIZE(indices) == 8,
                                 rows, seen)
        free(seen)
        if st:
            raise ValueError("target: a column appears twice in a row of the sparse target")
    return 0


_CSR_VALUES = "target: sparse target values must lie in [0, 1]"


cdef tuple _csr_positives(t, int64_t rows, int64_t cols, bint defer):
    """(indptr int32 or int64, indices int32 or int64, data float64 or None, bad values) of
    CSR positives, validated in O(rows + nnz) typed loops: shape (rows, cols), indptr[0] == 0
    and non-decreasing, indices in [0, cols), no column twice in a row, data (if any) in
    [0, 1].  int32 / int64 indices and float32 / float64 data are read as given (int64 /
    float64 ones are used without a copy; all-ones data is dropped).  defer: the indices
    are left to the loss kernel, which checks them as it reads them (fs_bce_with_logits_2d's
    *bad bits; the caller raises with _csr_raise), values outside [0, 1] are returned as
    the flag instead of raised (the caller raises after the indices' errors), and an int32
    indptr is returned as given (the kernel reads it: fs_binary_loss_args.indptr32);
    otherwise indptr is int64."""
    cdef cnp.ndarray indptr, indices, data = None, ip64, d64 = None
    cdef int64_t nnz
    cdef int st = 0
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
    indptr = _csr_array(t.indptr, "indptr")
    indices = _csr_array(t.indices, "indices")
    if cnp.PyArray_NDIM(indptr) != 1 or cnp.PyArray_SIZE(indptr) != rows + 1:
        raise ValueError(f"target: indptr must have {rows + 1} entries (rows + 1); "
                         f"got shape {(<object>indptr).shape}")
    # an int32 indptr is widened to int64 only for the checks made here (not defer)
    cdef bint wide = cnp.PyArray_TYPE(indptr) == cnp.NPY_INT64
    ip64 = indptr if wide or defer else \
        cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(indptr), cnp.NPY_INT64, 0)
    cdef int64_t *ipo = NULL if ip64 is indptr else <int64_t *>cnp.PyArray_DATA(ip64)
    if fs_csr_indptr_check(cnp.PyArray_DATA(indptr), cnp.PyArray_ITEMSIZE(indptr), rows, ipo):
        raise ValueError("target: indptr must start at 0 and never decrease")
    cdef const int64_t *ip = <const int64_t *>cnp.PyArray_DATA(ip64)
    nnz = ip[rows] if cnp.PyArray_TYPE(ip64) == cnp.NPY_INT64 else \
        (<const int32_t *>cnp.PyArray_DATA(ip64))[rows]
    if cnp.PyArray_NDIM(indices) != 1 or cnp.PyArray_SIZE(indices) < nnz:
        raise ValueError(f"target: indptr[-1] = {nnz} exceeds the {cnp.PyArray_SIZE(indices)} "
                         f"indices")
    cdef npy_intp n = nnz
    cdef CsrJob cj
    cdef Plan p
    if not defer:               # the rows' indices checked in the C core, by tasks of rows when many
        cj.ip = ip
        cj.ix = cnp.PyArray_DATA(indices)
        cj.bytes = cnp.PyArray_ITEMSIZE(indices)
        cj.cols = cols
        cj.out = NULL           # int32 indices are read as they are (fs_binary_loss_args.indices32)
        _plan(&p, rows, max(nnz // max(rows, <int64_t>1), <int64_t>1), 0, 1, CSR_PARALLEL_MIN)
        with nogil:
            st = _run(&p, _csr_check_task, &cj) if rows else 0
        _csr_raise(st, ip, indices, rows, cols)
    v = getattr(t, "data", None)
    if v is not None:
        data = v if type(v) is np.ndarray else np.asarray(v)
        if data.dtype.kind not in "biuf":
            raise TypeError(f"target: sparse data must be real-valued; got dtype {data.dtype}")
        if not (cnp.PyArray_TYPE(data) == cnp.NPY_FLOAT or cnp.PyArray_TYPE(data) == cnp.NPY_DOUBLE):
            data = _c_contig(data, np.float64)
        elif not cnp.PyArray_IS_C_CONTIGUOUS(data) or not _usable(data):
            data = _c_contig(data, data.dtype.newbyteorder("="))
        if cnp.PyArray_NDIM(data) != 1 or cnp.PyArray_SIZE(data) < nnz:
            raise ValueError(f"target: sparse data must hold {nnz} values")
        with nogil:
            if cnp.PyArray_TYPE(data) == cnp.NPY_DOUBLE:
                st = _csr_values_scan(<const double *>cnp.PyArray_DATA(data), nnz)
            else:
                st = _csr_values_scan(<const float *>cnp.PyArray_DATA(data), nnz)
        if st == 1 and not defer:
            raise ValueError(_CSR_VALUES)
        if st == 2:
            return ip64, indices, None, False
        if cnp.PyArray_TYPE(data) == cnp.NPY_DOUBLE:
            return ip64, indices, data, st == 1
        d64 = cnp.PyArray_EMPTY(1, &n, cnp.NPY_DOUBLE, 0)
        _f32_to_f64(<const float *>cnp.PyArray_DATA(data), <double *>cnp.PyArray_DATA(d64), nnz)
    return ip64, indices, d64, st == 1


cdef struct BinaryJob:
    int kind
    fs_dtype dt
    fs_binary_loss_args base    # options and CSR arrays; the views are set per segment
    Layout L                    # x, z, w, pw, loss, grad
    double alpha, gamma
    int64_t per                 # rows a task (fixed)
    double *sums                # one partial sum a task, folded in task order
    int64_t *bads               # flags a task (the kernel's *bad): BAD_TARGET, BAD_CSR_INDEX,
                                # CSR_UNSORTED


cdef struct BinaryPiece:
    const BinaryJob *j
    int64_t t                   # the task


cdef void _binary_args(fs_binary_loss_args *a, const BinaryJob *j, int64_t r, int64_t n,
                       char **p) noexcept nogil:
    cdef const Layout *L = &j.L
    a[0] = j.base
    a.rows = n
    a.cols = L.cols
    a.x, a.x_rs, a.x_cs = p[0], L.rs[0], L.cs[0]
    a.z, a.z_rs, a.z_cs = p[1], L.rs[1], L.cs[1]
    a.w, a.w_rs, a.w_cs = p[2], L.rs[2], L.cs[2]
    a.pw, a.pw_rs, a.pw_cs = p[3], L.rs[3], L.cs[3]
    a.loss, a.loss_rs, a.loss_cs = p[4], L.rs[4], L.cs[4]
    a.grad, a.g_rs, a.g_cs = p[5], L.rs[5], L.cs[5]
    if a.indptr != NULL:
        a.indptr = a.indptr + r         # CSR targets: 2-D logits, flat row r is row r
    if a.indptr32 != NULL:
        a.indptr32 = a.indptr32 + r


cdef int _binary_segment(const void *piece, int64_t r, int64_t n, char **p) noexcept nogil:
    cdef const BinaryPiece *q = <const BinaryPiece *>piece
    cdef fs_binary_loss_args a
    cdef double s = 0
    cdef int64_t bad = 0
    cdef int err
    _binary_args(&a, q.j, r, n, p)
    if q.j.kind == SG_BCE:
        err = fs_bce_with_logits_2d(q.j.dt, &a, &s, &bad)
    else:
        err = fs_sigmoid_focal_2d(q.j.dt, &a, q.j.alpha, q.j.gamma, &s, &bad)
    q.j.sums[q.t] += s
    q.j.bads[q.t] |= bad
    return err


cdef int _unit_check_segment(const void *piece, int64_t r, int64_t n, char **p) noexcept nogil:
    cdef const BinaryPiece *q = <const BinaryPiece *>piece
    cdef const Layout *L = &q.j.L
    q.j.bads[q.t] |= fs_count_outside_unit_2d(q.j.dt, n, L.cols, p[1], L.rs[1], L.cs[1])
    return 0


cdef inline int _binary_walk(const void *job, int64_t lo, int64_t hi, segment_fn f) noexcept nogil:
    cdef BinaryPiece q
    q.j = <const BinaryJob *>job
    q.t = lo // q.j.per
    q.j.sums[q.t] = 0
    q.j.bads[q.t] = 0
    return _walk(&q.j.L, lo, hi, f, &q)


cdef int _binary_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    return _binary_walk(job, lo, hi, _binary_segment)


cdef int _unit_check_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    return _binary_walk(job, lo, hi, _unit_check_segment)


cdef int64_t _binary_run(BinaryJob *j, task_fn f, double *total) except -1:
    """f over fixed tasks of whole rows: *total the partial sums folded in task order;
    returns the tasks' flags (BAD_TARGET, BAD_CSR_INDEX, CSR_UNSORTED) OR-ed"""
    cdef Plan p
    cdef int64_t t, rows = j.L.total_rows
    cdef int err
    cdef int64_t anybad = 0
    cdef int64_t cols = max(j.L.cols, <int64_t>1)
    cdef int64_t ntasks = (rows * cols + SG_TASK - 1) // SG_TASK
    if ntasks > 1:
        ntasks = (ntasks + 3) // 4 * 4
    j.per = max(<int64_t>1, (rows + ntasks - 1) // max(ntasks, <int64_t>1))
    _plan(&p, rows, j.L.cols, j.per, 1, 0)
    j.sums = <double *>malloc((p.ntasks + 1) * sizeof(double))
    j.bads = <int64_t *>malloc((p.ntasks + 1) * sizeof(int64_t))
    try:
        if j.sums == NULL or j.bads == NULL:
            raise MemoryError("fastsmce: out of memory for the partial sums")
        with nogil:
            err = _run(&p, f, j) if rows else 0
        _raise_status(err)
        total[0] = 0
        for t in range(p.ntasks if rows else 0):
            total[0] += j.sums[t]
            anybad |= j.bads[t]
    finally:
        free(j.sums)
        free(j.bads)
        j.sums = NULL
        j.bads = NULL
    return anybad


cdef object _binary_loss(int kind, logits, target, weight, pos_weight, reduction, bint want_grad,
                         grad_out, double alpha, double gamma):
    # validate
    _reduction(reduction)
    cdef cnp.ndarray x = _real(logits, "logits")
    cdef int nd = cnp.PyArray_NDIM(x)
    shape = (<object>x).shape
    cdef int64_t numel = cnp.PyArray_SIZE(x)
    cdef bint sparse = _is_sparse_target(target)
    cdef cnp.ndarray z = None, g = None, lo = None
    cdef cnp.ndarray indptr = None, indices = None, data = None
    cdef bint defer = False, bad_values = False
    cdef int64_t flags
    if sparse:
        if kind == SG_FOCAL:
            raise TypeError("sigmoid_focal_loss: target must be a dense array (sparse targets "
                            "are supported by the binary cross-entropy functions only)")
        if nd != 2:
            raise ValueError(f"target: sparse targets need 2-D logits; got {nd}-D logits")
        # the indices are checked by the loss kernel as it reads them, unless grad_out
        # (the caller's memory) must not be written before every check has passed
        defer = not (want_grad and grad_out is not None)
        indptr, indices, data, bad_values = _csr_positives(target, shape[0], shape[1], defer)
    else:
        z = _real(target, "target", x)
        if (<object>z).shape != shape:
            raise ValueError(f"target of shape {(<object>z).shape} must have the logits' shape {shape}")
    cdef cnp.ndarray w = _broadcast_operand(weight, x, "weight", "broadcast to the logits")
    cdef cnp.ndarray pw = _broadcast_operand(pos_weight, x, "pos_weight",
                                             "broadcast along the last axis of the logits")
    # outputs (nothing is written to grad_out before every check has passed)
    if want_grad:
        g = _target(grad_out, x, nd, cnp.PyArray_DIMS(x), True, "grad_out")
        if g is grad_out:
            x = _unalias(x, g)
            # copies (ascontiguousarray returns a contiguous weight as it is, still
            # overlapping grad_out: the gradient then overwrote weights not yet read)
            if z is not None and np.may_share_memory(z, g):
                z = z.copy()
            if w is not None and np.may_share_memory(w, g):
                w = np.array(w, copy=True)
            if pw is not None and np.may_share_memory(pw, g):
                pw = np.array(pw, copy=True)
    if reduction == "none":
        lo = np.empty(shape, dtype=x.dtype)
    # plan: fixed tasks of whole rows (the class axis last), partial sums folded in order
    cdef BinaryJob j
    memset(&j.base, 0, sizeof(j.base))
    j.kind = kind
    j.dt = _dtype_of(x)
    j.alpha = alpha
    j.gamma = gamma
    _layout(&j.L, nd - 1, False, 6, x, z, w, pw, lo, g)     # nd == 0: no class axis
    if indptr is not None:
        if cnp.PyArray_TYPE(indptr) == cnp.NPY_INT64:
            j.base.indptr = <const int64_t *>cnp.PyArray_DATA(indptr)
        else:
            j.base.indptr32 = <const int32_t *>cnp.PyArray_DATA(indptr)
        if cnp.PyArray_TYPE(indices) == cnp.NPY_INT64:
            j.base.indices = <const int64_t *>cnp.PyArray_DATA(indices)
        else:
            j.base.indices32 = <const int32_t *>cnp.PyArray_DATA(indices)
        if data is not None:
            j.base.data = <const double *>cnp.PyArray_DATA(data)
    # run: the targets are checked before grad_out is written (one extra read of target)
    cdef double total = 0
    if want_grad and g is grad_out and z is not None and _binary_run(&j, _unit_check_task, &total):
        raise ValueError("target values must lie in [0, 1]")
    j.base.grad_scale = 1.0 / numel if reduction == "mean" and numel else 1.0
    flags = _binary_run(&j, _binary_task, &total)
    if defer and flags & (BAD_CSR_INDEX | CSR_UNSORTED):
        if cnp.PyArray_TYPE(indptr) != cnp.NPY_INT64:
            indptr = indptr.astype(np.int64)
        _csr_raise((flags & BAD_CSR_INDEX != 0) | 2 * (flags & CSR_UNSORTED != 0),
                   <const int64_t *>cnp.PyArray_DATA(indptr), indices, shape[0], shape[1])
    if bad_values:              # (set only when defer)
        raise ValueError(_CSR_VALUES)
    if flags & BAD_TARGET:
        raise ValueError("target values must lie in [0, 1]")
    # reduce
    if reduction == "none":
        loss = lo
    elif reduction == "sum":
        loss = x.dtype.type(total)
    else:
        loss = x.dtype.type(total / numel if numel else np.nan)
    if not want_grad:
        return loss
    return loss, _finish(grad_out, g)


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
