# sampling family: included by _core.pyx (shares its helpers).
#
# Candidate samplers (csrc/sampling.c) and sampled softmax / NCE: ids and weight
# rows gathered in C, the three matrix products in BLAS (SciPy's, found at run
# time through scipy.linalg.cython_blas; fastsmce links no BLAS), the per-example
# softmax or sigmoid cross-entropy and the scatter of the true-label terms in C
# (csrc/kernels/sampled.inc), split across OpenMP threads by fixed blocks.

import collections

cdef enum:
    SMP_UNIFORM = 0
    SMP_LOG_UNIFORM = 1
    SMP_UNIGRAM = 2
    SMP_SOFTMAX = 0
    SMP_NCE = 1

# ---------------------------------------------------------------------------
# samplers
# ---------------------------------------------------------------------------

cdef uint64_t _seed(seed) except? 0:
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    try:
        return operator.index(seed) & 0xFFFFFFFFFFFFFFFF
    except TypeError:
        raise TypeError(f"seed must be an integer or None; got {type(seed).__name__}") from None


cdef cnp.ndarray _class_ids(x, str name, int64_t num_classes, int ndim, shape):
    """x as a C-contiguous int64 array of the given ndim (and shape, None entries
    free), every value in [0, num_classes)"""
    cdef cnp.ndarray a = _asarray(x, name)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array; got dtype {a.dtype}")
    if a.ndim != ndim or any(s is not None and s != t for s, t in zip(shape, (<object>a).shape)):
        want = tuple("?" if s is None else s for s in shape)
        raise ValueError(f"{name} has shape {(<object>a).shape}; expected {want}")
    if a.size:
        lo, hi = a.min(), a.max()
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"{name} must lie in [0, {num_classes}); got values from {lo} to {hi}")
    return _c_contig(a, np.int64)


cdef class _Sampler:
    """A candidate sampler over classes 0 .. range_max-1 (kind 0 uniform, 1
    log-uniform, 2 fixed unigram with its alias table)."""
    cdef fs_sampler s
    cdef readonly object prob
    cdef object accept, alias

    def __init__(self, int kind, range_max, unigrams=None, distortion=1.0):
        cdef cnp.ndarray w, p, acc, ali
        cdef int err
        self.s.kind = kind
        self.s.prob = NULL
        self.s.accept = NULL
        self.s.alias = NULL
        if kind != SMP_UNIGRAM or range_max is not None:
            self.s.range = _int_arg(range_max, "range_max", 1)
        if kind != SMP_UNIGRAM:
            return
        w = _real(unigrams, "unigrams", _F64)
        if range_max is None:       # as many classes as counts
            if w.ndim != 1 or w.shape[0] < 1:
                raise ValueError(f"unigrams must be a 1-D array of class counts; got shape "
                                 f"{(<object>w).shape}")
            self.s.range = w.shape[0]
        if w.ndim != 1 or w.shape[0] != self.s.range:
            raise ValueError(f"unigrams has shape {(<object>w).shape}; expected ({self.s.range},), one count "
                             f"a class")
        if not (np.isfinite(w).all() and (w >= 0).all()):
            raise ValueError("unigrams must be finite and >= 0")
        distortion = _float_arg(distortion, "distortion")
        if not np.isfinite(distortion):
            raise ValueError(f"distortion must be finite; got {distortion}")
        w = np.ascontiguousarray(w ** distortion)
        p = np.empty(w.shape[0])
        acc = np.empty(w.shape[0])
        ali = np.empty(w.shape[0], dtype=np.int64)
        with nogil:
            err = fs_alias_build(<double *>cnp.PyArray_DATA(w), w.shape[0], <double *>cnp.PyArray_DATA(p),
                                 <double *>cnp.PyArray_DATA(acc), <int64_t *>cnp.PyArray_DATA(ali))
        if err == FS_ERR_NOMEM:
            raise MemoryError("fastsmce: out of memory for the alias table")
        if err:
            raise ValueError("unigrams ** distortion must have a positive, finite sum")
        self.prob, self.accept, self.alias = p, acc, ali
        self.s.prob = <const double *>cnp.PyArray_DATA(p)
        self.s.accept = <const double *>cnp.PyArray_DATA(acc)
        self.s.alias = <const int64_t *>cnp.PyArray_DATA(ali)

    @property
    def range_max(self):
        return self.s.range

    def expected_count(self, values, num_sampled, num_tries):
        """TensorFlow's expected count of each class in `values` (float32)"""
        cdef cnp.ndarray v = _c_contig(values, np.int64)
        cdef cnp.ndarray out = np.empty((<object>v).shape, dtype=np.float32)
        cdef int64_t ns = _int_arg(num_sampled, "num_sampled", 0)
        cdef int64_t nt = _int_arg(num_tries, "num_tries", 0)
        fs_sampler_expected_count(&self.s, <int64_t *>cnp.PyArray_DATA(v), v.size, ns, nt,
                                  <float *>cnp.PyArray_DATA(out))
        return out

    def sample(self, true_classes, num_true, num_sampled, unique, seed):
        """(sampled, true_expected_count, sampled_expected_count, num_tries)"""
        cdef int64_t nt = _int_arg(num_true, "num_true", 1)
        cdef int64_t ns = _int_arg(num_sampled, "num_sampled", 0)
        cdef bint uq = _flag(unique, "unique")
        cdef uint64_t sd = _seed(seed)
        cdef int64_t tries = 0
        cdef int err
        cdef int64_t possible
        cdef cnp.ndarray tc = _class_ids(true_classes, "true_classes", self.s.range, 2, (None, nt))
        cdef cnp.ndarray out = np.empty(ns, dtype=np.int64)
        if uq:
            possible = self.s.range if self.s.kind != SMP_UNIGRAM else np.count_nonzero(self.prob)
            if ns > possible:
                raise ValueError(f"num_sampled={ns} exceeds the {possible} classes that can be drawn "
                                 f"without replacement (unique=True)")
        with nogil:
            err = fs_sampler_draw(&self.s, sd, ns, uq, <int64_t *>cnp.PyArray_DATA(out), &tries)
        if err == FS_ERR_NOMEM:
            raise MemoryError("fastsmce: out of memory for the sampler's set")
        if err:
            raise RuntimeError(f"sampling {ns} unique classes did not finish in 2**31 - 1 draws")
        return out, self.expected_count(tc, ns, tries), self.expected_count(out, ns, tries), tries


