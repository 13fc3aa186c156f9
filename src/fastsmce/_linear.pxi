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
# memory, so larger chunks are faster, but the peak RSS must stay within the gradients'
# size + 64 MiB, and BLAS's packing buffers take ~40 MiB of that on top of the chunk
# (measured N=2048 D=512 V=32000 float32, 2 threads, one call in a fresh process: growth
# grads + 81 MiB at a 40 MiB budget (1.26 s), + 65 at 32 (1.49 s), + 49 at 24 (1.50 s)).
cdef int64_t _LIN_BUDGET = 24 << 20
# Classes a block of the two-sweep path (its logits: rows x _LIN_BLOCK in the caches),
# and rows a tile of the filtered gradient (filter_eps).
cdef int _LIN_BLOCK = 512
# The path: every row's logits at once when they fit the budget; otherwise chunks of
# rows up to _LIN_ROWS_MAX_V classes, two sweeps over blocks of classes above (measured:
# see _LIN_BUDGET).  _LIN_PATH forces one (tests, benchmarks): 0 auto, 1 rows, 2 blocks.
cdef int64_t _LIN_ROWS_MAX_V = 65536
cdef int _LIN_PATH = 0
cdef int _LIN_FILTER_ROWS = 128
# The element-wise kernels between the matrix products open fastsmce's threads only from
# _LIN_PARALLEL_MIN elements a call: an OpenMP team woken between BLAS calls fights BLAS's
# own spinning threads for the cores, which costs milliseconds a call (measured, 2 cores,
# N=256 D=64 V=3000 float32: 43 ms with the team, 2.5 ms on the calling thread;
# OMP_WAIT_POLICY=passive: 2.3 ms), and the kernels are ~2% of the work.
cdef int64_t _LIN_PARALLEL_MIN = 1 << 22


def _set_linear(str name, n):
    """a tuning knob of the linear path (tests, benchmarks); returns its old value.
    "path": 0 auto, 1 chunks of rows, 2 two sweeps over blocks of classes; "block": classes
    a block; "budget": bytes of logits a chunk; "filter_rows": rows a filtered tile;
    "parallel_min": elements from which the element-wise kernels use threads"""
    global _LIN_PATH, _LIN_BLOCK, _LIN_BUDGET, _LIN_FILTER_ROWS, _LIN_PARALLEL_MIN
    old = {"path": _LIN_PATH, "block": _LIN_BLOCK, "budget": _LIN_BUDGET,
           "filter_rows": _LIN_FILTER_ROWS, "parallel_min": _LIN_PARALLEL_MIN}[name]
    n = int(n)
    if name == "path":
        _LIN_PATH = n
    elif name == "block":
        _LIN_BLOCK = max(1, n)
    elif name == "budget":
        _LIN_BUDGET = max(1, n)
    elif name == "filter_rows":
        _LIN_FILTER_ROWS = max(1, n)
    else:
        _LIN_PARALLEL_MIN = max(0, n)
    return old


ShardStats = collections.namedtuple(
    "ShardStats", ["max", "sumexp", "target_logit", "target_weight", "target_count", "logit_sum",
                   "num_classes", "weight_sum"])
ShardStats.__doc__ = """Per-row statistics of the logits over a shard of classes (arrays shaped
like the target, float64): max, sumexp = sum exp(logit - max), target_logit (the target's
logit where the shard holds it, else 0), target_weight (its class weight there, else 0),
target_count (1 where the shard holds the target), logit_sum = sum of class weight x logit;
num_classes and weight_sum of the shard.  merge_shard_stats combines shards exactly;
cross_entropy_from_stats gives the loss."""




cdef inline void _lin_plan(Plan *p, int64_t rows, int64_t cols) noexcept:
    _plan(p, rows, cols, 0, 1, _LIN_PARALLEL_MIN)


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


cdef struct BlockJob:
    fs_dtype dt
    fs_lce_block blk


cdef int _stats_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const BlockJob *j = <const BlockJob *>job
    return fs_lce_stats(j.dt, &j.blk, lo, hi)


cdef int _grad_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const BlockJob *j = <const BlockJob *>job
    return fs_lce_grad(j.dt, &j.blk, lo, hi)


cdef void _blk_init(BlockJob *j, fs_dtype dt, int64_t nr, int64_t ld, char *zp,
                    const int64_t *label, int64_t ign, double cap) noexcept:
    """a block job over nr rows of the logits zp (row stride ld), statistics and factors
    unset"""
    memset(j, 0, sizeof(BlockJob))
    j.dt = dt
    j.blk.rows = nr
    j.blk.ld = ld
    j.blk.z = zp
    j.blk.label = label
    j.blk.ignore_index = ign
    j.blk.softcap = cap


