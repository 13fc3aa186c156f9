# The one planner (included by _core.pyx): how an N-d problem becomes 2-D views for the
# C driver, how the work is cut into tasks, and the one parallel-for that runs them.
#
#   Layout   one axis collapse: the arrays of a call (inputs, outputs, per-row side
#            arrays such as labels or losses) seen as (outer blocks) x (rows x cols)
#            views, cols along the class / reduction axis; _walk hands any range of
#            flat rows to a family's segment function, one outer block at a time.
#   Plan     how many tasks of how many items, and on how many threads: below
#            PARALLEL_MIN elements of work (or with one thread) a single task runs
#            on the calling thread with no parallel region.
#   _run     the parallel-for (GIL released): a twin loop, serial or prange.

cdef enum:
    MAX_DIMS = 64
    MAX_ARR = 6

cdef int _num_threads = 0           # 0: follow OpenMP (OMP_NUM_THREADS, threadpoolctl)
cdef int64_t PARALLEL_MIN = 32768   # elements below which no parallel region is opened
cdef int64_t TASK_MIN = 8192        # elements a parallel task should at least hold


cdef inline int _threads() noexcept nogil:
    return _num_threads if _num_threads > 0 else fs_omp_max_threads()

# ---------------------------------------------------------------------------
# Layout: one axis collapse for every family
# ---------------------------------------------------------------------------

cdef struct Layout:
    int narr
    int64_t rows                # rows of the innermost merged batch axis
    int64_t cols                # length of the class / reduction axis
    int64_t total_rows          # rows over all outer blocks
    char *ptr[MAX_ARR]          # NULL: an absent array (all its strides 0)
    int64_t isz[MAX_ARR]
    int64_t rs[MAX_ARR]         # row strides, elements
    int64_t cs[MAX_ARR]         # class-axis strides, elements (0 for per-row arrays)
    int nouter
    int64_t outer_n[MAX_DIMS]
    int64_t outer_st[MAX_ARR][MAX_DIMS]


cdef inline void _layout_array(Layout *L, int a, cnp.ndarray arr, int nd, int axis,
                               npy_intp *xshape, npy_intp **st, bint *full, int *sh) noexcept:
    """array a of the layout: pointer, itemsize, class-axis stride, its strides by x's axes.
    Strides become element counts by a shift (itemsizes are powers of two, strides whole
    multiples of them: _usable): a 64-bit division per stride cost small calls ~50 ns."""
    sh[a] = 0
    if arr is None:
        L.ptr[a] = NULL
        L.isz[a] = 1
        L.cs[a] = 0
        st[a] = NULL
        full[a] = False
        return
    L.ptr[a] = <char *>cnp.PyArray_DATA(arr)
    L.isz[a] = cnp.PyArray_ITEMSIZE(arr)
    while (<int64_t>1 << sh[a]) < L.isz[a]:
        sh[a] += 1
    st[a] = cnp.PyArray_STRIDES(arr)
    full[a] = cnp.PyArray_NDIM(arr) == nd
    L.cs[a] = 0
    if axis >= 0 and full[a] and cnp.PyArray_DIMS(arr)[axis] == xshape[axis]:
        L.cs[a] = st[a][axis] >> sh[a]


cdef inline bint _c_array(cnp.ndarray a, cnp.ndarray x, bint full) noexcept:
    """None, or C-contiguous with x's shape (full) or x's ndim - 1 (per row)"""
    return a is None or (cnp.PyArray_IS_C_CONTIGUOUS(a) and
                         (cnp.PyArray_NDIM(a) == cnp.PyArray_NDIM(x) - 1 if not full else
                          cnp.PyArray_SAMESHAPE(a, x)))


cdef bint _layout_c_order(Layout *L, cnp.ndarray x, int axis, bint *full, cnp.ndarray a1,
                          cnp.ndarray a2, cnp.ndarray a3, cnp.ndarray a4, cnp.ndarray a5) noexcept:
    """The common case at small-call cost: every array C-contiguous and the class axis last
    (or none): one block of rows, the general collapse's result without its loops."""
    cdef int nd = cnp.PyArray_NDIM(x), a
    if (axis != nd - 1 and axis != -1) or not cnp.PyArray_IS_C_CONTIGUOUS(x):
        return False
    if not (_c_array(a1, x, full[1]) and (L.narr < 3 or _c_array(a2, x, full[2]))
            and (L.narr < 4 or _c_array(a3, x, full[3])) and (L.narr < 5 or _c_array(a4, x, full[4]))
            and (L.narr < 6 or _c_array(a5, x, full[5]))):
        return False
    L.total_rows = L.rows = cnp.PyArray_SIZE(x) // L.cols if L.cols else 1
    if L.cols == 0:                     # no classes: the rows are the other axes
        L.total_rows = L.rows = 1
        for a in range(nd):
            if a != axis:
                L.rows *= cnp.PyArray_DIMS(x)[a]
        L.total_rows = L.rows
    L.nouter = 0
    for a in range(L.narr):
        L.cs[a] = 0 if (L.ptr[a] == NULL or not full[a] or axis < 0) else 1
        L.rs[a] = 0 if (L.ptr[a] == NULL or L.rows == 1) else (L.cols if full[a] and axis >= 0 else 1)
    return True