cdef object _sampler_values(sampler, cnp.ndarray labels, int64_t num_true, int64_t num_sampled,
                            int64_t num_classes, seed):
    """the default sampled_values of the losses: unique=True, as TensorFlow"""
    if isinstance(sampler, str):
        if sampler not in ("uniform", "log_uniform"):
            raise ValueError(f"sampler must be 'uniform', 'log_uniform', a callable or unigram "
                             f"counts; got {sampler!r}")
        s = _Sampler(SMP_UNIFORM if sampler == "uniform" else SMP_LOG_UNIFORM, num_classes)
        if num_sampled > num_classes:
            raise ValueError(f"num_sampled={num_sampled} exceeds num_classes={num_classes} "
                             f"(candidates are drawn without replacement)")
        return s.sample(labels, num_true, num_sampled, True, seed)[:3]
    if callable(sampler):
        return sampler(labels, num_true, num_sampled, True, num_classes, seed=seed)
    try:
        s = _Sampler(SMP_UNIGRAM, num_classes, sampler)
    except TypeError as e:
        raise TypeError(f"sampler must be 'uniform', 'log_uniform', a callable or unigram counts "
                        f"of the num_classes={num_classes} classes; got {type(sampler).__name__} "
                        f"({e})") from None
    except ValueError as e:
        raise ValueError(f"sampler (unigram counts): {e}") from None
    return s.sample(labels, num_true, num_sampled, True, seed)[:3]

# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# the parallel pieces: fixed blocks of rows / classes, any thread count
# ---------------------------------------------------------------------------

cdef enum:
    T_ROWS = 0
    T_TRUE_DX = 1
    T_TRUE_DW = 2
    T_GATHER = 3

cdef struct SmpJob:
    int op
    fs_dtype dt
    fs_sampled_args *a
    void *p0
    void *p1
    const int64_t *h
    const int64_t *nx
    const void *src
    int64_t rs, cs


