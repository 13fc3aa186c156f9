# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""fastsmce._core: validate, allocate, pick the kernel, release the GIL and
split the work over OpenMP threads.  The maths lives in csrc/ (fastsmce.h)."""

import operator
import os
import warnings

import numpy as np

from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from libc.math cimport log, INFINITY, NAN
from cython.parallel cimport prange

from numpy.exceptions import AxisError

cimport numpy as cnp
from numpy cimport npy_intp

cnp.import_array()

__version__ = "0.1.0"

cdef extern from "fastsmce.h" nogil:
    ctypedef enum fs_dtype:
        FS_FLOAT32
        FS_FLOAT64
    ctypedef enum fs_status:
        FS_OK
        FS_ERR_NOMEM
        FS_ERR_ARG
    ctypedef enum fs_isa:
        FS_ISA_SCALAR
        FS_ISA_AVX2
        FS_ISA_AVX512
        FS_ISA_COUNT
    fs_isa fs_init(const char *request, int *downgraded)
    fs_isa fs_active_isa()
    int fs_isa_compiled(fs_isa isa)
    int fs_isa_supported(fs_isa isa)
    const char *fs_isa_name(fs_isa isa)
    const char *fs_compiler()
    int fs_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs)
    int fs_log_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                          int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs)
    int fs_logsumexp_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                        int64_t x_cs, void *y, int64_t y_s)
    int fs_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *g, int64_t g_rs,
                               int64_t g_cs, const void *p, int64_t p_rs, int64_t p_cs, void *y,
                               int64_t y_rs, int64_t y_cs)
    int fs_log_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *g,
                                   int64_t g_rs, int64_t g_cs, const void *lp, int64_t lp_rs,
                                   int64_t lp_cs, void *y, int64_t y_rs, int64_t y_cs)
    int64_t fs_row_chunk()
    int64_t fs_long_row(fs_dtype dt)
    void fs_chunk_stats(fs_dtype dt, const void *x, int64_t n, double *m, double *s)
    void fs_stats_fold(double *M, double *S, double m, double s)
    void fs_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double scale)
    void fs_log_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double c)
    double fs_stats_logsumexp(fs_dtype dt, const void *x, int64_t n, double M, double S)
    void fs_exp(fs_dtype dt, const void *x, void *y, int64_t n)

cdef extern from "_omp.h" nogil:
    int fs_omp_enabled()
    int fs_omp_max_threads()

# ---------------------------------------------------------------------------
# dispatch: chosen once, at import
# ---------------------------------------------------------------------------

def _init_simd():
    request = os.environ.get("FASTSMCE_SIMD", "").strip().lower()
    cdef int downgraded = 0
    cdef bytes req = request.encode()
    cdef fs_isa isa = fs_init(req, &downgraded)
    name = fs_isa_name(isa).decode()
    if downgraded == 1:
        warnings.warn(f"FASTSMCE_SIMD={request!r}: this CPU or build cannot run it; "
                      f"using {name!r}", RuntimeWarning, stacklevel=3)
    elif downgraded == 2:
        warnings.warn(f"FASTSMCE_SIMD={request!r} is not one of 'scalar', 'avx2', 'avx512'; "
                      f"using {name!r}", RuntimeWarning, stacklevel=3)

_init_simd()

# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------

cdef int _num_threads = 0           # 0: follow OpenMP (OMP_NUM_THREADS, threadpoolctl)
cdef int64_t PARALLEL_MIN = 32768   # elements below which no parallel region is opened
cdef int64_t TASK_MIN = 8192        # elements a parallel task should at least hold


def set_num_threads(n):
    """Set the number of threads fastsmce uses; ``None`` restores the default
    (OpenMP's current maximum, which honours OMP_NUM_THREADS and threadpoolctl)."""
    global _num_threads
    if n is None:
        _num_threads = 0
        return
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"set_num_threads: n must be an integer or None; "
                        f"got {type(n).__name__}") from None
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    if n > 2 ** 31 - 1:
        raise ValueError(f"set_num_threads: n must be < 2**31, got {n}")
    _num_threads = n


def get_num_threads():
    """Number of threads the next call will use."""
    return _num_threads if _num_threads > 0 else fs_omp_max_threads()


cdef inline int _threads() noexcept:
    return _num_threads if _num_threads > 0 else fs_omp_max_threads()


