# Matrix products (included by _core.pyx): SciPy's BLAS, found at run time through
# scipy.linalg.cython_blas (fastsmce links no BLAS); called with the GIL released.

from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_GetName

ctypedef void (*sgemm_t)(char *, char *, int *, int *, int *, float *, float *, int *, float *,
                         int *, float *, float *, int *) noexcept nogil
ctypedef void (*dgemm_t)(char *, char *, int *, int *, int *, double *, double *, int *, double *,
                         int *, double *, double *, int *) noexcept nogil
cdef sgemm_t _sgemm = NULL
cdef dgemm_t _dgemm = NULL


cdef int _load_blas() except -1:
    global _sgemm, _dgemm
    if _sgemm != NULL:
        return 0
    try:
        from scipy.linalg import cython_blas
    except ImportError:
        raise ImportError("fastsmce's sampled softmax, NCE and linear cross-entropy use "
                          "SciPy's BLAS: "
                          "install scipy (pip install scipy)") from None
    caps = cython_blas.__pyx_capi__
    _dgemm = <dgemm_t>PyCapsule_GetPointer(caps["dgemm"], PyCapsule_GetName(caps["dgemm"]))
    _sgemm = <sgemm_t>PyCapsule_GetPointer(caps["sgemm"], PyCapsule_GetName(caps["sgemm"]))
    return 0


cdef void _gemm_acc(fs_dtype dt, char ta, char tb, int m, int n, int k, const void *a, int lda,
                    const void *b, int ldb, void *c, int ldc, bint accumulate) noexcept nogil:
    """column-major C (m x n) = op(A) op(B), or C += op(A) op(B) when accumulate"""
    cdef float f1 = 1, fb = 1 if accumulate else 0
    cdef double d1 = 1, db = 1 if accumulate else 0
    if m == 0 or n == 0:
        return
    cdef int j
    cdef size_t isz = 4 if dt == FS_FLOAT32 else 8
    if k == 0:
        if not accumulate:
            for j in range(n):
                memset(<char *>c + <size_t>j * ldc * isz, 0, <size_t>m * isz)
    elif dt == FS_FLOAT32:
        _sgemm(&ta, &tb, &m, &n, &k, &f1, <float *>a, &lda, <float *>b, &ldb, &fb, <float *>c, &ldc)
    else:
        _dgemm(&ta, &tb, &m, &n, &k, &d1, <double *>a, &lda, <double *>b, &ldb, &db, <double *>c, &ldc)


cdef inline void _gemm(fs_dtype dt, char ta, char tb, int m, int n, int k, const void *a, int lda,
                       const void *b, int ldb, void *c, int ldc) noexcept nogil:
    """column-major C (m x n) = op(A) op(B); C = 0 when k == 0"""
    _gemm_acc(dt, ta, tb, m, n, k, a, lda, b, ldb, c, ldc, False)