cdef class _LinearStep:
    """One call of linear_cross_entropy(_with_grad) or of its shard statistics, step by
    step: validate -> run (one chunk, or two sweeps over blocks of classes) -> reduce."""
    cdef cnp.ndarray X, W, b, lab, w, losses, lse, ones
    cdef object dtype, in_shape, batch_shape
    cdef object ext             # None, or (m, k, ky, kb): the rows' gradient factors given
    cdef fs_dtype dt
    cdef int64_t N, D, V, isz, ign, count, class0
    cdef double eps, zl, cap, denom, wsum, filt
    cdef public int64_t tiles, skipped
    cdef bint wt                # W Fortran-ordered (column-major V x D, ld V)

    cdef inline char *_wblk(self, int64_t v0) noexcept nogil:
        """the block of W from class v0, and (_wld) its leading dimension"""
        return <char *>cnp.PyArray_DATA(self.W) + v0 * (1 if self.wt else self.D) * self.isz

    cdef inline int _wld(self) noexcept nogil:
        return self.V if self.wt else self.D

    cdef int validate(self, input, linear_weight, target, linear_bias, weight, ignore_index,
                      label_smoothing, z_loss, softcap, filter_eps=None, bint shard=False) except -1:
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
        # W as it comes when C- or Fortran-contiguous (an LM head stored as its transpose,
        # D x V, arrives as a Fortran-ordered V x D view): BLAS reads either, no copy of W
        self.wt = bool(W.flags.f_contiguous and not W.flags.c_contiguous and W.dtype == self.dtype
                       and cnp.PyArray_ISALIGNED(W))
        self.W = W if self.wt else _c_contig(W, self.dtype)
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
        self.filt = -1.0
        if filter_eps is not None:
            self.filt = _float_arg(filter_eps, "filter_eps")
            if not (0.0 <= self.filt < INFINITY):
                raise ValueError(f"filter_eps must be None or finite and >= 0; got {filter_eps!r}")
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
        if shard:       # global class ids: any id >= 0 (another shard may hold it)
            bad = (self.lab < 0) & (self.lab != self.ign)
            if bad.any():
                raise IndexError(f"target holds class index {self.lab[bad][0]} < 0 "
                                 f"(and not ignore_index={ignore_index})")
            self.denom = self.count = 0
        else:
            self.denom = _xent_denominator(self.lab, self.w, self.N, self.V, self.ign, ignore_index)
            self.count = self.N - _xent_count(<const int64_t *>cnp.PyArray_DATA(self.lab), self.N,
                                              self.ign)
        self.wsum = float(np.sum(self.w, dtype=np.float64)) if self.w is not None else <double>self.V
        return 0

    cdef void _logits(self, int64_t r0, int nr, int64_t v0, int vb, char *zp, int ld) noexcept nogil:
        """Z[:nr, :vb] (row stride ld) = X[r0:r0+nr] W[v0:v0+vb]^T + b[v0:v0+vb]"""
        cdef char *bp = <char *>cnp.PyArray_DATA(self.b) + v0 * self.isz if self.b is not None else NULL
        cdef int Di = self.D
        # column-major view: Z^T = W_blk X_c^T, the bias first as a rank-1 product
        if bp != NULL:
            _gemm(self.dt, b'N', b'T', vb, nr, 1, bp, vb, cnp.PyArray_DATA(self.ones), nr, zp, ld)
        _gemm_acc(self.dt, b'N' if self.wt else b'T', b'N', vb, nr, Di, self._wblk(v0), self._wld(),
                  <char *>cnp.PyArray_DATA(self.X) + r0 * self.D * self.isz, Di, zp, ld, bp != NULL)

    cdef void _grad_products(self, int64_t r0, int nr, int64_t v0, int vb, char *zp, int ld,
                             char *dxp, char *dwp, char *dbp, bint acc_x, bint acc_w) noexcept nogil:
        """d input[r0:r0+nr] (+)= G W_blk, d W[blk] (+)= G^T X_c, d b[blk] (+)= G^T 1, with G
        the gradient block (nr x vb, row stride ld) in Z"""
        cdef int Di = self.D
        cdef int64_t isz = self.isz
        _gemm_acc(self.dt, b'T' if self.wt else b'N', b'N', Di, nr, vb, self._wblk(v0), self._wld(),
                  zp, ld, dxp + r0 * self.D * isz, Di, acc_x)
        _gemm_acc(self.dt, b'N', b'T', Di, vb, nr, <char *>cnp.PyArray_DATA(self.X) + r0 * self.D * isz,
                  Di, zp, ld, dwp + v0 * self.D * isz, Di, acc_w)
        if dbp != NULL:
            _gemm_acc(self.dt, b'N', b'N', vb, 1, nr, zp, ld, cnp.PyArray_DATA(self.ones), nr,
                      dbp + v0 * isz, vb, acc_w)

    cdef tuple run(self, str reduction, bint want_grad):
        """(d input, d weight, d bias) or Nones; fills self.losses (and self.lse)"""
        cdef int64_t N = self.N, D = self.D, V = self.V
        cdef cnp.ndarray dX = None, dW = None, db = None
        # (the loss alone takes the blocks whenever the rows need several chunks: one product
        # either way, and W read once instead of once a chunk)
        # (given factors, ext: the blocks' second sweep alone)
        cdef bint rows = self.ext is None and self.filt < 0 and (_LIN_PATH == 1 or (
            _LIN_PATH == 0 and (N <= _LIN_BUDGET // (V * self.isz)
                                or (want_grad and V < _LIN_ROWS_MAX_V))))
        self.losses = np.empty(N, dtype=np.float64)
        self.lse = np.empty(N, dtype=np.float64) if self.zl != 0 else None
        self.ones = np.ones(max(N, 1), dtype=self.dtype)
        if want_grad:
            # the filtered sweep adds only the blocks it keeps
            alloc = np.zeros if self.filt >= 0 or N == 0 else np.empty
            dX = alloc((N, D), dtype=self.dtype)
            dW = alloc((V, D), dtype=self.dtype)
            db = alloc(V, dtype=self.dtype) if self.b is not None else None
        _load_blas()
        if N:
            if rows:
                self._row_chunks(reduction, dX, dW, db)
            else:
                self._two_sweeps(reduction, dX, dW, db, want_grad)
        if not want_grad:
            return None, None, None
        return dX.reshape(self.in_shape), dW, db

    cdef double _grad_scale(self, str reduction):
        if reduction != "mean":
            return 1.0
        return 1.0 / self.denom if self.denom != 0 else 0.0

    cdef double _z_grad(self, str reduction):
        if reduction != "mean":
            return 2.0 * self.zl
        return 2.0 * self.zl / self.count if self.count else 0.0

    cdef int _row_chunks(self, str reduction, cnp.ndarray dX, cnp.ndarray dW,
                         cnp.ndarray db) except -1:
        """Chunks of rows with all their logits (rows x V within the budget): the
        cross-entropy kernel turns them in place into the gradient; three products, but
        W is read twice and d W read and written once per chunk."""
        cdef int64_t N = self.N, V = self.V, c0
        cdef int64_t rows = max(<int64_t>1, min(N, _LIN_BUDGET // (V * self.isz)))
        cdef int err = 0
        cdef int nr, vb = V
        cdef LinJob j
        cdef Plan p
        cdef bint want_grad = dX is not None
        cdef cnp.ndarray Z = np.empty((rows, V), dtype=self.dtype)
        cdef char *zp = <char *>cnp.PyArray_DATA(Z)
        cdef char *dxp = <char *>cnp.PyArray_DATA(dX) if want_grad else NULL
        cdef char *dwp = <char *>cnp.PyArray_DATA(dW) if want_grad else NULL
        cdef char *dbp = <char *>cnp.PyArray_DATA(db) if db is not None else NULL
        memset(&j.base, 0, sizeof(j.base))
        j.dt = self.dt
        j.V = V
        j.isz = self.isz
        j.z = zp
        j.base.cols = V
        j.base.x_rs = j.base.g_rs = V
        j.base.x_cs = j.base.g_cs = 1
        j.base.label_s = 1
        j.base.ignore_index = self.ign
        j.base.weight = cnp.PyArray_DATA(self.w) if self.w is not None else NULL
        j.base.weight_sum = self.wsum
        j.base.smoothing = self.eps
        j.base.grad_scale = self._grad_scale(reduction)
        j.base.grad = zp if want_grad else NULL
        j.base.softcap = self.cap
        j.base.z_grad = self._z_grad(reduction) if want_grad else 0.0
        j.lse = NULL
        for c0 in range(0, N, rows):
            nr = min(rows, N - c0)
            j.labels = <const int64_t *>cnp.PyArray_DATA(self.lab) + c0
            j.loss = <double *>cnp.PyArray_DATA(self.losses) + c0
            if self.lse is not None:
                j.lse = <double *>cnp.PyArray_DATA(self.lse) + c0
            _lin_plan(&p, nr, V)
            with nogil:
                self._logits(c0, nr, 0, vb, zp, vb)
                err = _run(&p, _lin_task, &j)
                if not err and want_grad:
                    self._grad_products(c0, nr, 0, vb, zp, vb, dxp, dwp, dbp, False, c0 > 0)
            if err & FS_ERR_ARG:
                raise IndexError("target holds a class index out of range")   # validated: unreachable
            _raise_status(err)
        return 0

    cdef int _sweep_stats(self, int64_t r0, int nr, cnp.ndarray Z, cnp.ndarray M, cnp.ndarray S,
                          cnp.ndarray zy, cnp.ndarray wz) except -1:
        """the first sweep over the row chunk r0 .. r0+nr: each block's logits, folded into
        the rows' statistics (M, S, zy, wz: arrays of the chunk's rows)"""
        cdef int64_t V = self.V, v0
        cdef int ld = Z.shape[1], vb
        cdef int err = 0
        cdef BlockJob j
        cdef Plan p
        cdef char *zp = <char *>cnp.PyArray_DATA(Z)
        M[:nr] = -np.inf
        S[:nr] = 0
        zy[:nr] = 0
        if wz is not None:
            wz[:nr] = 0
        _blk_init(&j, self.dt, nr, ld, zp, <const int64_t *>cnp.PyArray_DATA(self.lab) + r0,
                  self.ign, self.cap)
        j.blk.m = <double *>cnp.PyArray_DATA(M)
        j.blk.s = <double *>cnp.PyArray_DATA(S)
        j.blk.zy = <double *>cnp.PyArray_DATA(zy)
        j.blk.wz = <double *>cnp.PyArray_DATA(wz) if wz is not None else NULL
        for v0 in range(0, V, ld):
            vb = min(ld, V - v0)
            j.blk.cols = vb
            j.blk.class0 = self.class0 + v0
            j.blk.weight = <char *>cnp.PyArray_DATA(self.w) + v0 * self.isz if self.w is not None else NULL
            _lin_plan(&p, nr, vb)
            with nogil:
                self._logits(r0, nr, v0, vb, zp, ld)
                err = _run(&p, _stats_task, &j)
            _raise_status(err)
        return 0

    cdef int _two_sweeps(self, str reduction, cnp.ndarray dX, cnp.ndarray dW, cnp.ndarray db,
                         bint want_grad) except -1:
        """Blocks of classes: the first sweep folds each row's statistics (max, sum exp,
        target logit, weighted logit sum) over the blocks, which give the losses and each
        row's gradient factor; the second recomputes each block's logits, turns them into
        the gradient and adds its two (three) products.  Four products in all, but every
        block stays in the caches and W is read twice whatever N; rows go in chunks only
        when a chunk's block would pass the budget."""
        cdef int64_t N = self.N, V = self.V, isz = self.isz, r0, v0, t0, t1, r
        cdef int vb, ld = min(V, _LIN_BLOCK), nr, tile, tr
        cdef int64_t rows = max(<int64_t>1, min(N, _LIN_BUDGET // (ld * isz)))
        cdef int err = 0
        cdef double thr, tmax
        cdef BlockJob j
        cdef Plan p
        cdef cnp.ndarray Z = np.empty((rows, ld), dtype=self.dtype)
        cdef char *zp = <char *>cnp.PyArray_DATA(Z)
        cdef cnp.ndarray M = np.empty(rows), S = np.empty(rows), zy = np.empty(rows)
        cdef cnp.ndarray wz = np.empty(rows) if self.eps != 0 else None
        cdef cnp.ndarray gmax = np.empty(rows) if self.filt >= 0 else None
        cdef const double *gm = <const double *>cnp.PyArray_DATA(gmax) if gmax is not None else NULL
        cdef char *dxp = <char *>cnp.PyArray_DATA(dX) if want_grad else NULL
        cdef char *dwp = <char *>cnp.PyArray_DATA(dW) if want_grad else NULL
        cdef char *dbp = <char *>cnp.PyArray_DATA(db) if db is not None else NULL
        cdef double scale = self._grad_scale(reduction)
        cdef double zg = self._z_grad(reduction)
        thr = self.filt * scale
        tile = _LIN_FILTER_ROWS if self.filt >= 0 else rows
        for r0 in range(0, N, rows):
            nr = min(rows, N - r0)
            if self.ext is None:
                self._sweep_stats(r0, nr, Z, M, S, zy, wz)
                k, ky = self._row_losses(r0, nr, M, S, zy, wz, scale, zg)
            else:       # a shard's share of the gradient: the factors of the whole vocabulary
                M[:nr] = self.ext[0][r0:r0 + nr]
                k, ky = self.ext[1][r0:r0 + nr], self.ext[2][r0:r0 + nr]
            if not want_grad:
                continue
            _blk_init(&j, self.dt, nr, ld, zp, <const int64_t *>cnp.PyArray_DATA(self.lab) + r0,
                      self.ign, self.cap)
            j.blk.m = <double *>cnp.PyArray_DATA(M)
            j.blk.k = <const double *>cnp.PyArray_DATA(k)
            j.blk.ky = <const double *>cnp.PyArray_DATA(ky)
            j.blk.kb = scale * self.eps / V if self.ext is None else self.ext[3]
            j.blk.gmax = <double *>gm
            for v0 in range(0, V, ld):
                vb = min(ld, V - v0)
                j.blk.cols = vb
                j.blk.class0 = self.class0 + v0
                j.blk.weight = <char *>cnp.PyArray_DATA(self.w) + v0 * isz if self.w is not None else NULL
                _lin_plan(&p, nr, vb)
                with nogil:
                    self._logits(r0, nr, v0, vb, zp, ld)
                    err = _run(&p, _grad_task, &j)
                    if not err and gm == NULL:
                        self._grad_products(r0, nr, v0, vb, zp, ld, dxp, dwp, dbp, v0 > 0, r0 > 0)
                    elif not err:
                        # filtered: a tile of rows x this block adds its products only when
                        # some |gradient| in it reaches the threshold (zeros elsewhere)
                        t0 = 0
                        while t0 < nr:
                            t1 = min(nr, t0 + tile)
                            tmax = 0
                            for r in range(t0, t1):
                                if gm[r] > tmax:
                                    tmax = gm[r]
                                elif gm[r] != gm[r]:        # NaN keeps the tile
                                    tmax = INFINITY
                            self.tiles += 1
                            if tmax < thr:
                                self.skipped += 1
                            else:
                                tr = t1 - t0
                                self._grad_products(r0 + t0, tr, v0, vb, zp + t0 * ld * isz, ld,
                                                    dxp, dwp, dbp, True, True)
                            t0 = t1
                _raise_status(err)
        return 0

    cdef tuple _row_losses(self, int64_t r0, int nr, cnp.ndarray M, cnp.ndarray S,
                           cnp.ndarray zy, cnp.ndarray wz, double scale, double zg):
        """the chunk's losses (and lse) from its statistics; returns the gradient factors
        k (of exp(z - M)) and ky (at the label) of each row"""
        lab = self.lab[r0:r0 + nr]
        counted = lab != self.ign
        if self.w is not None:
            wy = np.where(counted, self.w[np.where(counted, lab, 0)].astype(np.float64), 0.0)
        else:
            wy = counted.astype(np.float64)
        loss, lse, U = _stats_losses(M[:nr], S[:nr], zy[:nr], wz[:nr] if wz is not None else None,
                                     wy, counted, self.eps, self.V, self.wsum)
        self.losses[r0:r0 + nr] = loss
        if self.lse is not None:
            self.lse[r0:r0 + nr] = lse
        return _grad_factors(U, lse, S[:nr], counted, wy, scale, zg, self.eps)

    cdef object stats(self, int64_t class_start):
        """the shard statistics of every row (the first sweep alone)"""
        cdef int64_t N = self.N, V = self.V, r0
        cdef int ld = min(V, _LIN_BLOCK), nr
        cdef int64_t rows = max(<int64_t>1, min(N, _LIN_BUDGET // (ld * self.isz)))
        cdef cnp.ndarray Z = np.empty((rows, ld), dtype=self.dtype)
        cdef cnp.ndarray M = np.empty(N), S = np.empty(N), zy = np.empty(N), wz = np.empty(N)
        self.class0 = class_start
        self.ones = np.ones(max(N, 1), dtype=self.dtype)
        _load_blas()
        for r0 in range(0, N, rows):
            nr = min(rows, N - r0)
            self._sweep_stats(r0, nr, Z, M[r0:], S[r0:], zy[r0:], wz[r0:])
        return _shard_stats(self.lab, self.w, self.ign, class_start, V, self.wsum, M, S, zy, wz,
                            self.batch_shape)

    cdef object reduce(self, str reduction):
        return _reduce_losses(self.losses, self.lse, self.lab != self.ign, self.zl, reduction,
                              self.denom, self.count, self.dtype, self.batch_shape)


cdef object _shard_stats(cnp.ndarray lab, cnp.ndarray w, int64_t ign, int64_t class_start,
                         int64_t V, double wsum, M, S, zy, wz, tuple shp):
    """the ShardStats of a shard of V classes from class_start, its rows' folded statistics
    given (labels lab: global class ids; w: the shard's class weights or None)"""
    held = (lab >= class_start) & (lab < class_start + V) & (lab != ign)
    if w is not None:
        tw = np.where(held, w[np.where(held, lab - class_start, 0)].astype(np.float64), 0.0)
    else:
        tw = held.astype(np.float64)
    return ShardStats(M.reshape(shp), S.reshape(shp), zy.reshape(shp), tw.reshape(shp),
                      held.astype(np.int64).reshape(shp), wz.reshape(shp), int(V), wsum)


cdef tuple _grad_factors(U, lse, S, counted, wy, double scale, double zg, double eps):
    """the gradient factors of fs_lce_grad, per row: k (of exp(z - M)) and ky (at the
    label), from the rows' U and lse (_stats_losses) and sum exp S; ignored rows 0"""
    with np.errstate(all="ignore"):
        k = (scale * U + zg * lse) / S
    k[~counted] = 0
    return np.ascontiguousarray(k), np.ascontiguousarray(scale * (1.0 - eps) * wy)


cdef tuple _stats_losses(m, s, zy, wz, wy, counted, double eps, int64_t V, double wsum):
    """(losses, lse, U) of rows from their statistics over every class, as the
    cross-entropy kernel writes them: loss = U log S - D with U = sum u, D = sum u (z - M),
    u = w ((1 - eps) onehot + eps / V); ignored rows (not counted) 0"""
    cdef double a = 1.0 - eps, b = eps / V
    with np.errstate(all="ignore"):
        logs = np.log(s)
        lse = m + logs
        lse[m == np.inf] = np.inf      # +inf logits: lse +inf (S is NaN from inf - inf)
        U = a * wy + b * wsum
        d = a * wy * (zy - m)
        if wz is not None and b != 0:
            d += b * (wz - m * wsum)
        loss = U * logs - d
    loss[~counted] = 0
    lse[~counted] = 0
    return loss, lse, U


cdef object _reduce_losses(cnp.ndarray losses, cnp.ndarray lse, counted, double zl, str reduction,
                           double denom, int64_t count, dtype, tuple batch_shape):
    """the cross-entropy (weighted as cross_entropy) plus the unweighted z-loss term"""
    cdef int64_t N = losses.shape[0]
    cdef double total, zsum = 0
    if lse is not None:
        zterm = np.where(counted, zl * lse * lse, 0.0)
    if reduction == "none":
        res = losses + zterm if lse is not None else losses
        res = res.astype(dtype).reshape(batch_shape)
        return res[()] if res.ndim == 0 else res
    losses = np.ascontiguousarray(losses)
    with nogil:
        total = _xent_sum(<const double *>cnp.PyArray_DATA(losses), N)
    if lse is not None:
        zsum = _xent_sum(<const double *>cnp.PyArray_DATA(np.ascontiguousarray(zterm)), N)
    if reduction == "mean":
        total = total / denom if denom != 0 else NAN
        zsum = zsum / count if count else NAN
    total = total + zsum if lse is not None else total
    return np.float64(total) if dtype == np.float64 else np.float32(total)


_linear_filter_last = (0, 0)


cdef object _linear_xent(input, linear_weight, target, linear_bias, weight, ignore_index,
                         reduction, label_smoothing, z_loss, softcap, filter_eps, bint want_grad):
    global _linear_filter_last
    _reduction(reduction)
    cdef _LinearStep step = _LinearStep()
    step.validate(input, linear_weight, target, linear_bias, weight, ignore_index,
                  label_smoothing, z_loss, softcap, filter_eps)
    grads = step.run(reduction, want_grad)
    loss = step.reduce(reduction)
    _linear_filter_last = (step.tiles, step.skipped)
    return (loss, LinearGrads(*grads)) if want_grad else loss


def _linear_filter_stats():
    """(tiles, skipped) of the last filtered linear_cross_entropy_with_grad (benchmarks)"""
    return _linear_filter_last


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
    Work memory: 24 MiB of logits whatever V (blocks of 512 classes, or every row's
    logits when they fit).  The matrix products run in SciPy's BLAS with its threads."""
    return _linear_xent(input, linear_weight, target, linear_bias, weight, ignore_index,
                        reduction, label_smoothing, z_loss, softcap, None, False)


def linear_cross_entropy_with_grad(input, linear_weight, target, *, linear_bias=None,
                                   weight=None, ignore_index=-100, reduction="mean",
                                   label_smoothing=0.0, z_loss=0.0, softcap=None,
                                   filter_eps=None):
    """``(loss, grads)``: linear_cross_entropy and its gradients as a LinearGrads
    (input, linear_weight, linear_bias); for reduction="none" those of ``loss.sum()``.

    filter_eps (None: exact): skip the gradient products of each tile of 128 rows x 512
    classes whose every |d loss / d logit| is below filter_eps times the reduction's
    scale (1 / the summed weights for "mean", 1 otherwise); without class weights, label
    smoothing and z-loss, the tiles whose probabilities are all below filter_eps (Cut
    Cross-Entropy's filter).  The loss stays exact; the gradients lose those entries."""
    return _linear_xent(input, linear_weight, target, linear_bias, weight, ignore_index,
                        reduction, label_smoothing, z_loss, softcap, filter_eps, True)


def linear_cross_entropy_stats(input, linear_weight, target, *, linear_bias=None, class_start=0,
                               weight=None, ignore_index=-100, softcap=None):
    """ShardStats of ``input @ linear_weight.T + linear_bias`` for a vocabulary split in
    shards: this shard holds the classes class_start .. class_start + V - 1 (V =
    linear_weight.shape[0]); target holds global class ids (any >= 0, or ignore_index);
    weight the shard's class weights (V,) or None; softcap as in linear_cross_entropy.
    Work memory as linear_cross_entropy's (the logits never exist beyond a block).

    The statistics of every shard, merged with merge_shard_stats, give the exact
    linear_cross_entropy of the whole vocabulary with cross_entropy_from_stats."""
    cdef _LinearStep step = _LinearStep()
    cdef int64_t c0 = _int_arg(class_start, "class_start", 0)
    step.validate(input, linear_weight, target, linear_bias, weight, ignore_index, 0.0, 0.0,
                  softcap, None, True)
    return step.stats(c0)


def merge_shard_stats(*stats):
    """one ShardStats from those of disjoint shards (any number, any order, any grouping:
    the merge of (max, sumexp) rescales in float64 and is associative)"""
    if len(stats) == 1 and not isinstance(stats[0], ShardStats):
        stats = tuple(stats[0])
    if not stats:
        raise ValueError("merge_shard_stats: stats must hold at least one ShardStats")
    for st in stats:
        if not isinstance(st, ShardStats):
            raise TypeError(f"merge_shard_stats: stats must be ShardStats; got {type(st).__name__}")
        if np.shape(st.max) != np.shape(stats[0].max):
            raise ValueError(f"merge_shard_stats: stats of different shapes, {np.shape(st.max)} "
                             f"and {np.shape(stats[0].max)}")
    m = np.max([np.asarray(st.max, np.float64) for st in stats], axis=0)
    s = np.zeros(np.shape(m))
    with np.errstate(all="ignore"):
        for st in stats:
            mi = np.asarray(st.max, np.float64)
            # a shard whose max is -inf adds nothing (and -inf - -inf would be NaN)
            s = s + np.where(mi == -np.inf, 0.0, np.asarray(st.sumexp) * np.exp(mi - m))
    add = lambda f: sum(np.asarray(getattr(st, f)) for st in stats)
    return ShardStats(m, s, add("target_logit"), add("target_weight"), add("target_count"),
                      add("logit_sum"), sum(int(st.num_classes) for st in stats),
                      float(sum(st.weight_sum for st in stats)))


def cross_entropy_from_stats(stats, target, *, ignore_index=-100, reduction="mean",
                             label_smoothing=0.0, z_loss=0.0):
    """the loss of linear_cross_entropy (float64) from the merged ShardStats of the
    whole vocabulary; target the class ids the statistics were taken with"""
    _reduction(reduction)
    if not isinstance(stats, ShardStats):
        raise TypeError(f"stats must be a ShardStats; got {type(stats).__name__}")
    cdef double eps = _smoothing(label_smoothing)
    cdef double zl = _float_arg(z_loss, "z_loss")
    if not (0.0 <= zl < INFINITY):
        raise ValueError(f"z_loss must be finite and >= 0; got {z_loss!r}")
    cdef int64_t ign = _ignore_index(ignore_index)
    cdef int64_t V = stats.num_classes
    cdef cnp.ndarray t = _asarray(target, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices (dtype {t.dtype})")
    shp = np.shape(stats.max)
    if (<object>t).shape != shp:
        raise ValueError(f"target has shape {(<object>t).shape}; the statistics have {shp}")
    lab = _class_indices(t).reshape(-1)
    counted = lab != ign
    bad = counted & ((lab < 0) | (lab >= V))
    if bad.any():
        raise IndexError(f"target holds class index {lab[bad][0]} outside [0, {V}) "
                         f"(and not ignore_index={ignore_index})")
    held = np.asarray(stats.target_count).reshape(-1)
    if (counted & (held != 1)).any():
        raise ValueError("the merged statistics hold a target in "
                         f"{int(held[counted & (held != 1)][0])} shards, not 1: the shards must "
                         "split the classes without overlap or gap")
    f = lambda a: np.asarray(a, np.float64).reshape(-1)
    wy = np.where(counted, f(stats.target_weight), 0.0)
    loss, lse, _ = _stats_losses(f(stats.max), f(stats.sumexp), f(stats.target_logit),
                                 f(stats.logit_sum), wy, counted, eps, V, stats.weight_sum)
    return _reduce_losses(loss, lse if zl != 0 else None, counted, zl, reduction,
                          float(np.sum(wy)), int(np.count_nonzero(counted)), np.dtype(np.float64),
                          shp)


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


# Logits already built, cut in chunks of classes (fastsmce.dask): the block kernels of the
# two-sweep path on a chunk (rows x classes) of the logits instead of a block from BLAS.

cdef tuple _logit_chunk(logits, target, class_start, weight, ignore_index, BlockJob *j):
    """(the chunk as the kernels read it, its labels, class weights, class0), j set over it"""
    cdef cnp.ndarray Z = _real(logits, "logits", None, True)
    if Z.ndim != 2:
        raise ValueError(f"logits must be a 2-D chunk (rows, classes); got shape {(<object>Z).shape}")
    cdef int64_t nr = Z.shape[0], V = Z.shape[1]
    cdef int64_t c0 = _int_arg(class_start, "class_start", 0)
    cdef int64_t ign = _ignore_index(ignore_index)
    if target is None:      # statistics alone: no row holds a class of the chunk
        lab = np.full(nr, -1 if ign != -1 else -2, dtype=np.int64)
    else:
        t = _asarray(target, "target")
        if t.dtype.kind not in "iu" or (<object>t).shape != (nr,):
            raise ValueError(f"target must hold {nr} integer class indices; got dtype {t.dtype}, "
                             f"shape {(<object>t).shape}")
        lab = _class_indices(t)
    w = _xent_weight(weight, Z, V)
    _blk_init(j, _dtype_of(Z), nr, V, <char *>cnp.PyArray_DATA(Z),
              <const int64_t *>cnp.PyArray_DATA(lab), ign, 0.0)
    j.blk.cols = V
    j.blk.class0 = c0
    j.blk.weight = cnp.PyArray_DATA(w) if w is not None else NULL
    return Z, lab, w, c0


cdef int _blk_run(BlockJob *j, bint grad) except -1:
    cdef Plan p
    cdef int err
    _lin_plan(&p, j.blk.rows, j.blk.cols)
    with nogil:
        err = _run(&p, _grad_task if grad else _stats_task, j)
    return _raise_status(err)


def _logit_stats(logits, target=None, class_start=0, weight=None, ignore_index=-100,
                 logit_sum=True):
    """ShardStats (float64, per row) of a chunk of logits (rows, classes) holding the classes
    class_start ..: what linear_cross_entropy_stats gives for a shard, the logits given.
    target: the rows' global class ids, or None (max and sumexp alone matter); weight the
    chunk's class weights or None; logit_sum False: logit_sum left 0 (not summed)."""
    cdef BlockJob j
    Z, lab, w, c0 = _logit_chunk(logits, target, class_start, weight, ignore_index, &j)
    cdef int64_t nr = j.blk.rows
    cdef cnp.ndarray M = np.full(nr, -np.inf), S = np.zeros(nr), zy = np.zeros(nr)
    cdef cnp.ndarray wz = np.zeros(nr)
    j.blk.m = <double *>cnp.PyArray_DATA(M)
    j.blk.s = <double *>cnp.PyArray_DATA(S)
    j.blk.zy = <double *>cnp.PyArray_DATA(zy)
    j.blk.wz = <double *>cnp.PyArray_DATA(wz) if logit_sum else NULL
    if j.blk.cols:
        _blk_run(&j, False)
    wsum = float(np.sum(w, dtype=np.float64)) if w is not None else float(j.blk.cols)
    return _shard_stats(lab, w, j.blk.ignore_index, c0, j.blk.cols, wsum, M, S, zy, wz, (nr,))


cdef tuple _merged_factors(stats, cnp.ndarray lab, int64_t ign, double eps, grad_scale):
    """(m, k, ky, kb) of fs_lce_grad for rows (labels lab) from their ShardStats merged over
    the whole vocabulary; grad_scale 1 / the summed weights for "mean", 1 otherwise"""
    cdef double scale = _float_arg(grad_scale, "grad_scale")
    f = lambda a: np.ascontiguousarray(a, np.float64).reshape(-1)
    M, S = f(stats.max), f(stats.sumexp)
    if M.shape[0] != lab.shape[0]:
        raise ValueError(f"stats hold {M.shape[0]} rows; the chunk has {lab.shape[0]}")
    counted = lab != ign
    wy = np.where(counted, f(stats.target_weight), 0.0)
    _, lse, U = _stats_losses(M, S, f(stats.target_logit), f(stats.logit_sum), wy, counted, eps,
                              stats.num_classes, stats.weight_sum)
    k, ky = _grad_factors(U, lse, S, counted, wy, scale, 0.0, eps)
    return M, k, ky, scale * eps / stats.num_classes


def _logit_grad(logits, target, stats, class_start=0, weight=None, ignore_index=-100,
                label_smoothing=0.0, grad_scale=1.0):
    """d loss / d logits over a chunk of logits (rows, classes) holding the classes
    class_start .., from stats, the rows' ShardStats merged over the whole vocabulary:
    softmax times each row's factor, less the label and smoothing terms (fs_lce_grad).
    grad_scale: 1 / the summed weights for "mean", 1 otherwise; ignored rows 0."""
    cdef BlockJob j
    Z, lab, w, c0 = _logit_chunk(logits, target, class_start, weight, ignore_index, &j)
    cdef cnp.ndarray G = np.array(Z, order="C", copy=True)
    M, k, ky, kb = _merged_factors(stats, lab, j.blk.ignore_index, _smoothing(label_smoothing),
                                   grad_scale)
    j.blk.z = <char *>cnp.PyArray_DATA(G)
    j.blk.m = <double *>cnp.PyArray_DATA(M)
    j.blk.k = <const double *>cnp.PyArray_DATA(k)
    j.blk.ky = <const double *>cnp.PyArray_DATA(ky)
    j.blk.kb = kb
    if j.blk.cols:
        _blk_run(&j, True)
    return G


def _linear_shard_grads(input, linear_weight, target, stats, *, linear_bias=None, class_start=0,
                        weight=None, ignore_index=-100, label_smoothing=0.0, grad_scale=1.0):
    """LinearGrads of rows x one shard of classes (class_start ..), from the rows' ShardStats
    merged over the whole vocabulary: input's share (the shards' shares add up to d input),
    and the shard's linear_weight / linear_bias gradients over these rows (row chunks add
    up).  grad_scale: 1 / the summed weights for "mean", 1 otherwise.  The second sweep of
    the two-sweep path alone: each block's logits recomputed, never more than one block."""
    cdef _LinearStep step = _LinearStep()
    step.validate(input, linear_weight, target, linear_bias, weight, ignore_index,
                  label_smoothing, 0.0, None, None, True)
    step.class0 = _int_arg(class_start, "class_start", 0)
    step.ext = _merged_factors(stats, step.lab, step.ign, step.eps, grad_scale)
    return LinearGrads(*step.run("sum", True))
