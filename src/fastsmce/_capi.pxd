# The C API of csrc/ (fastsmce.h and the family headers it includes), declared once.
# Every Cython file of the package cimports from here; nothing re-declares it.

from libc.stdint cimport int32_t, int64_t, uint64_t

cdef extern from "fastsmce.h" nogil:
    # ---- common ----------------------------------------------------------
    ctypedef enum fs_dtype:
        FS_FLOAT32
        FS_FLOAT64
    ctypedef enum fs_status:
        FS_OK
        FS_ERR_NOMEM
        FS_ERR_ARG
    ctypedef enum fs_isa:
        FS_ISA_SCALAR
        FS_ISA_COUNT
    fs_isa fs_init(const char *request, int *downgraded)
    fs_isa fs_active_isa()
    int fs_isa_compiled(fs_isa isa)
    int fs_isa_supported(fs_isa isa)
    const char *fs_isa_name(fs_isa isa)
    const char *fs_compiler()
    void fs_exp(fs_dtype dt, const void *x, void *y, int64_t n)

    # ---- softmax family ----------------------------------------------------
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
    # one long row split across threads (fixed chunks, folded in order)
    int64_t fs_row_chunk()
    int64_t fs_row_block()
    int64_t fs_long_row(fs_dtype dt)
    void fs_chunk_stats(fs_dtype dt, const void *x, int64_t n, double *m, double *s)
    void fs_stats_fold(double *M, double *S, double m, double s)
    void fs_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double scale)
    void fs_softmax_chunk_exp(fs_dtype dt, const void *x, void *y, int64_t n, double *mb, double *m,
                              double *s)
    int fs_softmax_chunk_scale(fs_dtype dt, void *y, int64_t n, const double *mb, double M, double S,
                               int check)
    int fs_flag_values(fs_dtype dt, const void *y, int64_t n, int nan)
    void fs_log_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double c)
    double fs_stats_logsumexp(fs_dtype dt, const void *x, int64_t n, double M, double S)

    # ---- cross-entropy (fastsmce_xent.h) -----------------------------------
    ctypedef struct fs_xent_args:
        int64_t rows, cols
        const void *x
        int64_t x_rs, x_cs
        const int64_t *label
        int64_t label_s
        int64_t ignore_index
        const void *prob
        int64_t p_rs, p_cs
        const void *weight
        double weight_sum
        double smoothing
        double grad_scale
        void *grad
        int64_t g_rs, g_cs
        double *loss
        double softcap
        double z_grad
        double *lse
    int fs_cross_entropy_2d(fs_dtype dt, const fs_xent_args *a)
    ctypedef struct fs_lce_block:
        int64_t rows, cols, ld
        void *z
        int64_t class0
        const int64_t *label
        int64_t ignore_index
        const void *weight
        double softcap
        double *m
        double *s
        double *zy
        double *wz
        const double *k
        const double *ky
        double kb
        double *gmax
    int fs_lce_stats(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1)
    int fs_lce_grad(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1)

    # ---- sigmoid family (fastsmce_sigmoid.h) -------------------------------
    ctypedef struct fs_binary_loss_args:
        int64_t rows, cols
        const void *x
        int64_t x_rs, x_cs
        const void *z
        int64_t z_rs, z_cs
        const int64_t *indptr
        const int64_t *indices
        const int32_t *indptr32
        const int32_t *indices32
        const double *data
        const void *w
        int64_t w_rs, w_cs
        const void *pw
        int64_t pw_rs, pw_cs
        void *loss
        int64_t loss_rs, loss_cs
        void *grad
        int64_t g_rs, g_cs
        double grad_scale
    int fs_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs)
    int fs_log_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                          int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs)
    int fs_bce_with_logits_2d(fs_dtype dt, const fs_binary_loss_args *a, double *sum, int64_t *bad)
    int fs_sigmoid_focal_2d(fs_dtype dt, const fs_binary_loss_args *a, double alpha, double gamma,
                            double *sum, int64_t *bad)
    int64_t fs_count_outside_unit_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *z,
                                     int64_t z_rs, int64_t z_cs)
    int fs_csr_indptr_check(const void *indptr, int index_bytes, int64_t rows, int64_t *out)
    int fs_csr_indices_check(const int64_t *indptr, const void *indices, int index_bytes,
                             int64_t r0, int64_t r1, int64_t cols, int64_t *out)

    # ---- sampling family (fastsmce_sampling.h) -----------------------------
    ctypedef struct fs_sampler:
        int kind
        int64_t range
        const double *prob
        const double *accept
        const int64_t *alias
    int fs_alias_build(const double *w, int64_t n, double *prob, double *accept, int64_t *alias)
    int fs_sampler_draw(const fs_sampler *s, uint64_t seed, int64_t num_sampled, int unique,
                        int64_t *out, int64_t *num_tries)
    void fs_sampler_expected_count(const fs_sampler *s, const int64_t *v, int64_t n,
                                   int64_t num_sampled, int64_t num_tries, float *out)
    ctypedef struct fs_sampled_args:
        int mode
        int grad
        int64_t n, d, num_true, num_sampled, ks
        const void *x
        int64_t ldx
        const void *wk
        const void *tcorr
        const void *scorr
        const int64_t *tcol
        const int64_t *scol
        const int64_t *hit_head
        const int64_t *hit_next
        void *logits
        void *gtrue
        double scale
        double *loss
    int fs_sampled_unique(const int64_t *sampled, int64_t S, const int64_t *labels, int64_t nl,
                          int64_t *uids, int64_t *K, int64_t *ks, int64_t *scol, int64_t *tcol,
                          int64_t *hit_head, int64_t *hit_next, int64_t *lab_head, int64_t *lab_next)
    void fs_sampled_gather_rows(fs_dtype dt, const void *src, int64_t rs, int64_t cs,
                                const int64_t *ids, int64_t k, int64_t d, void *dst)
    int fs_sampled_rows(fs_dtype dt, const fs_sampled_args *a, int64_t r0, int64_t r1)
    void fs_sampled_add_true_dx(fs_dtype dt, const fs_sampled_args *a, int64_t r0, int64_t r1,
                                void *dx)
    void fs_sampled_add_true_dw(fs_dtype dt, const fs_sampled_args *a, const int64_t *lab_head,
                                const int64_t *lab_next, int64_t u0, int64_t u1, void *dw)

# OpenMP shims (the module builds and runs single-threaded without OpenMP)
cdef extern from "_omp.h" nogil:
    int fs_omp_enabled()
    int fs_omp_max_threads()
    const char *fs_threading_layer()
    int fs_omp_missing()
