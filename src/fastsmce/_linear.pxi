# Fused linear + cross-entropy (included by _core.pyx): the loss of
# cross_entropy(input @ linear_weight.T + linear_bias, target) and its gradients without
# the N x V logits.  validate -> plan -> run -> reduce.
#
# The batch goes in chunks of rows; a chunk's logits (rows x V, at most _LIN_BUDGET bytes)
# come from BLAS, the cross-entropy kernel turns them in place into d loss / d logits
# (with softcap and z-loss), and two more products add the chunk's share of the
# gradients: d input = G @ W (written once), d W += G^T @ X_chunk, d bias += G^T 1.  Three
# products in all, as the unfused floor; the logits never reach memory beyond one chunk.
# The other order (blocks of classes outermost) needs each row's logsumexp before any
# gradient, so a second sweep that recomputes the logits: four products (measured in the
# closing note of issue 14).  Chunks depend on V and the dtype only, never on threads.

LinearGrads = collections.namedtuple("LinearGrads", ["input", "linear_weight", "linear_bias"])
LinearGrads.__doc__ = """Gradients of a linear cross-entropy loss: d loss / d input (the input's
shape), d loss / d linear_weight (V, D), d loss / d linear_bias (V,) or None."""

# Bytes of logits a chunk: each chunk streams W (twice) and d W (read + write) through
# memory, so larger chunks are faster (N=2048 D=512 V=32000 float32, 2 threads: 1.25x the
# floor of three products at 32 MiB, 1.16x at 48, 1.13x at 64, 1.08x at 128; V=128256:
# 1.73x at 32 MiB, 1.09x with all 1024 rows in one chunk).  40 MiB keeps the peak RSS growth
# within the gradients' size + 64 MiB (measured: + 49 MiB at 32, + 60 MiB at 40, + 72 MiB at
# 48, the rest being BLAS's packing buffers), N=2048 D=256 V=131072.
cdef int64_t _LIN_BUDGET = 40 << 20


def _set_linear_budget(n):
    """bytes of logits a chunk may hold; returns the old value (tests, benchmarks)"""
    global _LIN_BUDGET
    old = _LIN_BUDGET
    _LIN_BUDGET = max(1, int(n))
    return old


cdef struct LinJob:
    fs_dtype dt
    fs_xent_args base           # options; pointers set per task
    char *z                     # the chunk's logits (rows x V, contiguous)
    int64_t V, isz
    const int64_t *labels       # the chunk's
    double *loss
    double *lse


cdef int _lin_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const LinJob *j = <const LinJob *>job
    cdef fs_xent_args a = j.base
    a.rows = hi - lo
    a.x = j.z + lo * j.V * j.isz
    if a.grad != NULL:
        a.grad = j.z + lo * j.V * j.isz
    a.label = j.labels + lo
    a.loss = j.loss + lo
    a.lse = j.lse + lo if j.lse != NULL else NULL
    return fs_cross_entropy_2d(j.dt, &a)


