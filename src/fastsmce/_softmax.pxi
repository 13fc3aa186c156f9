# Softmax family (included by _core.pyx): softmax, log_softmax, logsumexp and the two
# backward passes.  validate -> plan -> run; the maths is csrc/kernels/softmax.inc.

cdef enum:
    OP_SOFTMAX = 0
    OP_LOG_SOFTMAX = 1
    OP_LOGSUMEXP = 2
    OP_SOFTMAX_BWD = 3
    OP_LOG_SOFTMAX_BWD = 4

cdef struct SoftmaxJob:
    int op
    fs_dtype dt
    Layout L                    # arrays: x, y  or  g, p, y
    # one long row split across threads (_softmax_split)
    int64_t nch, chunk
    char **rowp                 # x and y of every row
    double *st                  # (m, s) of every chunk, then M and S of every row
    double *mb                  # softmax: the max of every block of every chunk (bpc a chunk)
    int64_t bpc
    # softmax for fastsmce.special (_softmax_checked), rows split across threads: NULL, or
    # one byte a row of y (C order, the class axis last): 1 where the row holds a value
    # that is not > 0, each chunk checked right after it is scaled, while it is in cache
    uint8_t *rflags
    char *ybase                 # y's first element (a row's flag index from its address)
    uint8_t *cflags             # split rows: one byte a (row, chunk) item, OR-ed per row


cdef int _softmax_segment(const void *job, int64_t r, int64_t n, char **p) noexcept nogil:
    cdef const SoftmaxJob *j = <const SoftmaxJob *>job
    cdef const Layout *L = &j.L
    if j.op == OP_SOFTMAX:
        return fs_softmax_2d(j.dt, n, L.cols, p[0], L.rs[0], L.cs[0], p[1], L.rs[1], L.cs[1])
    if j.op == OP_LOG_SOFTMAX:
        return fs_log_softmax_2d(j.dt, n, L.cols, p[0], L.rs[0], L.cs[0], p[1], L.rs[1], L.cs[1])
    if j.op == OP_LOGSUMEXP:
        return fs_logsumexp_2d(j.dt, n, L.cols, p[0], L.rs[0], L.cs[0], p[1], L.rs[1])
    if j.op == OP_SOFTMAX_BWD:
        return fs_softmax_backward_2d(j.dt, n, L.cols, p[0], L.rs[0], L.cs[0], p[1], L.rs[1],
                                      L.cs[1], p[2], L.rs[2], L.cs[2])
    return fs_log_softmax_backward_2d(j.dt, n, L.cols, p[0], L.rs[0], L.cs[0], p[1], L.rs[1],
                                      L.cs[1], p[2], L.rs[2], L.cs[2])


cdef int _softmax_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    return _walk(&(<const SoftmaxJob *>job).L, lo, hi, _softmax_segment, job)


# one long row split across threads: every (row, chunk) item gets its chunk statistics,
# the statistics fold in chunk order (serially), then every item writes its chunk.  The
# one-thread kernels use the same chunks and fold: the bits do not depend on threads.

cdef int _chunk_stats_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    # softmax: the chunk's exps against its own max go to y now (one exp an element)
    cdef const SoftmaxJob *j = <const SoftmaxJob *>job
    cdef int64_t t, c, r, off, n
    for t in range(lo, hi):
        r = t // j.nch
        c = t % j.nch
        off = c * j.chunk * j.L.isz[0]
        n = min(j.chunk, j.L.cols - c * j.chunk)
        if j.op == OP_SOFTMAX:
            fs_softmax_chunk_exp(j.dt, j.rowp[2 * r] + off, j.rowp[2 * r + 1] + off, n,
                                 j.mb + t * j.bpc, &j.st[2 * t], &j.st[2 * t + 1])
        else:
            fs_chunk_stats(j.dt, j.rowp[2 * r] + off, n, &j.st[2 * t], &j.st[2 * t + 1])
    return 0