cdef int _smp_task(const void *job, int64_t lo, int64_t hi) noexcept nogil:
    cdef const SmpJob *j = <const SmpJob *>job
    if j.op == T_ROWS:
        return fs_sampled_rows(j.dt, j.a, lo, hi)
    if j.op == T_TRUE_DX:
        fs_sampled_add_true_dx(j.dt, j.a, lo, hi, j.p0)
    elif j.op == T_TRUE_DW:
        fs_sampled_add_true_dw(j.dt, j.a, j.h, j.nx, lo, hi, j.p0)
    else:
        fs_sampled_gather_rows(j.dt, j.src, j.rs, j.cs, j.h + lo, hi - lo, j.a.d if j.p1 == NULL else 1,
                               <char *>j.p0 + lo * (j.a.d if j.p1 == NULL else 1)
                               * (4 if j.dt == FS_FLOAT32 else 8))
    return 0


# These kernels run between BLAS products, whose own thread pool keeps spinning
# for a while after each product: a parallel region here competes with it for
# the cores (and on a busy machine waits for a descheduled thread).  They cost a
# few percent of the products, so only large ones are split across threads.
cdef int64_t _smp_parallel_min = 1 << 23


def _set_sampled_parallel_min(n):
    """work (elements) from which the sampled kernels use threads; returns the old
    value (for tests)"""
    global _smp_parallel_min
    old = _smp_parallel_min
    _smp_parallel_min = max(0, int(n))
    return old


cdef int _smp_run(SmpJob *j, int64_t count, int64_t work) except -1:
    """items 0 .. count-1 of about `work` elements each, in blocks"""
    cdef Plan p
    cdef int err
    if count <= 0:
        return 0
    _plan(&p, count, work, 0, 1, _smp_parallel_min)
    with nogil:
        err = _run(&p, _smp_task, j)
    return _raise_status(err)

# ---------------------------------------------------------------------------
# sampled softmax and NCE
# ---------------------------------------------------------------------------

# Scratch kept between calls: the gathered weight rows (0) and the logits /
# gradient block (1).  Fresh arrays of these sizes (megabytes) would be faulted
# in page by page while BLAS writes them, a large part of a step.  A call takes
# the buffer (or makes one when another thread holds it) and gives it back;
# buffers over _WS_MAX bytes are not kept.
_workspace = [None, None]
cdef Py_ssize_t _WS_MAX = 64 << 20


cdef tuple _ws_take(int slot, shape, dtype):
    cdef Py_ssize_t need = max(1, int(np.prod(shape))) * np.dtype(dtype).itemsize
    buf, _workspace[slot] = _workspace[slot], None   # atomic under the GIL
    if buf is None or buf.size < need:
        buf = np.empty(need, dtype=np.uint8)
    return buf, buf[:need].view(dtype)[:int(np.prod(shape))].reshape(shape)


cdef _ws_give(int slot, buf):
    if buf.size <= _WS_MAX:
        _workspace[slot] = buf


SampledGrads = collections.namedtuple("SampledGrads", ["inputs", "ids", "weights", "biases"])
SampledGrads.__doc__ = """Gradients of a sampled softmax / NCE loss.

inputs  (N, D) d loss / d inputs
ids     (K,)   the distinct classes the step touched (sampled ones first, in draw
               order, then the true labels not sampled)
weights (K, D) d loss / d weights[ids]   (views into one (K, D + 1) array:
biases  (K,)   d loss / d biases[ids]     the last product makes both at once)

A sparse SGD step is ``weights[ids] -= lr * grads.weights``."""


cdef cnp.ndarray _counts(x, str name, shape, bint positive):
    cdef cnp.ndarray a = _real(x, name, _F64)
    if (<object>a).shape != shape:
        if len(shape) == 2 and shape[1] == 1 and (<object>a).shape == (shape[0],):
            a = a.reshape(shape)
        else:
            raise ValueError(f"{name} has shape {(<object>a).shape}; expected {shape}")
    if positive and a.size and not ((a > 0).all() and np.isfinite(a).all()):
        raise ValueError(f"{name} must be > 0 and finite (its log is subtracted: "
                         f"subtract_log_q=True)")
    return a