cdef class _LinearStep:
    """One call of linear_cross_entropy(_with_grad), step by step."""
    cdef cnp.ndarray X, W, b, lab, w, losses, lse
    cdef object dtype, in_shape, batch_shape
    cdef fs_dtype dt
    cdef int64_t N, D, V, isz, ign, count
    cdef double eps, zl, cap, denom

    cdef int validate(self, input, linear_weight, target, linear_bias, weight, ignore_index,
                      label_smoothing, z_loss, softcap) except -1:
        cdef cnp.ndarray X = _real(input, "input")
        cdef cnp.ndarray W = _real(linear_weight, "linear_weight")
        cdef cnp.ndarray b = _real(linear_bias, "linear_bias") if linear_bias is not None else None
        if X.ndim < 1:
            raise ValueError("input must have at least one dimension (the features)")
        if W.ndim != 2 or W.shape[1] != X.shape[X.ndim - 1]:
            raise ValueError(f"linear_weight has shape {(<object>W).shape}; expected (classes, "
                             f"{X.shape[X.ndim - 1]}), the input's last dimension")
        self.V, self.D = W.shape[0], W.shape[1]
        if self.V < 1:
            raise ValueError("linear_weight must have at least one row (class)")
        if b is not None and (<object>b).shape != (self.V,):
            raise ValueError(f"linear_bias has shape {(<object>b).shape}; expected ({self.V},)")
        self.dtype = np.result_type(X.dtype, W.dtype, *((b.dtype,) if b is not None else ()))
        self.in_shape = (<object>X).shape
        self.batch_shape = self.in_shape[:X.ndim - 1]
        self.N = int(np.prod(self.batch_shape))
        self.X = _c_contig(X.reshape(self.N, self.D), self.dtype)
        self.W = _c_contig(W, self.dtype)
        self.b = _c_contig(b, self.dtype) if b is not None else None
        self.dt = _dtype_of(self.W)
        self.isz = cnp.PyArray_ITEMSIZE(self.W)
        if max(self.N, self.D, self.V) >= 2 ** 31:
            raise ValueError("linear_cross_entropy: batch, features and classes must be < 2**31 (BLAS)")
        # options
        self.eps = _smoothing(label_smoothing)
        self.zl = _float_arg(z_loss, "z_loss")
        if not (0.0 <= self.zl < INFINITY):
            raise ValueError(f"z_loss must be finite and >= 0; got {z_loss!r}")
        self.cap = 0.0
        if softcap is not None:
            self.cap = _float_arg(softcap, "softcap")
            if not (0.0 < self.cap < INFINITY):
                raise ValueError(f"softcap must be None or finite and > 0; got {softcap!r}")
        self.ign = _ignore_index(ignore_index)
        # targets: class indices only, the input's shape without the features
        cdef cnp.ndarray t = _asarray(target, "target")
        if t.dtype.kind not in "iu":
            raise TypeError(f"target must hold integer class indices (dtype {t.dtype}): class "
                            f"probabilities would be a batch x classes array, which this fused "
                            f"loss exists to avoid; use cross_entropy on the logits for them")
        if (<object>t).shape != self.batch_shape:
            raise ValueError(f"target has shape {(<object>t).shape}; expected {self.batch_shape}, "
                             f"the input's shape without its last dimension")
        self.lab = _class_indices(t).reshape(self.N)
        self.w = _xent_weight(weight, self.W, self.V)
        self.denom = _xent_denominator(self.lab, self.w, self.N, self.V, self.ign, ignore_index)
        self.count = self.N - _xent_count(<const int64_t *>cnp.PyArray_DATA(self.lab), self.N, self.ign)
        return 0

    cdef tuple run(self, str reduction, bint want_grad):
        """(d input, d weight, d bias) or Nones; fills self.losses (and self.lse)"""
        cdef int64_t N = self.N, D = self.D, V = self.V, isz = self.isz
        cdef int64_t rows = max(<int64_t>1, min(N, _LIN_BUDGET // (V * isz)))
        cdef int64_t c0, nc
        cdef int err = 0
        cdef int Di = D, Vi = V, nci
        cdef LinJob j
        cdef Plan p
        cdef bint mean = reduction == "mean"
        cdef cnp.ndarray Z = np.empty((rows, V), dtype=self.dtype) if N else None
        cdef cnp.ndarray ones = np.ones(rows, dtype=self.dtype)
        cdef cnp.ndarray dX = None, dW = None, db = None
        cdef char *xp = <char *>cnp.PyArray_DATA(self.X)
        cdef char *wp = <char *>cnp.PyArray_DATA(self.W)
        cdef char *bp = <char *>cnp.PyArray_DATA(self.b) if self.b is not None else NULL
        cdef char *zp = <char *>cnp.PyArray_DATA(Z) if Z is not None else NULL
        cdef char *op = <char *>cnp.PyArray_DATA(ones)
        cdef char *dxp = NULL
        cdef char *dwp = NULL
        cdef char *dbp = NULL
        self.losses = np.empty(N, dtype=np.float64)
        self.lse = np.empty(N, dtype=np.float64) if self.zl != 0 else None
        if want_grad:
            dX = np.empty((N, D), dtype=self.dtype)
            dW = np.empty((V, D), dtype=self.dtype) if N else np.zeros((V, D), dtype=self.dtype)
            db = (np.empty(V, dtype=self.dtype) if N else np.zeros(V, dtype=self.dtype)) \
                if self.b is not None else None
            dxp, dwp = <char *>cnp.PyArray_DATA(dX), <char *>cnp.PyArray_DATA(dW)
            dbp = <char *>cnp.PyArray_DATA(db) if db is not None else NULL
        memset(&j.base, 0, sizeof(j.base))
        j.dt = self.dt
        j.V = V
        j.isz = isz
        j.z = zp
        j.base.cols = V
        j.base.x_rs = j.base.g_rs = V
        j.base.x_cs = j.base.g_cs = 1
        j.base.label_s = 1
        j.base.ignore_index = self.ign
        j.base.weight = cnp.PyArray_DATA(self.w) if self.w is not None else NULL
        j.base.weight_sum = float(np.sum(self.w, dtype=np.float64)) if self.w is not None else <double>V
        j.base.smoothing = self.eps
        j.base.grad_scale = (1.0 / self.denom if self.denom != 0 else 0.0) if mean else 1.0
        j.base.grad = zp if want_grad else NULL
        j.base.softcap = self.cap
        j.base.z_grad = 2.0 * self.zl * ((1.0 / self.count if self.count else 0.0) if mean else 1.0) \
            if want_grad else 0.0
        j.lse = NULL
        _load_blas()
        for c0 in range(0, N, rows):
            nc = min(rows, N - c0)
            nci = nc
            j.labels = <const int64_t *>cnp.PyArray_DATA(self.lab) + c0
            j.loss = <double *>cnp.PyArray_DATA(self.losses) + c0
            if self.lse is not None:
                j.lse = <double *>cnp.PyArray_DATA(self.lse) + c0
            _plan(&p, nc, V, 0, 1, 0)
            with nogil:
                # logits (column-major view: Z^T = W X_c^T), the bias first as a rank-1 product
                if bp != NULL:
                    _gemm(self.dt, b'N', b'T', Vi, nci, 1, bp, Vi, op, nci, zp, Vi)
                _gemm_acc(self.dt, b'T', b'N', Vi, nci, Di, wp, Di, xp + c0 * D * isz, Di, zp, Vi,
                          bp != NULL)
                err = _run(&p, _lin_task, &j)
                if not err and want_grad:
                    _gemm(self.dt, b'N', b'N', Di, nci, Vi, wp, Di, zp, Vi, dxp + c0 * D * isz, Di)
                    _gemm_acc(self.dt, b'N', b'T', Di, Vi, nci, xp + c0 * D * isz, Di, zp, Vi, dwp,
                              Di, c0 > 0)
                    if dbp != NULL:
                        _gemm_acc(self.dt, b'N', b'N', Vi, 1, nci, zp, Vi, op, nci, dbp, Vi, c0 > 0)
            if err & FS_ERR_ARG:
                raise IndexError("target holds a class index out of range")   # validated: unreachable
            _raise_status(err)
        if not want_grad:
            return None, None, None
        return dX.reshape(self.in_shape), dW, db

    cdef object reduce(self, str reduction):
        """cross-entropy (weighted as cross_entropy) plus the unweighted z-loss term"""
        cdef const double *lp = <const double *>cnp.PyArray_DATA(self.losses)
        cdef double total, zsum = 0
        counted = self.lab != self.ign
        if self.lse is not None:
            zterm = np.where(counted, self.zl * self.lse * self.lse, 0.0)
        if reduction == "none":
            res = self.losses + zterm if self.lse is not None else self.losses
            res = res.astype(self.dtype).reshape(self.batch_shape)
            return res[()] if res.ndim == 0 else res
        with nogil:
            total = _xent_sum(lp, self.N)
        if self.lse is not None:
            zsum = _xent_sum(<const double *>cnp.PyArray_DATA(np.ascontiguousarray(zterm)), self.N)
        if reduction == "mean":
            total = total / self.denom if self.denom != 0 else NAN
            zsum = zsum / self.count if self.count else NAN
        total = total + zsum if self.lse is not None else total
        return np.float64(total) if self.dt == FS_FLOAT64 else np.float32(total)


cdef object _linear_xent(input, linear_weight, target, linear_bias, weight, ignore_index,
                         reduction, label_smoothing, z_loss, softcap, bint want_grad):
    _reduction(reduction)
    cdef _LinearStep step = _LinearStep()
    step.validate(input, linear_weight, target, linear_bias, weight, ignore_index,
                  label_smoothing, z_loss, softcap)
    grads = step.run(reduction, want_grad)
    loss = step.reduce(reduction)
    return (loss, LinearGrads(*grads)) if want_grad else loss


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         ignore_index=-100, reduction="mean", label_smoothing=0.0, z_loss=0.0,
                         softcap=None):
    """``cross_entropy(input @ linear_weight.T + linear_bias, target, ...)`` without building
    the batch x classes logits (PyTorch's ``F.linear_cross_entropy``).

    input (..., D), linear_weight (V, D), linear_bias (V,) or None, target (...) integer
    class indices (ignore_index skips a row).  weight, ignore_index, reduction and
    label_smoothing act as in cross_entropy.  softcap: the logits become
    ``softcap * tanh(logits / softcap)`` first (Gemma 2).  z_loss: each counted row adds
    ``z_loss * lse**2`` (PaLM), lse its logsumexp; "mean" adds the unweighted mean of that
    term over the counted rows, "sum" its sum, "none" puts it in each row's value.
    Work memory: one chunk of logits (40 MiB) whatever V.  The matrix products run in
    SciPy's BLAS with its threads."""
    return _linear_xent(input, linear_weight, target, linear_bias, weight, ignore_index,
                        reduction, label_smoothing, z_loss, softcap, False)


def linear_cross_entropy_with_grad(input, linear_weight, target, *, linear_bias=None,
                                   weight=None, ignore_index=-100, reduction="mean",
                                   label_smoothing=0.0, z_loss=0.0, softcap=None):
    """``(loss, grads)``: linear_cross_entropy and its gradients as a LinearGrads
    (input, linear_weight, linear_bias); for reduction="none" those of ``loss.sum()``.
    Three matrix products in all (the logits, d input, d weight), as the unfused floor."""
    return _linear_xent(input, linear_weight, target, linear_bias, weight, ignore_index,
                        reduction, label_smoothing, z_loss, softcap, True)


def _linear_gemms(cnp.ndarray X, cnp.ndarray W, cnp.ndarray G, cnp.ndarray dX, cnp.ndarray dW):
    """The three products of an unfused linear cross-entropy alone, in the BLAS the fused one
    uses (the benchmark's floor): G = X W^T (full N x V logits), dX = G W, dW = G^T X; every
    array C-contiguous of one float dtype."""
    _load_blas()
    for a in (X, W, G, dX, dW):
        if a.dtype != W.dtype or not a.flags.c_contiguous:
            raise ValueError("_linear_gemms: C-contiguous arrays of one dtype expected")
    cdef int N = X.shape[0], D = X.shape[1], V = W.shape[0]
    if (W.shape[1] != D or G.shape[0] != N or G.shape[1] != V or dX.shape[0] != N
            or dX.shape[1] != D or dW.shape[0] != V or dW.shape[1] != D):
        raise ValueError("_linear_gemms: shapes do not agree")
    cdef fs_dtype dt = _dtype_of(W)
    with nogil:
        _gemm(dt, b'T', b'N', V, N, D, cnp.PyArray_DATA(W), D, cnp.PyArray_DATA(X), D,
              cnp.PyArray_DATA(G), V)
        _gemm(dt, b'N', b'N', D, N, V, cnp.PyArray_DATA(W), D, cnp.PyArray_DATA(G), V,
              cnp.PyArray_DATA(dX), D)
        _gemm(dt, b'N', b'T', D, V, N, cnp.PyArray_DATA(X), D, cnp.PyArray_DATA(G), V,
              cnp.PyArray_DATA(dW), D)