cdef int _chunk_write_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const SoftmaxJob *j = <const SoftmaxJob *>job
    cdef int64_t t, r, c, off, n, nrow = j.L.total_rows
    cdef int f
    cdef double *M = j.st + 2 * nrow * j.nch
    cdef double *S = M + nrow
    for t in range(lo, hi):
        r = t // j.nch
        c = t % j.nch
        off = c * j.chunk * j.L.isz[0]
        n = min(j.chunk, j.L.cols - c * j.chunk)
        if j.op == OP_SOFTMAX:  # as the one-thread kernel scales its chunks
            f = fs_softmax_chunk_scale(j.dt, j.rowp[2 * r + 1] + off, n, j.mb + t * j.bpc, M[r],
                                       S[r], j.cflags != NULL)
            if j.cflags != NULL:  # each value checked as it is scaled
                j.cflags[t] = f
        else:
            fs_log_softmax_write(j.dt, j.rowp[2 * r] + off, j.rowp[2 * r + 1] + off, n, M[r],
                                 log(S[r]))
    return 0


cdef int _softmax_split(SoftmaxJob *j, int nthreads) except -1:
    cdef Plan p
    cdef int64_t nrow = j.L.total_rows, r, c, ntask
    cdef double *M
    cdef double *S
    cdef double v
    cdef char *ptrs[MAX_ARR]
    j.chunk = fs_row_chunk()
    j.nch = (j.L.cols + j.chunk - 1) // j.chunk
    ntask = nrow * j.nch
    j.rowp = <char **>malloc(2 * nrow * sizeof(char *))
    j.st = <double *>malloc((2 * ntask + 2 * nrow) * sizeof(double))
    j.bpc = (j.chunk + fs_row_block() - 1) // fs_row_block()
    j.mb = <double *>malloc(ntask * j.bpc * sizeof(double)) if j.op == OP_SOFTMAX else NULL
    j.cflags = <uint8_t *>calloc(ntask, 1) if j.rflags != NULL else NULL
    try:
        if (j.rowp == NULL or j.st == NULL or (j.rflags != NULL and j.cflags == NULL)
                or (j.op == OP_SOFTMAX and j.mb == NULL)):
            raise MemoryError("fastsmce: out of memory for the row statistics")
        M = j.st + 2 * ntask
        S = M + nrow
        for r in range(nrow):
            _row_ptrs(&j.L, r, ptrs)
            j.rowp[2 * r] = ptrs[0]
            j.rowp[2 * r + 1] = ptrs[1]
        p.nitems = p.ntasks = ntask
        p.per = 1
        p.nthreads = nthreads
        with nogil:
            _run(&p, _chunk_stats_task, j)
            for r in range(nrow):
                M[r] = -INFINITY
                S[r] = 0
                for c in range(j.nch):
                    fs_stats_fold(&M[r], &S[r], j.st[2 * (r * j.nch + c)], j.st[2 * (r * j.nch + c) + 1])
            if j.op == OP_LOGSUMEXP:
                for r in range(nrow):
                    v = fs_stats_logsumexp(j.dt, j.rowp[2 * r], j.L.cols, M[r], S[r])
                    if j.dt == FS_FLOAT32:
                        (<float *>j.rowp[2 * r + 1])[0] = <float>v
                    else:
                        (<double *>j.rowp[2 * r + 1])[0] = v
            else:
                _run(&p, _chunk_write_task, j)
        if j.cflags != NULL:
            for r in range(nrow):
                v = 0
                for c in range(j.nch):
                    v += j.cflags[r * j.nch + c]
                j.rflags[(j.rowp[2 * r + 1] - j.ybase) // (j.L.cols * j.L.isz[1])] = v > 0
    finally:
        free(j.rowp)
        free(j.st)
        free(j.mb)
        free(j.cflags)
    return 0


cdef int _softmax_run(int op, int axis, cnp.ndarray x0, cnp.ndarray x1,
                      cnp.ndarray x2=None, uint8_t *rflags=NULL) except -1:
    """the softmax-family op over x0 (and x1: inputs of one shape), the output last.
    rflags (softmax, y C-contiguous with `axis` last): where the rows are split across
    threads, y's rows' flags are set (SoftmaxJob) and 1 is returned; else 0 (a separate
    pass, _rows_flag, costs less there than a check per row inside the row walk)"""
    cdef SoftmaxJob j
    cdef Plan p
    cdef int err
    cdef int nthreads = _threads()
    j.op = op
    j.rflags = rflags
    j.cflags = NULL
    j.ybase = <char *>cnp.PyArray_DATA(x1)
    j.dt = _dtype_of(x0)
    _layout(&j.L, axis, True, 3 if x2 is not None else 2, x0, x1, x2)
    # fewer rows than threads, each long and contiguous: split the rows themselves
    if (op <= OP_LOGSUMEXP and nthreads > 1 and j.L.total_rows < nthreads
            and j.L.total_rows * j.L.cols >= PARALLEL_MIN and j.L.cs[0] == 1
            and (op == OP_LOGSUMEXP or j.L.cs[1] == 1)
            and j.L.cols > max(fs_long_row(j.dt), fs_row_chunk())):
        _softmax_split(&j, nthreads)
        return rflags != NULL
    j.rflags = NULL
    # column kernels (class axis strided, rows contiguous) take whole vectors of rows
    _plan(&p, j.L.total_rows, j.L.cols, 0, 16 if j.L.cs[0] != 1 and j.L.rs[0] == 1 else 1, 0)
    with nogil:
        err = _run(&p, _softmax_task, &j)
    _raise_status(err)
    return 0


cdef object _softmax_like(int op, x, axis, out):
    cdef cnp.ndarray a = _real(x, "x")
    cdef int ax = _axis(axis, cnp.PyArray_NDIM(a))
    cdef cnp.ndarray y = _target(out, a, cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), True)
    if out is not None:
        a = _unalias(a, y)
    if cnp.PyArray_SIZE(a):
        _softmax_run(op, ax, a, y)
    return _finish(out, y)