cdef int _layout(Layout *L, int axis, bint sort, int narr, cnp.ndarray x, cnp.ndarray a1,
                 cnp.ndarray a2=None, cnp.ndarray a3=None, cnp.ndarray a4=None,
                 cnp.ndarray a5=None) except -1:
    """Collapse x's axes other than `axis` (axis -1: no class axis, cols 1; dropping those
    of length 1, merging neighbours whose strides allow it in every array) into outer
    blocks of `rows` rows.  The narr arrays x, a1, ... (None for an absent one) are
    either shaped like x (their class-axis stride is used; a length-1 class axis of a
    keepdims output counts as per-row) or like x without `axis` (per-row arrays: labels,
    losses, reductions).  sort: the batch axes go outermost-first by x's |stride| (any
    order of rows is fine: the row-wise kernels); else they stay in C order, so that
    flat row r is the C-order index of the batch shape (per-row losses summed in row
    order)."""
    cdef int nd = cnp.PyArray_NDIM(x), a, d, e, k, n = 0
    cdef npy_intp *shape = cnp.PyArray_DIMS(x)
    cdef npy_intp *st[MAX_ARR]
    cdef int64_t dn[MAX_DIMS]
    cdef int64_t dst[MAX_ARR][MAX_DIMS]
    cdef bint full[MAX_ARR]
    cdef int sh[MAX_ARR]
    L.narr = narr
    L.cols = shape[axis] if axis >= 0 else 1
    _layout_array(L, 0, x, nd, axis, shape, st, full, sh)
    _layout_array(L, 1, a1, nd, axis, shape, st, full, sh)
    if narr > 2:
        _layout_array(L, 2, a2, nd, axis, shape, st, full, sh)
    if narr > 3:
        _layout_array(L, 3, a3, nd, axis, shape, st, full, sh)
    if narr > 4:
        _layout_array(L, 4, a4, nd, axis, shape, st, full, sh)
    if narr > 5:
        _layout_array(L, 5, a5, nd, axis, shape, st, full, sh)
    if _layout_c_order(L, x, axis, full, a1, a2, a3, a4, a5):
        return 0
    for d in range(nd):
        if d == axis or shape[d] == 1:
            continue
        dn[n] = shape[d]
        for a in range(narr):
            if st[a] == NULL:
                dst[a][n] = 0
            else:
                e = d if full[a] or d < axis else d - 1
                dst[a][n] = st[a][e] >> sh[a]
        n += 1
    if sort:
        for d in range(1, n):
            k = d
            while k > 0 and abs(dst[0][k - 1]) < abs(dst[0][k]):
                dn[k - 1], dn[k] = dn[k], dn[k - 1]
                for a in range(L.narr):
                    dst[a][k - 1], dst[a][k] = dst[a][k], dst[a][k - 1]
                k -= 1
    k = 0                       # merged count
    for d in range(n):
        if k > 0:
            for a in range(L.narr):
                if dst[a][k - 1] != dn[d] * dst[a][d]:
                    break
            else:
                dn[k - 1] *= dn[d]
                for a in range(L.narr):
                    dst[a][k - 1] = dst[a][d]
                continue
        dn[k] = dn[d]
        for a in range(L.narr):
            dst[a][k] = dst[a][d]
        k += 1
    # the innermost merged axis is the rows axis of the 2-D views; the rest is outer
    L.rows = 1
    for a in range(L.narr):
        L.rs[a] = 0
    if k > 0:
        k -= 1
        L.rows = dn[k]
        for a in range(L.narr):
            L.rs[a] = dst[a][k]
    L.nouter = k
    L.total_rows = L.rows
    for d in range(k):
        L.outer_n[d] = dn[d]
        L.total_rows *= dn[d]
        for a in range(L.narr):
            L.outer_st[a][d] = dst[a][d]
    return 0


