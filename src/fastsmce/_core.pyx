# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""fastsmce._core: validate, plan, run and reduce; the maths lives in csrc/.

Layout of the Cython layer (one extension module, one translation unit):
  _capi.pxd      every C declaration of csrc/fastsmce*.h, once
  _args.pxi      argument coercion and checks shared by every family
  _plan.pxi      the one axis collapse (Layout), planner (Plan) and parallel-for (_run)
  _softmax.pxi   softmax, log_softmax, logsumexp and their backward passes
  _xent.pxi      cross-entropy (+ gradient)
  _sigmoid.pxi   sigmoid, log_sigmoid, BCE with logits, focal loss
  _sampling.pxi  candidate samplers, sampled softmax and NCE
  _blas.pxi      the matrix products (SciPy's BLAS)
  _linear.pxi    fused linear + cross-entropy
Each public function reads validate -> plan -> run -> reduce."""

import operator
import os
import warnings

import numpy as np
from numpy.exceptions import AxisError

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memcpy, memset
from libc.math cimport exp, log, fabs, INFINITY, NAN
from cython.parallel cimport prange

cimport numpy as cnp
from numpy cimport npy_intp

from fastsmce._capi cimport *
from fastsmce._version import __version__

cnp.import_array()

include "_args.pxi"
include "_plan.pxi"

# ---------------------------------------------------------------------------
# dispatch (chosen once, at import) and configuration
# ---------------------------------------------------------------------------

cdef list _isa_names():
    """every instruction set of the C table (csrc), in preference order"""
    return [fs_isa_name(<fs_isa>i).decode() for i in range(<int>FS_ISA_COUNT)]


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
        known = ", ".join(repr(n) for n in _isa_names())
        warnings.warn(f"FASTSMCE_SIMD={request!r} is not one of {known}; "
                      f"using {name!r}", RuntimeWarning, stacklevel=3)

_init_simd()

if fs_omp_missing():
    warnings.warn("fastsmce was built WITHOUT OpenMP (the compiler could not build an OpenMP "
                  "program): it runs single-threaded.  Rebuild with an OpenMP-capable compiler "
                  "(on macOS: brew install libomp), or build with FASTSMCE_NO_OPENMP=1 to "
                  "silence this.", RuntimeWarning, stacklevel=2)


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
    return _threads()


def threading_layer():
    """``"openmp"``, or ``"single-threaded build"`` when the module was built without
    OpenMP (then every call runs on the calling thread)."""
    return fs_threading_layer().decode()


def show_config(mode="stdout"):
    """Print (mode="stdout") or return (mode="dicts") the build and runtime
    configuration: SIMD path in use, paths known / compiled / supported (preference
    order), threading layer, threads, compiler."""
    cdef int i
    info = {
        "version": __version__,
        "simd": fs_isa_name(fs_active_isa()).decode(),
        "simd_supported": [fs_isa_name(<fs_isa>i).decode() for i in range(<int>FS_ISA_COUNT)
                           if fs_isa_supported(<fs_isa>i)],
        "simd_compiled": [fs_isa_name(<fs_isa>i).decode() for i in range(<int>FS_ISA_COUNT)
                          if fs_isa_compiled(<fs_isa>i)],
        "simd_known": _isa_names(),
        "openmp": bool(fs_omp_enabled()),
        "threading_layer": threading_layer(),
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
# the families: each validates, plans, runs and reduces through the shared pieces
# ---------------------------------------------------------------------------

include "_blas.pxi"
include "_softmax.pxi"
include "_xent.pxi"
include "_sigmoid.pxi"
include "_sampling.pxi"
include "_linear.pxi"

# ---------------------------------------------------------------------------
# test and benchmark hooks
# ---------------------------------------------------------------------------

def _exp(x):
    """The kernels' vectorised exp applied to a 1-D float32/float64 array (tests)."""
    cdef cnp.ndarray a = _real(x, "x", None, True).ravel()
    cdef cnp.ndarray y = np.empty_like(a)
    cdef char *src = <char *>cnp.PyArray_DATA(a)
    cdef char *dst = <char *>cnp.PyArray_DATA(y)
    cdef int64_t n = a.size
    cdef fs_dtype dt = _dtype_of(a)
    with nogil:
        fs_exp(dt, src, dst, n)
    return y


cdef struct CopyJob:
    char *dst
    const char *src
    int64_t nbytes, block


cdef int _copy_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const CopyJob *j = <const CopyJob *>job
    cdef int64_t end = min(hi * j.block, j.nbytes)
    memcpy(j.dst + lo * j.block, j.src + lo * j.block, end - lo * j.block)
    return 0


def _copy(cnp.ndarray src, cnp.ndarray dst):
    """Plain parallel copy of a contiguous array into another of the same size,
    with fastsmce's threads and planner: the roofline reference of the benchmark."""
    if not (src.flags.c_contiguous and dst.flags.c_contiguous) or src.nbytes != dst.nbytes:
        raise ValueError("_copy needs contiguous arrays of equal size")
    cdef CopyJob j
    cdef Plan p
    j.dst = <char *>cnp.PyArray_DATA(dst)
    j.src = <const char *>cnp.PyArray_DATA(src)
    j.nbytes = src.nbytes
    j.block = 1 << 20
    _plan(&p, (j.nbytes + j.block - 1) // j.block, j.block, 1, 1, 4 * PARALLEL_MIN)
    with nogil:
        _run(&p, _copy_task, &j)
    return dst


cdef struct ReadJob:
    const uint64_t *src
    int64_t nwords, block
    uint64_t *sink              # one word a task (keeps the reads alive)


cdef int _read_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const ReadJob *j = <const ReadJob *>job
    cdef int64_t i, end = min(hi * j.block, j.nwords)
    cdef uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0
    i = lo * j.block
    while i + 4 <= end:         # integer xor: associative, so the compiler vectorises it
        a0 ^= j.src[i]
        a1 ^= j.src[i + 1]
        a2 ^= j.src[i + 2]
        a3 ^= j.src[i + 3]
        i += 4
    while i < end:
        a0 ^= j.src[i]
        i += 1
    j.sink[lo] = a0 ^ a1 ^ a2 ^ a3
    return 0


def _read(cnp.ndarray src):
    """Plain parallel read of a contiguous array (an xor of its 8-byte words), with
    fastsmce's threads and planner: the read-bandwidth reference of the benchmark's
    reductions.  Returns the xor (its value means nothing)."""
    if not src.flags.c_contiguous or src.nbytes % 8:
        raise ValueError("_read needs a contiguous array of whole 8-byte words")
    cdef ReadJob j
    cdef Plan p
    cdef int64_t t, ntasks
    cdef uint64_t x = 0
    j.src = <const uint64_t *>cnp.PyArray_DATA(src)
    j.nwords = src.nbytes // 8
    j.block = 1 << 17
    ntasks = (j.nwords + j.block - 1) // j.block
    _plan(&p, ntasks, j.block, 1, 1, 4 * PARALLEL_MIN)
    j.sink = <uint64_t *>calloc(max(ntasks, <int64_t>1), sizeof(uint64_t))
    if j.sink == NULL:
        raise MemoryError()
    with nogil:
        _run(&p, _read_task, &j)
    for t in range(ntasks):
        x ^= j.sink[t]
    free(j.sink)
    return x


# ---------------------------------------------------------------------------
# fastsmce.special: which rows of a kernel's output SciPy defines otherwise
# ---------------------------------------------------------------------------

cdef enum:
    FLAG_CHUNK = 16384          # elements one item checks at most: a long row is several items


cdef struct FlagJob:
    const char *src
    int64_t cols, nchunks       # row length; items a row (chunks of FLAG_CHUNK elements)
    fs_dtype dt
    bint nan
    uint8_t *flags              # one an item: row r's chunks are r * nchunks ...


cdef int _flag_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const FlagJob *j = <const FlagJob *>job
    cdef int64_t item, r, c
    cdef size_t isz = 8 if j.dt == FS_FLOAT64 else 4
    for item in range(lo, hi):
        r = item // j.nchunks
        c = item - r * j.nchunks
        j.flags[item] = fs_flag_values(j.dt, j.src + (r * j.cols + c * FLAG_CHUNK) * isz,
                                       min(<int64_t>FLAG_CHUNK, j.cols - c * FLAG_CHUNK), j.nan)
    return 0


def _rows_flag(cnp.ndarray out, kind):
    """Per row of a C-contiguous 2-D float32 / float64 array (native byte order), whether it
    holds a value that is not > 0 (kind "not_positive": a 0 or a NaN, the softmax rows that
    fastsmce.special hands to SciPy) or a NaN (kind "nan": log_softmax's).  One parallel
    pass with fastsmce's threads and planner; returns a bool array of out.shape[0]."""
    if kind not in ("not_positive", "nan"):
        raise ValueError(f"_rows_flag: kind must be 'not_positive' or 'nan', got {kind!r}")
    if not (cnp.PyArray_NDIM(out) == 2 and cnp.PyArray_IS_C_CONTIGUOUS(out)
            and cnp.PyArray_ISNOTSWAPPED(out)
            and cnp.PyArray_TYPE(out) in (cnp.NPY_FLOAT, cnp.NPY_DOUBLE)):
        raise ValueError("_rows_flag needs a C-contiguous 2-D float32 / float64 array")
    cdef FlagJob j
    cdef Plan p
    cdef int64_t rows = cnp.PyArray_DIMS(out)[0]
    j.src = <const char *>cnp.PyArray_DATA(out)
    j.cols = cnp.PyArray_DIMS(out)[1]
    j.nchunks = max((j.cols + FLAG_CHUNK - 1) // FLAG_CHUNK, <int64_t>1)
    j.dt = FS_FLOAT64 if cnp.PyArray_TYPE(out) == cnp.NPY_DOUBLE else FS_FLOAT32
    j.nan = kind == "nan"
    cdef cnp.ndarray flags = np.zeros(rows * j.nchunks, dtype=np.uint8)
    j.flags = <uint8_t *>cnp.PyArray_DATA(flags)
    if j.cols:
        _plan(&p, rows * j.nchunks, min(j.cols, <int64_t>FLAG_CHUNK), 0, 1, 4 * PARALLEL_MIN)
        with nogil:
            _run(&p, _flag_task, &j)
    flags = flags.view(np.bool_)
    return flags if j.nchunks == 1 else flags.reshape(rows, j.nchunks).any(axis=1)