def softmax(x, axis=-1, *, out=None):
    """Stable softmax exp(x - max) / sum(exp(x - max)) along `axis`."""
    return _softmax_like(OP_SOFTMAX, x, axis, out)


def _softmax_checked(x, axis):
    """(softmax(x, axis), rows) for fastsmce.special: rows a bool array of the output's shape
    without `axis`, True where the row holds a value that is not > 0 (a 0 the kernels' exp
    flushed where SciPy's is subnormal, or a NaN: the rows SciPy defines otherwise), found
    as the rows are written: when they are split across threads (a few long rows, e.g.
    SciPy's axis=None) each chunk is checked while it is in cache.  rows is None otherwise
    (the caller checks the output itself: one parallel pass costs less than a check per
    row inside the row walk, measured at 4096x1000)"""
    cdef cnp.ndarray a = _real(x, "x")
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef int ax = _axis(axis, nd)
    cdef cnp.ndarray y = _target(None, a, nd, cnp.PyArray_DIMS(a), True)
    if (ax != nd - 1 or not cnp.PyArray_IS_C_CONTIGUOUS(y) or cnp.PyArray_SIZE(y) == 0):
        if cnp.PyArray_SIZE(a):
            _softmax_run(OP_SOFTMAX, ax, a, y)
        return y, None
    cdef cnp.ndarray flags = np.zeros(cnp.PyArray_SIZE(y) // cnp.PyArray_DIMS(y)[nd - 1], np.uint8)
    if not _softmax_run(OP_SOFTMAX, ax, a, y, None, <uint8_t *>cnp.PyArray_DATA(flags)):
        return y, None
    return y, flags.view(np.bool_).reshape((<object>y).shape[:nd - 1])


def log_softmax(x, axis=-1, *, out=None):
    """Stable log-softmax (x - max) - log(sum(exp(x - max))) along `axis`."""
    return _softmax_like(OP_LOG_SOFTMAX, x, axis, out)


def logsumexp(x, axis=-1, *, keepdims=False, out=None):
    """log(sum(exp(x))) along `axis`, computed stably; -inf over an empty axis."""
    cdef cnp.ndarray a = _real(x, "x")
    cdef int nd = cnp.PyArray_NDIM(a), d, k = 0
    cdef int ax = _axis(axis, nd)
    cdef bint kd = _flag(keepdims, "keepdims")
    cdef npy_intp shape[MAX_DIMS]
    for d in range(nd):
        if d != ax:
            shape[k] = cnp.PyArray_DIMS(a)[d]
            k += 1
        elif kd:
            shape[k] = 1
            k += 1
    cdef cnp.ndarray y = _target(out, a, k, shape, False)
    if out is not None:
        a = _unalias(a, y)
    if cnp.PyArray_SIZE(y):
        if cnp.PyArray_DIMS(a)[ax] == 0:
            y.fill(-np.inf)
        else:
            _softmax_run(OP_LOGSUMEXP, ax, a, y)
    res = _finish(out, y)
    if out is None and k == 0:
        return res[()]
    return res


cdef object _backward(int op, grad, other, str other_name, axis, out):
    cdef cnp.ndarray g = _real(grad, "grad")
    cdef cnp.ndarray p = _real(other, other_name)
    if g.dtype != p.dtype:
        g = g.astype(np.float64)
        p = p.astype(np.float64)
    gshape, pshape = (<object>g).shape, (<object>p).shape
    if gshape != pshape:
        try:
            g, p = np.broadcast_arrays(g, p)
        except ValueError:
            raise ValueError(f"grad of shape {gshape} and {other_name} of shape {pshape} "
                             f"do not broadcast") from None
    cdef int ax = _axis(axis, cnp.PyArray_NDIM(g))
    cdef cnp.ndarray y = _target(out, g, cnp.PyArray_NDIM(g), cnp.PyArray_DIMS(g), True)
    if out is not None:
        g = _unalias(g, y)
        p = _unalias(p, y)
    if cnp.PyArray_SIZE(g):
        _softmax_run(op, ax, g, p, y)
    return _finish(out, y)


def softmax_backward(grad, probs, axis=-1, *, out=None):
    """Vector-Jacobian product of softmax: probs * (grad - sum(grad * probs))."""
    return _backward(OP_SOFTMAX_BWD, grad, probs, "probs", axis, out)


def log_softmax_backward(grad, log_probs, axis=-1, *, out=None):
    """Vector-Jacobian product of log_softmax: grad - exp(log_probs) * sum(grad)."""
    return _backward(OP_LOG_SOFTMAX_BWD, grad, log_probs, "log_probs", axis, out)


def _softmax_from_stats(x, m, s, log_softmax=False):
    """softmax (or log_softmax) of a chunk x (rows, n) of longer rows, from the rows' (max,
    sum exp(x - max)) folded over the whole rows (float64): the final pass of the chunked
    scheme above, for chunks that live apart (fastsmce.dask)."""
    cdef cnp.ndarray a = _real(x, "x", None, True)
    if a.ndim != 2:
        raise ValueError(f"x must be a 2-D chunk (rows, n); got shape {(<object>a).shape}")
    cdef cnp.ndarray M = np.ascontiguousarray(m, np.float64).reshape(-1)
    cdef cnp.ndarray S = np.ascontiguousarray(s, np.float64).reshape(-1)
    cdef int64_t rows = a.shape[0], n = a.shape[1], r
    if M.shape[0] != rows or S.shape[0] != rows:
        raise ValueError(f"m and s must hold {rows} rows; got {M.shape[0]} and {S.shape[0]}")
    cdef cnp.ndarray y = np.empty_like(a)
    cdef fs_dtype dt = _dtype_of(a)
    cdef int64_t step = n * cnp.PyArray_ITEMSIZE(a)
    cdef const char *xp = <const char *>cnp.PyArray_DATA(a)
    cdef char *yp = <char *>cnp.PyArray_DATA(y)
    cdef const double *mp = <const double *>cnp.PyArray_DATA(M)
    cdef const double *sp = <const double *>cnp.PyArray_DATA(S)
    cdef bint lg = _flag(log_softmax, "log_softmax")
    with nogil:
        for r in range(rows):
            if lg:
                fs_log_softmax_write(dt, xp + r * step, yp + r * step, n, mp[r], log(sp[r]))
            else:
                fs_softmax_write(dt, xp + r * step, yp + r * step, n, mp[r], 1.0 / sp[r])
    return y