def show_config(mode="stdout"):
    """Print (mode="stdout") or return (mode="dicts") the build and runtime
    configuration: SIMD path in use, paths compiled and supported, OpenMP,
    threads, compiler."""
    cdef int i
    info = {
        "version": __version__,
        "simd": fs_isa_name(fs_active_isa()).decode(),
        "simd_supported": [fs_isa_name(<fs_isa>i).decode() for i in range(<int>FS_ISA_COUNT)
                           if fs_isa_supported(<fs_isa>i)],
        "simd_compiled": [fs_isa_name(<fs_isa>i).decode() for i in range(<int>FS_ISA_COUNT)
                          if fs_isa_compiled(<fs_isa>i)],
        "openmp": bool(fs_omp_enabled()),
        "num_threads": get_num_threads(),
        "compiler": fs_compiler().decode(),
    }
    if mode == "dicts":
        return info
    if mode != "stdout":
        raise ValueError(f"show_config: mode must be 'stdout' or 'dicts', got {mode!r}")
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:>15}: {value}")

# ---------------------------------------------------------------------------
# argument handling (typed: a small call must cost about a microsecond)
# ---------------------------------------------------------------------------

cdef bint _usable(cnp.ndarray a) noexcept:
    """aligned and every stride a whole number of elements"""
    cdef int d
    cdef npy_intp isz = cnp.PyArray_ITEMSIZE(a)
    if not cnp.PyArray_ISALIGNED(a):
        return False
    for d in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_STRIDES(a)[d] % isz:
            return False
    return True


cdef cnp.ndarray _asarray(x, str name, dtype=None):
    """np.asarray(x[, dtype]), with an error naming the argument when NumPy cannot
    convert it (a ragged list, a string where a number is needed ...)"""
    if dtype is None and type(x) is np.ndarray:
        return x
    try:
        return np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    except TypeError as e:
        raise TypeError(f"{name} cannot be converted to an array: {e}") from None
    except ValueError as e:
        raise ValueError(f"{name} cannot be converted to an array: {e}") from None


cdef double _float_arg(value, str name) except? -1:
    """value as a float: a real number (not a string, not a sequence), else TypeError;
    an integer beyond the float range is a ValueError (not OverflowError)"""
    if not isinstance(value, (str, bytes)):
        try:
            return float(value)
        except OverflowError:
            r = repr(value)
            raise ValueError(f"{name} must be finite; got "
                             f"{r if len(r) < 40 else r[:36] + '...'}") from None
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name} must be a number; got {type(value).__name__}")


cdef bint _flag(value, str name) except -1:
    """value as a bool (an array of several values is an error, not a guess)"""
    try:
        return bool(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__}") from None


cdef cnp.ndarray _as_real(x, str name):
    """x as a native-endian, aligned float32/float64 ndarray (other real dtypes
    become float64); no copy when x already is one, whatever its strides."""
    cdef cnp.ndarray a = x if type(x) is np.ndarray else _asarray(x, name)
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE:
        if cnp.PyArray_ISBYTESWAPPED(a):
            a = a.astype(a.dtype.newbyteorder("="))
    elif a.dtype.kind in "biuf":
        a = a.astype(np.float64)
    else:
        raise TypeError(f"{name} must be a real-valued array; got dtype {a.dtype}")
    if not _usable(a):
        a = a.copy()
    return a


_REDUCTIONS = ("none", "mean", "sum")


cdef str _reduction(reduction):
    """reduction, checked: one of "none", "mean", "sum" """
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of 'none', 'mean', 'sum'; got {reduction!r}")
    return reduction


cdef cnp.ndarray _c_contig(a, dtype):
    """a as a C-contiguous, ALIGNED array of dtype, for the C core to read element by
    element (np.ascontiguousarray returns an unaligned contiguous array as it is)"""
    cdef cnp.ndarray r = np.ascontiguousarray(a, dtype=dtype)
    if not cnp.PyArray_ISALIGNED(r):
        r = r.copy()
    return r


