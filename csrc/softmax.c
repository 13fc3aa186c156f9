/* Public entry points of the softmax family (csrc/fastsmce.h): check the
 * arguments and call the active (ISA, dtype) kernels (csrc/kernels/softmax.inc). */
#include "fastsmce.h"
#include "kernels/kernels.h"
#include "simd/common.h" /* FS_CHUNK, FS_BLOCK, FS_LONG_BYTES, fs_fold_stats */

#define FS_CHECK(dt, rows, cols)                                           \
    if ((unsigned)(dt) > FS_FLOAT64 || (rows) < 0 || (cols) < 0) return FS_ERR_ARG

int fs_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs, int64_t x_cs,
                  void *y, int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_kernels(dt)->softmax_2d(rows, cols, x, x_rs, x_cs, y, y_rs, y_cs);
}

int fs_log_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_kernels(dt)->log_softmax_2d(rows, cols, x, x_rs, x_cs, y, y_rs, y_cs);
}

int fs_logsumexp_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs, int64_t x_cs,
                    void *y, int64_t y_s) {
    FS_CHECK(dt, rows, cols);
    return fs_kernels(dt)->logsumexp_2d(rows, cols, x, x_rs, x_cs, y, y_s);
}

int fs_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *g, int64_t g_rs,
                           int64_t g_cs, const void *p, int64_t p_rs, int64_t p_cs, void *y,
                           int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_kernels(dt)->softmax_backward_2d(rows, cols, g, g_rs, g_cs, p, p_rs, p_cs, y, y_rs, y_cs);
}

int fs_log_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *g, int64_t g_rs,
                               int64_t g_cs, const void *lp, int64_t lp_rs, int64_t lp_cs, void *y,
                               int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_kernels(dt)->log_softmax_backward_2d(rows, cols, g, g_rs, g_cs, lp, lp_rs, lp_cs, y, y_rs,
                                                   y_cs);
}

int64_t fs_row_chunk(void) { return FS_CHUNK; }

int64_t fs_long_row(fs_dtype dt) { return FS_LONG_BYTES / (dt == FS_FLOAT64 ? 8 : 4); }

void fs_chunk_stats(fs_dtype dt, const void *x, int64_t n, double *m, double *s) {
    fs_kernels(dt)->chunk_stats(x, n, m, s);
}

/* the active path's fold (its unit's FMA contraction): bit-identical to the kernels' */
void fs_stats_fold(double *M, double *S, double m, double s) { fs_kernels(FS_FLOAT64)->stats_fold(M, S, m, s); }

void fs_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double scale) {
    fs_kernels(dt)->softmax_write(x, y, n, m, scale);
}

int64_t fs_row_block(void) { return FS_BLOCK; }

void fs_softmax_chunk_exp(fs_dtype dt, const void *x, void *y, int64_t n, double *mb, double *m, double *s) {
    fs_kernels(dt)->softmax_chunk_exp(x, y, n, mb, m, s);
}

int fs_softmax_chunk_scale(fs_dtype dt, void *y, int64_t n, const double *mb, double M, double S, int check) {
    return fs_kernels(dt)->softmax_chunk_scale(y, n, mb, M, S, check);
}
int fs_flag_values(fs_dtype dt, const void *y, int64_t n, int nan) {
    return fs_kernels(dt)->flag_values(y, n, nan);
}

void fs_log_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double c) {
    fs_kernels(dt)->log_softmax_write(x, y, n, m, c);
}

double fs_stats_logsumexp(fs_dtype dt, const void *x, int64_t n, double M, double S) {
    return fs_kernels(dt)->stats_logsumexp(x, n, M, S);
}

void fs_exp(fs_dtype dt, const void *x, void *y, int64_t n) { fs_kernels(dt)->exp_array(x, y, n); }