cdef class _SampledStep:
    """One sampled-softmax / NCE step, filled in order by validate -> plan -> run ->
    reduce (-> backward); holds the arrays the steps pass on."""
    cdef int mode
    cdef fs_dtype dt
    cdef object dtype
    cdef int64_t N, D, nt, S, C, K, ks, isz
    cdef bint hits, log_q
    cdef cnp.ndarray W, b, Xa, lab, samp, tec, sec
    cdef cnp.ndarray ids, scol, tcol, hh, hn, lh, ln
    cdef cnp.ndarray wk, bk, L, loss, gt
    cdef object wk_buf, L_buf
    cdef fs_sampled_args a
    cdef SmpJob job

    cdef int validate(self, weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                      sampled_values, sampler, remove_accidental_hits, subtract_log_q,
                      seed) except -1:
        """the arrays (one float dtype), the labels and the sampled values, checked"""
        self.hits = _flag(remove_accidental_hits, "remove_accidental_hits")
        self.log_q = _flag(subtract_log_q, "subtract_log_q")
        self.nt = _int_arg(num_true, "num_true", 1)
        self.C = _int_arg(num_classes, "num_classes", 1)
        self.S = _int_arg(num_sampled, "num_sampled", 0)
        cdef int64_t C = self.C, nt = self.nt, S = self.S
        cdef cnp.ndarray W = _real(weights, "weights")
        cdef cnp.ndarray b = _real(biases, "biases")
        cdef cnp.ndarray X = _real(inputs, "inputs")
        if W.ndim != 2 or W.shape[0] != C:
            raise ValueError(f"weights has shape {(<object>W).shape}; expected (num_classes={C}, dim)")
        if b.ndim != 1 or b.shape[0] != C:
            raise ValueError(f"biases has shape {(<object>b).shape}; expected (num_classes={C},)")
        if X.ndim != 2 or X.shape[1] != W.shape[1]:
            raise ValueError(f"inputs has shape {(<object>X).shape}; expected (batch, dim={W.shape[1]})")
        self.N, self.D = X.shape[0], X.shape[1]
        self.dtype = dtype = np.result_type(W.dtype, b.dtype, X.dtype)
        self.W = W if W.dtype == dtype else W.astype(dtype)
        self.b = b if b.dtype == dtype else b.astype(dtype)
        self.dt = _dtype_of(self.W)
        self.isz = cnp.PyArray_ITEMSIZE(self.W)
        # [inputs, 1]: the ones column turns the d weights product into d [weights, biases]
        self.Xa = np.empty((self.N, self.D + 1), dtype=dtype)
        self.Xa[:, :self.D] = X
        self.Xa[:, self.D] = 1
        lab = _asarray(labels, "labels")
        if lab.ndim == 1 and nt == 1:
            self.lab = _class_ids(lab, "labels", C, 1, (self.N,)).reshape(self.N, 1)
        else:
            self.lab = _class_ids(lab, "labels", C, 2, (self.N, nt))
        if sampled_values is None:
            if S == 0 and self.log_q:
                raise ValueError("num_sampled=0: the true classes' expected counts are 0 and their "
                                 "log cannot be subtracted; draw num_sampled >= 1, pass "
                                 "subtract_log_q=False or give sampled_values")
            sampled_values = _sampler_values(sampler, self.lab, nt, S, C, seed)
        try:
            sv, tec, sec = sampled_values
        except (TypeError, ValueError):
            raise ValueError("sampled_values must be a (sampled, true_expected_count, "
                             "sampled_expected_count) triple") from None
        self.samp = _class_ids(sv, "sampled_values[0] (sampled)", C, 1, (S,))
        self.tec = _counts(tec, "sampled_values[1] (true_expected_count)", (self.N, nt), self.log_q)
        self.sec = _counts(sec, "sampled_values[2] (sampled_expected_count)", (S,), self.log_q)
        if max(self.N, self.D, S + self.N * nt) >= 2 ** 31:
            raise ValueError("sampled softmax: batch, dim and classes per step must be < 2**31 (BLAS)")
        _load_blas()
        return 0

    cdef int plan(self) except -1:
        """the distinct classes (ids), where each sampled / true one is, the hit and
        label lists"""
        cdef int64_t S = self.S, nl = self.N * self.nt, K = 0, ks = 0, err
        self.ids = np.empty(S + nl, dtype=np.int64)
        self.scol, self.tcol = np.empty(S, dtype=np.int64), np.empty(nl, dtype=np.int64)
        self.hh, self.hn = np.empty(S + nl, dtype=np.int64), np.empty(S, dtype=np.int64)
        self.lh, self.ln = np.empty(S + nl, dtype=np.int64), np.empty(nl, dtype=np.int64)
        cdef int64_t *p[9]
        for i, arr in enumerate((self.samp, self.lab, self.ids, self.scol, self.tcol, self.hh,
                                 self.hn, self.lh, self.ln)):
            p[i] = <int64_t *>cnp.PyArray_DATA(<cnp.ndarray>arr)
        with nogil:
            err = fs_sampled_unique(p[0], S, p[1], nl, p[2], &K, &ks, p[3], p[4], p[5], p[6], p[7],
                                    p[8])
        if err:
            raise MemoryError("fastsmce: out of memory for the class ids")
        self.K, self.ks = K, ks
        return 0

    cdef int run(self, bint want_grad, double scale) except -1:
        """gather the K weight rows and biases, the logits inputs @ wk[:ks]^T (BLAS), then
        every example's loss (and d loss / d logits in place of its logits)"""
        cdef fs_sampled_args *a = &self.a
        cdef SmpJob *job = &self.job
        cdef int64_t N = self.N, D = self.D, ks = self.ks, isz = self.isz
        self.wk_buf, wk = _ws_take(0, (self.K, D), self.dtype)
        self.wk, self.bk = wk, np.empty(self.K, dtype=self.dtype)
        a.d = D
        job.dt = self.dt
        job.a = a
        job.op = T_GATHER
        job.h = <const int64_t *>cnp.PyArray_DATA(self.ids)
        job.src, job.rs, job.cs = cnp.PyArray_DATA(self.W), self.W.strides[0] // isz, self.W.strides[1] // isz
        job.p0, job.p1 = cnp.PyArray_DATA(self.wk), NULL
        _smp_run(job, self.K, D)
        job.src, job.rs, job.cs = cnp.PyArray_DATA(self.b), self.b.strides[0] // isz, 1
        job.p0, job.p1 = cnp.PyArray_DATA(self.bk), <void *>1
        _smp_run(job, self.K, 1)
        # bias - log Q of every column, in float64 then rounded
        bk64 = self.bk.astype(np.float64)
        tcorr = bk64[self.tcol] - (np.log(self.tec.ravel()) if self.log_q else 0.0)
        scorr = bk64[self.scol] - (np.log(self.sec) if self.log_q else 0.0)
        cdef cnp.ndarray tc = np.ascontiguousarray(tcorr, dtype=self.dtype)
        cdef cnp.ndarray sc = np.ascontiguousarray(scorr, dtype=self.dtype)
        self.L_buf, L = _ws_take(1, (N, ks), self.dtype)
        self.L = L
        with nogil:
            _gemm(self.dt, b'T', b'N', ks, N, D, cnp.PyArray_DATA(self.wk), max(D, 1),
                  cnp.PyArray_DATA(self.Xa), D + 1, cnp.PyArray_DATA(self.L), max(ks, 1))
        self.loss = np.empty(N, dtype=np.float64)
        self.gt = np.empty(N * self.nt if want_grad else 0, dtype=self.dtype)
        a.mode = self.mode
        a.grad = want_grad
        a.n, a.num_true, a.num_sampled, a.ks = N, self.nt, self.S, ks
        a.x, a.ldx, a.wk = cnp.PyArray_DATA(self.Xa), D + 1, cnp.PyArray_DATA(self.wk)
        a.tcorr, a.scorr = cnp.PyArray_DATA(tc), cnp.PyArray_DATA(sc)
        a.tcol = <const int64_t *>cnp.PyArray_DATA(self.tcol)
        a.scol = NULL if ks == self.S else <const int64_t *>cnp.PyArray_DATA(self.scol)
        a.hit_head = <const int64_t *>cnp.PyArray_DATA(self.hh) if self.hits else NULL
        a.hit_next = <const int64_t *>cnp.PyArray_DATA(self.hn)
        a.logits, a.gtrue = cnp.PyArray_DATA(self.L), cnp.PyArray_DATA(self.gt)
        a.scale = scale
        a.loss = <double *>cnp.PyArray_DATA(self.loss)
        job.op = T_ROWS
        _smp_run(job, N, self.S + self.nt * (D + 1))
        return 0

    cdef object reduce(self, str reduction):
        cdef int64_t N = self.N
        if reduction == "none":
            return self.loss.astype(self.dtype)
        if reduction == "sum":
            return self.dtype.type(self.loss.sum())
        return self.dtype.type(self.loss.sum() / N if N else np.nan)

    cdef object backward(self):
        """d inputs = G @ wk[:ks] + true terms;  d [wk, bk] = G^T @ [inputs, 1] + true terms"""
        cdef SmpJob *job = &self.job
        cdef int64_t N = self.N, D = self.D, ks = self.ks, K = self.K, nl = self.N * self.nt
        cdef cnp.ndarray dx = np.empty((N, D), dtype=self.dtype)
        cdef cnp.ndarray dwb = np.empty((K, D + 1), dtype=self.dtype)
        with nogil:
            _gemm(self.dt, b'N', b'N', D, N, ks, cnp.PyArray_DATA(self.wk), max(D, 1),
                  cnp.PyArray_DATA(self.L), max(ks, 1), cnp.PyArray_DATA(dx), max(D, 1))
            _gemm(self.dt, b'N', b'T', D + 1, ks, N, cnp.PyArray_DATA(self.Xa), D + 1,
                  cnp.PyArray_DATA(self.L), max(ks, 1), cnp.PyArray_DATA(dwb), D + 1)
        # the true-label terms are axpys, ~1/16 of an exp-and-store per element: on the
        # calling thread below ~0.5M of them (a parallel region would cost more)
        job.op, job.p0 = T_TRUE_DX, cnp.PyArray_DATA(dx)
        _smp_run(job, N, max(1, self.nt * D // 16))
        job.op, job.p0 = T_TRUE_DW, cnp.PyArray_DATA(dwb)
        job.h = <const int64_t *>cnp.PyArray_DATA(self.lh)
        job.nx = <const int64_t *>cnp.PyArray_DATA(self.ln)
        _smp_run(job, K, max(1, (nl * D) // max(K, 1) // 16))
        return SampledGrads(dx, self.ids[:K].copy(), dwb[:, :D], dwb[:, D])

    cdef release(self):
        """give the scratch buffers back for the next call"""
        if self.wk_buf is not None:
            _ws_give(0, self.wk_buf)
        if self.L_buf is not None:
            _ws_give(1, self.L_buf)
        self.wk_buf = self.L_buf = None


cdef object _sampled_loss(int mode, bint want_grad, weights, biases, labels, inputs, num_sampled,
                          num_classes, num_true, sampled_values, sampler, remove_accidental_hits,
                          subtract_log_q, seed, reduction):
    _reduction(reduction)
    cdef _SampledStep step = _SampledStep()
    step.mode = mode
    step.validate(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                  sampled_values, sampler, remove_accidental_hits, subtract_log_q, seed)
    step.plan()
    try:
        step.run(want_grad, 1.0 / step.N if reduction == "mean" and step.N > 0 else 1.0)
        res = step.reduce(reduction)
        return (res, step.backward()) if want_grad else res
    finally:
        step.release()


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes, *, num_true=1,
                         sampled_values=None, sampler="log_uniform", remove_accidental_hits=True,
                         subtract_log_q=True, seed=None, reduction="mean"):
    """Sampled softmax cross-entropy, TensorFlow's ``tf.nn.sampled_softmax_loss``.

    weights (num_classes, dim), biases (num_classes,), labels (batch, num_true)
    integers (or (batch,) when num_true is 1), inputs (batch, dim).  Each
    example's logits are its num_true true classes and the num_sampled shared
    sampled ones, each minus the log of its expected count (subtract_log_q), a
    sampled class equal to one of the example's labels masked out
    (remove_accidental_hits); the target puts 1/num_true on each true class.

    sampled_values: a ``(sampled, true_expected_count, sampled_expected_count)``
    triple as the samplers of fastsmce.sampling return; None draws one with
    ``sampler`` ('log_uniform', 'uniform', unigram counts of every class, or a
    callable with the samplers' signature) without replacement, from ``seed``.
    reduction: 'mean' (default) or 'sum' over the batch, or 'none' for TF's
    per-example vector.

    Needs SciPy at run time: the three products (logits, d inputs, d weights) run
    in its BLAS, with the BLAS's own threads (threadpoolctl's "blas" limits);
    the rest is fastsmce's C.  Results are bit-identical for any fastsmce thread
    count; a different BLAS thread count may change the last bits, as for any
    NumPy matmul.  A NaN in an example gives that example a NaN loss (a +inf
    logit: NaN here, +inf for nce_loss); probabilities below the smallest normal
    float are 0.
    """
    return _sampled_loss(SMP_SOFTMAX, False, weights, biases, labels, inputs, num_sampled,
                         num_classes, num_true, sampled_values, sampler, remove_accidental_hits,
                         subtract_log_q, seed, reduction)


def sampled_softmax_loss_with_grad(weights, biases, labels, inputs, num_sampled, num_classes, *,
                                   num_true=1, sampled_values=None, sampler="log_uniform",
                                   remove_accidental_hits=True, subtract_log_q=True, seed=None,
                                   reduction="mean"):
    """``(loss, grads)``: sampled_softmax_loss and its gradients as a
    SampledGrads (inputs, ids, weights, biases); with reduction='none' the
    gradients are those of the summed loss.  No (num_classes, dim) or
    (batch, num_classes) array is made: grads.weights holds only the rows of
    grads.ids."""
    return _sampled_loss(SMP_SOFTMAX, True, weights, biases, labels, inputs, num_sampled,
                         num_classes, num_true, sampled_values, sampler, remove_accidental_hits,
                         subtract_log_q, seed, reduction)


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, *, num_true=1,
             sampled_values=None, sampler="log_uniform", remove_accidental_hits=False,
             subtract_log_q=True, seed=None, reduction="mean"):
    """Noise-contrastive estimation loss, TensorFlow's ``tf.nn.nce_loss``: the
    sigmoid cross-entropy of the true (label 1/num_true, as TF) and sampled
    (label 0) logits, summed per example.  Arguments as sampled_softmax_loss;
    accidental hits are kept by default, as TensorFlow does."""
    return _sampled_loss(SMP_NCE, False, weights, biases, labels, inputs, num_sampled,
                         num_classes, num_true, sampled_values, sampler, remove_accidental_hits,
                         subtract_log_q, seed, reduction)


def nce_loss_with_grad(weights, biases, labels, inputs, num_sampled, num_classes, *, num_true=1,
                       sampled_values=None, sampler="log_uniform", remove_accidental_hits=False,
                       subtract_log_q=True, seed=None, reduction="mean"):
    """``(loss, grads)``: nce_loss and its gradients (see
    sampled_softmax_loss_with_grad)."""
    return _sampled_loss(SMP_NCE, True, weights, biases, labels, inputs, num_sampled,
                         num_classes, num_true, sampled_values, sampler, remove_accidental_hits,
                         subtract_log_q, seed, reduction)


def _sampled_gemms(cnp.ndarray wk, cnp.ndarray xa, cnp.ndarray g, cnp.ndarray dx, cnp.ndarray dwb):
    """The three products of a sampled-softmax step alone, exactly as the losses
    run them (for the benchmark): g = xa[:, :D] @ wk^T, dx = g @ wk,
    dwb = g^T @ xa; every array C-contiguous of one float dtype, xa (N, D + 1),
    wk (ks, D), g (N, ks), dx (N, D), dwb (ks, D + 1)."""
    _load_blas()
    cdef fs_dtype dt = FS_FLOAT32 if wk.dtype == np.float32 else FS_FLOAT64
    cdef int ks = wk.shape[0], D = wk.shape[1], N = xa.shape[0]
    for a in (xa, g, dx, dwb):
        if a.dtype != wk.dtype or not a.flags.c_contiguous or not wk.flags.c_contiguous:
            raise ValueError("_sampled_gemms: C-contiguous arrays of one dtype expected")
    if (xa.shape[1] != D + 1 or g.shape[0] != N or g.shape[1] != ks or dx.shape[0] != N
            or dx.shape[1] != D or dwb.shape[0] != ks or dwb.shape[1] != D + 1):
        raise ValueError("_sampled_gemms: shapes do not agree")
    with nogil:
        _gemm(dt, b'T', b'N', ks, N, D, cnp.PyArray_DATA(wk), max(D, 1), cnp.PyArray_DATA(xa),
              D + 1, cnp.PyArray_DATA(g), max(ks, 1))
        _gemm(dt, b'N', b'N', D, N, ks, cnp.PyArray_DATA(wk), max(D, 1), cnp.PyArray_DATA(g),
              max(ks, 1), cnp.PyArray_DATA(dx), max(D, 1))
        _gemm(dt, b'N', b'T', D + 1, ks, N, cnp.PyArray_DATA(xa), D + 1, cnp.PyArray_DATA(g),
              max(ks, 1), cnp.PyArray_DATA(dwb), D + 1)