cdef inline void _row_ptrs(const Layout *L, int64_t r, char **p) noexcept nogil:
    """pointers to flat row r (outer block r // rows, row r % rows) of every array"""
    cdef int a, k
    cdef int64_t o, idx
    cdef int64_t off[MAX_ARR]
    if L.nouter == 0:               # one block: no division
        for a in range(L.narr):
            p[a] = L.ptr[a] + r * L.rs[a] * L.isz[a] if L.ptr[a] != NULL else NULL
        return
    o = r // L.rows
    r -= o * L.rows
    for a in range(L.narr):
        off[a] = r * L.rs[a]
    for k in range(L.nouter - 1, -1, -1):
        idx = o % L.outer_n[k]
        o = o // L.outer_n[k]
        for a in range(L.narr):
            off[a] += idx * L.outer_st[a][k]
    for a in range(L.narr):
        p[a] = L.ptr[a] + off[a] * L.isz[a] if L.ptr[a] != NULL else NULL


# a family's work on rows r .. r+n-1 of one outer block; p: each array at row r
ctypedef int (*segment_fn)(const void *job, int64_t r, int64_t n, char **p) noexcept nogil


cdef int _walk(const Layout *L, int64_t lo, int64_t hi, segment_fn f, const void *job) noexcept nogil:
    """f over flat rows lo .. hi-1, one outer block at a time, in row order"""
    cdef char *p[MAX_ARR]
    cdef int64_t n
    cdef int err = 0
    while lo < hi:
        n = hi - lo if L.nouter == 0 else min(hi - lo, L.rows - lo % L.rows)
        _row_ptrs(L, lo, p)
        err |= f(job, lo, n, p)
        lo += n
    return err

# ---------------------------------------------------------------------------
# Plan and the parallel-for
# ---------------------------------------------------------------------------

cdef struct Plan:
    int64_t nitems              # items (rows, chunks, classes ...) of the whole call
    int64_t per                 # items a task
    int64_t ntasks
    int nthreads                # 1: every task on the calling thread


# a task: items lo .. hi-1
ctypedef int (*task_fn)(const void *job, int64_t lo, int64_t hi) noexcept nogil


cdef void _plan(Plan *p, int64_t nitems, int64_t work, int64_t per, int64_t align,
                int64_t parallel_min) noexcept:
    """Cut nitems items of about `work` elements each into tasks.
    per > 0: tasks of exactly `per` items (fixed, whatever the threads: for results
    folded per task); per == 0: about four tasks a thread, none under TASK_MIN elements,
    a multiple of `align` items, and a single task when the call runs on one thread.
    Threads only from parallel_min elements of work and with more than one task."""
    cdef int nthreads = _threads()
    cdef bint par
    work = max(work, 1)
    par = nitems * work >= max(parallel_min, PARALLEL_MIN) and nthreads > 1
    if per <= 0:
        if par:
            per = max((nitems + 4 * nthreads - 1) // (4 * nthreads), (TASK_MIN + work - 1) // work)
            per = (per + align - 1) // align * align
        else:
            per = nitems
    p.nitems = nitems
    p.per = max(min(per, nitems), 1)
    p.ntasks = (nitems + p.per - 1) // p.per
    p.nthreads = nthreads if par and p.ntasks > 1 else 1


cdef int _run(const Plan *p, task_fn f, const void *job) noexcept nogil:
    """every task of the plan; the OR of their status codes.  A twin loop: a single
    prange(..., use_threads_if=p.nthreads > 1) still enters the OpenMP runtime for a
    one-thread region, which made sigmoid on 64x10 float32 cost 1.47 us instead of
    0.67 us (measured, gcc 12 / libgomp); the serial twin costs nothing."""
    cdef int err = 0
    cdef int64_t t
    if p.nthreads <= 1:
        for t in range(p.ntasks):
            err |= f(job, t * p.per, min(p.nitems, (t + 1) * p.per))
    else:
        for t in prange(p.ntasks, num_threads=p.nthreads, schedule="static"):
            err |= f(job, t * p.per, min(p.nitems, (t + 1) * p.per))
    return err


cdef int _raise_status(int err) except -1:
    """a C status (OR of tasks' codes) as the Python exception, or 0"""
    if err & FS_ERR_NOMEM:
        raise MemoryError("fastsmce: out of memory for a row buffer")
    if err:
        raise RuntimeError(f"fastsmce: internal error (C status {err})")
    return 0