cdef int _check_out(out, cnp.ndarray like, int ndim, npy_intp *shape, str name) except -1:
    """out must be a writeable ndarray of like's dtype and the given shape"""
    cdef cnp.ndarray o
    cdef int d
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray; got {type(out).__name__}")
    o = out
    if o.dtype != like.dtype:
        raise TypeError(f"{name} has dtype {o.dtype}; expected {like.dtype}")
    cdef bint same = cnp.PyArray_NDIM(o) == ndim
    for d in range(ndim):
        same = same and cnp.PyArray_DIMS(o)[d] == shape[d]
    if not same:
        expected = tuple([shape[d] for d in range(ndim)])
        raise ValueError(f"{name} has shape {(<object>o).shape}; expected {expected}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError(f"{name} is read-only")
    return 0


cdef int _axis(axis, int ndim) except -1:
    try:
        ax = operator.index(axis)       # a Python int: any size compares (no OverflowError)
    except TypeError:
        raise TypeError(f"axis must be an integer; got {type(axis).__name__}") from None
    if ax < -ndim or ax >= ndim:
        raise AxisError(ax, ndim)
    return ax + ndim if ax < 0 else ax


cdef cnp.ndarray _unalias(cnp.ndarray a, cnp.ndarray y):
    """a, copied if it overlaps the output y other than exactly (in place)"""
    cdef int d
    if np.may_share_memory(a, y):
        if (cnp.PyArray_DATA(a) != cnp.PyArray_DATA(y) or cnp.PyArray_NDIM(a) != cnp.PyArray_NDIM(y)
                or (<object>a).strides != (<object>y).strides
                or (<object>a).shape != (<object>y).shape):
            return a.copy()
    return a

# ---------------------------------------------------------------------------
# the job: an N-d problem as (outer index) x (rows x cols) 2-D views
# ---------------------------------------------------------------------------

cdef enum:
    MAX_DIMS = 64

cdef enum:
    OP_SOFTMAX = 0
    OP_LOG_SOFTMAX = 1
    OP_LOGSUMEXP = 2
    OP_SOFTMAX_BWD = 3
    OP_LOG_SOFTMAX_BWD = 4

cdef struct Job:
    int op
    fs_dtype dt
    int narr                    # arrays: x, y  or  g, p, y  (y last)
    int64_t itemsize
    int64_t rows, cols, rows_per_task, nrb, outer_count
    char *ptr[3]
    int64_t rs[3]               # row strides, elements
    int64_t cs[3]               # column (reduction axis) strides, elements
    int nouter
    int64_t outer_n[MAX_DIMS]
    int64_t outer_st[3][MAX_DIMS]


cdef int _call(const Job *j, int64_t nr, char **p) noexcept nogil:
    if j.op == OP_SOFTMAX:
        return fs_softmax_2d(j.dt, nr, j.cols, p[0], j.rs[0], j.cs[0], p[1], j.rs[1], j.cs[1])
    if j.op == OP_LOG_SOFTMAX:
        return fs_log_softmax_2d(j.dt, nr, j.cols, p[0], j.rs[0], j.cs[0], p[1], j.rs[1], j.cs[1])
    if j.op == OP_LOGSUMEXP:
        return fs_logsumexp_2d(j.dt, nr, j.cols, p[0], j.rs[0], j.cs[0], p[1], j.rs[1])
    if j.op == OP_SOFTMAX_BWD:
        return fs_softmax_backward_2d(j.dt, nr, j.cols, p[0], j.rs[0], j.cs[0], p[1], j.rs[1],
                                      j.cs[1], p[2], j.rs[2], j.cs[2])
    return fs_log_softmax_backward_2d(j.dt, nr, j.cols, p[0], j.rs[0], j.cs[0], p[1], j.rs[1],
                                      j.cs[1], p[2], j.rs[2], j.cs[2])


cdef void _row_ptrs(const Job *j, int64_t o, int64_t r0, char **p) noexcept nogil:
    """pointers to row r0 of outer block o, for every array"""
    cdef int a, k
    cdef int64_t idx
    for a in range(j.narr):
        p[a] = j.ptr[a] + r0 * j.rs[a] * j.itemsize
    for k in range(j.nouter - 1, -1, -1):
        idx = o % j.outer_n[k]
        o = o // j.outer_n[k]
        for a in range(j.narr):
            p[a] += idx * j.outer_st[a][k] * j.itemsize


cdef int _run_task(const Job *j, int64_t t) noexcept nogil:
    cdef char *p[3]
    cdef int64_t o = t // j.nrb
    cdef int64_t r0 = (t - o * j.nrb) * j.rows_per_task
    _row_ptrs(j, o, r0, p)
    return _call(j, min(j.rows_per_task, j.rows - r0), p)


cdef int _run_split_rows(Job *j, int nthreads) noexcept nogil:
    """Rows fewer than threads, each long and contiguous: the chunks of every row
    go to all threads (statistics, fold in chunk order, write), bit-identical to
    the one-thread kernels, which use the same chunks and fold."""
    cdef int64_t nrow = j.outer_count * j.rows
    cdef int64_t ch = fs_row_chunk()
    cdef int64_t nch = (j.cols + ch - 1) // ch
    cdef int64_t ntask = nrow * nch, t, r, c, n, off
    cdef char **xp = <char **>malloc(2 * nrow * sizeof(char *))
    cdef double *st = <double *>malloc((2 * ntask + 2 * nrow) * sizeof(double))
    cdef double *M
    cdef double *S
    cdef double v
    cdef char *p[3]
    if xp == NULL or st == NULL:
        free(xp)
        free(st)
        return 1
    M = st + 2 * ntask
    S = M + nrow
    for r in range(nrow):
        _row_ptrs(j, r // j.rows, r % j.rows, p)
        xp[2 * r] = p[0]
        xp[2 * r + 1] = p[1]
    for t in prange(ntask, num_threads=nthreads, schedule="static"):
        c = t % nch
        off = c * ch * j.itemsize
        fs_chunk_stats(j.dt, xp[2 * (t // nch)] + off, min(ch, j.cols - c * ch), &st[2 * t], &st[2 * t + 1])
    for r in range(nrow):
        M[r] = -INFINITY
        S[r] = 0
        for c in range(nch):
            fs_stats_fold(&M[r], &S[r], st[2 * (r * nch + c)], st[2 * (r * nch + c) + 1])
    if j.op == OP_LOGSUMEXP:
        for r in range(nrow):
            v = fs_stats_logsumexp(j.dt, xp[2 * r], j.cols, M[r], S[r])
            if j.dt == FS_FLOAT32:
                (<float *>xp[2 * r + 1])[0] = <float>v
            else:
                (<double *>xp[2 * r + 1])[0] = v
    else:
        for t in prange(ntask, num_threads=nthreads, schedule="static"):
            r = t // nch
            c = t % nch
            off = c * ch * j.itemsize
            n = min(ch, j.cols - c * ch)
            if j.op == OP_SOFTMAX:
                fs_softmax_write(j.dt, xp[2 * r] + off, xp[2 * r + 1] + off, n, M[r], 1.0 / S[r])
            else:
                fs_log_softmax_write(j.dt, xp[2 * r] + off, xp[2 * r + 1] + off, n, M[r], log(S[r]))
    free(xp)
    free(st)
    return 0


cdef int _run(Job *j) except -1:
    cdef int nthreads = _threads()
    cdef int64_t total = j.outer_count * j.rows * j.cols
    cdef int64_t ntasks, t, per
    cdef int err = 0
    if total < PARALLEL_MIN or nthreads <= 1:
        j.rows_per_task = j.rows
    else:
        if (j.op <= OP_LOGSUMEXP and j.outer_count * j.rows < nthreads and j.cs[0] == 1
                and (j.op == OP_LOGSUMEXP or j.cs[1] == 1)
                and j.cols > max(fs_long_row(j.dt), fs_row_chunk())):
            with nogil:
                err = _run_split_rows(j, nthreads)
            if err:
                raise MemoryError("fastsmce: out of memory for the row statistics")
            return 0
        # about 4 tasks a thread, none under TASK_MIN elements
        per = (j.outer_count * j.rows + 4 * nthreads - 1) // (4 * nthreads)
        per = max(per, (TASK_MIN + j.cols - 1) // max(j.cols, 1))
        if j.cs[0] != 1 and j.rs[0] == 1:
            per = (per + 15) // 16 * 16     # column kernels: whole vectors of columns
        j.rows_per_task = min(per, j.rows)
    j.nrb = (j.rows + j.rows_per_task - 1) // j.rows_per_task
    ntasks = j.outer_count * j.nrb
    with nogil:
        if ntasks == 1 or nthreads <= 1 or total < PARALLEL_MIN:
            for t in range(ntasks):
                err = err | _run_task(j, t)
        else:
            for t in prange(ntasks, num_threads=nthreads, schedule="static"):
                err |= _run_task(j, t)
    if err:
        raise MemoryError("fastsmce: out of memory for a row buffer")
    return 0


cdef int _plan_and_run(int op, int axis, cnp.ndarray x0, cnp.ndarray x1, cnp.ndarray x2) except -1:
    """Fill a Job for inputs x0 (and x1) of x0's shape reduced along `axis` and
    run it; the last array given is the output.  For logsumexp the output (x1)
    has x0's shape without `axis`, or with it kept as 1 (keepdims)."""
    cdef Job j
    cdef npy_intp *strides[3]
    cdef int a, d, e, k, n, narr = 2 if x2 is None else 3
    cdef int ndim = cnp.PyArray_NDIM(x0)
    cdef npy_intp *shape = cnp.PyArray_DIMS(x0)
    cdef int64_t isz = cnp.PyArray_ITEMSIZE(x0), tmp
    cdef int64_t dn[MAX_DIMS]
    cdef int64_t dst[3][MAX_DIMS]
    cdef int nd1 = cnp.PyArray_NDIM(x1)
    strides[0] = cnp.PyArray_STRIDES(x0)
    strides[1] = cnp.PyArray_STRIDES(x1)
    strides[2] = cnp.PyArray_STRIDES(x2) if x2 is not None else NULL
    j.op = op
    j.dt = FS_FLOAT32 if isz == 4 else FS_FLOAT64
    j.narr = narr
    j.itemsize = isz
    j.cols = shape[axis]
    # the axes other than `axis` and of length > 1, with each array's strides
    n = 0
    for d in range(ndim):
        if d == axis or shape[d] == 1:
            continue
        dn[n] = shape[d]
        for a in range(narr):
            e = d
            if op == OP_LOGSUMEXP and a == 1 and nd1 < ndim and d > axis:
                e = d - 1
            dst[a][n] = strides[a][e] // isz
        n += 1
    j.ptr[0] = <char *>cnp.PyArray_DATA(x0)
    j.ptr[1] = <char *>cnp.PyArray_DATA(x1)
    if x2 is not None:
        j.ptr[2] = <char *>cnp.PyArray_DATA(x2)
    for a in range(narr):
        j.cs[a] = 0 if op == OP_LOGSUMEXP and a == 1 else strides[a][axis] // isz
    # outermost first (by |stride| of the first input), then merge what the strides allow
    for d in range(1, n):
        k = d
        while k > 0 and abs(dst[0][k - 1]) < abs(dst[0][k]):
            dn[k - 1], dn[k] = dn[k], dn[k - 1]
            for a in range(narr):
                dst[a][k - 1], dst[a][k] = dst[a][k], dst[a][k - 1]
            k -= 1
    k = 0                       # merged count
    for d in range(n):
        if k > 0:
            for a in range(narr):
                if dst[a][k - 1] != dn[d] * dst[a][d]:
                    break
            else:
                dn[k - 1] *= dn[d]
                for a in range(narr):
                    dst[a][k - 1] = dst[a][d]
                continue
        dn[k] = dn[d]
        for a in range(narr):
            dst[a][k] = dst[a][d]
        k += 1
    # the innermost merged axis is the rows axis of the 2-D views; the rest is outer
    j.rows = 1
    for a in range(narr):
        j.rs[a] = 0
    if k > 0:
        k -= 1
        j.rows = dn[k]
        for a in range(narr):
            j.rs[a] = dst[a][k]
    j.nouter = k
    j.outer_count = 1
    for d in range(k):
        j.outer_n[d] = dn[d]
        j.outer_count *= dn[d]
        for a in range(narr):
            j.outer_st[a][d] = dst[a][d]
    return _run(&j)


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------

cdef cnp.ndarray _target(out, cnp.ndarray like, int ndim, npy_intp *shape, bint like_shape):
    """the array the kernels write: out itself when usable, else a new one
    (of like's memory layout when like_shape, else C-ordered)"""
    if out is not None:
        _check_out(out, like, ndim, shape, "out")
        if _usable(out):
            return out
    if like_shape:
        return np.empty_like(like)
    return cnp.PyArray_EMPTY(ndim, shape, cnp.PyArray_TYPE(like), 0)


cdef object _finish(out, cnp.ndarray y):
    if out is not None and y is not out:
        out[...] = y
        return out
    return y


cdef object _softmax_like(int op, x, axis, out):
    cdef cnp.ndarray a = _as_real(x, "x")
    cdef int ax = _axis(axis, cnp.PyArray_NDIM(a))
    cdef cnp.ndarray y = _target(out, a, cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), True)
    if out is not None:
        a = _unalias(a, y)
    if cnp.PyArray_SIZE(a):
        _plan_and_run(op, ax, a, y, None)
    return _finish(out, y)


def softmax(x, axis=-1, *, out=None):
    """Stable softmax exp(x - max) / sum(exp(x - max)) along `axis`."""
    return _softmax_like(OP_SOFTMAX, x, axis, out)


def log_softmax(x, axis=-1, *, out=None):
    """Stable log-softmax (x - max) - log(sum(exp(x - max))) along `axis`."""
    return _softmax_like(OP_LOG_SOFTMAX, x, axis, out)


def logsumexp(x, axis=-1, *, keepdims=False, out=None):
    """log(sum(exp(x))) along `axis`, computed stably; -inf over an empty axis."""
    cdef cnp.ndarray a = _as_real(x, "x")
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
            _plan_and_run(OP_LOGSUMEXP, ax, a, y, None)
    res = _finish(out, y)
    if out is None and k == 0:
        return res[()]
    return res


cdef object _backward(int op, grad, other, str other_name, axis, out):
    cdef cnp.ndarray g = _as_real(grad, "grad")
    cdef cnp.ndarray p = _as_real(other, other_name)
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
        _plan_and_run(op, ax, g, p, y)
    return _finish(out, y)


def softmax_backward(grad, probs, axis=-1, *, out=None):
    """Vector-Jacobian product of softmax: probs * (grad - sum(grad * probs))."""
    return _backward(OP_SOFTMAX_BWD, grad, probs, "probs", axis, out)


def log_softmax_backward(grad, log_probs, axis=-1, *, out=None):
    """Vector-Jacobian product of log_softmax: grad - exp(log_probs) * sum(grad)."""
    return _backward(OP_LOG_SOFTMAX_BWD, grad, log_probs, "log_probs", axis, out)

# ---------------------------------------------------------------------------
# the other families: each binds its C entry points (csrc/fastsmce_<fam>.h)
# ---------------------------------------------------------------------------

include "_xent.pxi"
include "_sigmoid.pxi"
include "_sampling.pxi"

# ---------------------------------------------------------------------------
# test and benchmark hooks
# ---------------------------------------------------------------------------

def _exp(x):
    """The kernels' vectorised exp applied to a 1-D float32/float64 array (tests)."""
    cdef cnp.ndarray a = np.ascontiguousarray(_as_real(x, "x")).ravel()
    cdef cnp.ndarray y = np.empty_like(a)
    cdef char *src = <char *>cnp.PyArray_DATA(a)
    cdef char *dst = <char *>cnp.PyArray_DATA(y)
    cdef int64_t n = a.size
    cdef fs_dtype dt = FS_FLOAT32 if a.itemsize == 4 else FS_FLOAT64
    with nogil:
        fs_exp(dt, src, dst, n)
    return y


def _copy(cnp.ndarray src, cnp.ndarray dst):
    """Plain parallel copy of a contiguous array into another of the same size,
    with fastsmce's threads: the roofline reference of the benchmark."""
    if not (src.flags.c_contiguous and dst.flags.c_contiguous) or src.nbytes != dst.nbytes:
        raise ValueError("_copy needs contiguous arrays of equal size")
    cdef char *s = <char *>cnp.PyArray_DATA(src)
    cdef char *d = <char *>cnp.PyArray_DATA(dst)
    cdef int64_t nbytes = src.nbytes, block = 1 << 20, t, nt = (nbytes + block - 1) // block
    cdef int nthreads = _threads()
    with nogil:
        if nthreads <= 1 or nbytes < 4 * PARALLEL_MIN:
            memcpy(d, s, nbytes)
        else:
            for t in prange(nt, num_threads=nthreads, schedule="static"):
                memcpy(d + t * block, s + t * block, min(block, nbytes - t * block))
    return dst
