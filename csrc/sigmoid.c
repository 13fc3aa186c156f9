/* Public entry points of the sigmoid family (csrc/fastsmce_sigmoid.h): pick the
 * active (ISA, dtype) table and call it. */
#include "fastsmce.h"
#include "kernels/kernels.h"

#define FS_CHECK_DT(dt) \
    if ((dt) != FS_FLOAT32 && (dt) != FS_FLOAT64) return FS_ERR_ARG

int fs_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs, int64_t x_cs,
                  void *y, int64_t y_rs, int64_t y_cs) {
    FS_CHECK_DT(dt);
    if (rows < 0 || cols < 0) return FS_ERR_ARG;
    return fs_kernels(dt)->sigmoid_2d(rows, cols, x, x_rs, x_cs, y, y_rs, y_cs);
}

int fs_log_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs) {
    FS_CHECK_DT(dt);
    if (rows < 0 || cols < 0) return FS_ERR_ARG;
    return fs_kernels(dt)->log_sigmoid_2d(rows, cols, x, x_rs, x_cs, y, y_rs, y_cs);
}

static int fs_binary_args_ok(const fs_binary_loss_args *a) {
    return a && a->rows >= 0 && a->cols >= 0 && (a->z || a->indptr || a->indptr32);
}

int fs_bce_with_logits_2d(fs_dtype dt, const fs_binary_loss_args *a, double *sum, int64_t *bad) {
    FS_CHECK_DT(dt);
    if (!fs_binary_args_ok(a) || !sum || !bad) return FS_ERR_ARG;
    return fs_kernels(dt)->bce_2d(a, sum, bad);
}

int fs_sigmoid_focal_2d(fs_dtype dt, const fs_binary_loss_args *a, double alpha, double gamma,
                        double *sum, int64_t *bad) {
    FS_CHECK_DT(dt);
    if (!fs_binary_args_ok(a) || !a->z || a->w || a->pw || !sum || !bad || !(gamma >= 0))
        return FS_ERR_ARG;
    return fs_kernels(dt)->focal_2d(a, alpha, gamma, sum, bad);
}

int64_t fs_count_outside_unit_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *z, int64_t z_rs,
                                 int64_t z_cs) {
    if ((dt != FS_FLOAT32 && dt != FS_FLOAT64) || rows < 0 || cols < 0) return -1;
    return fs_kernels(dt)->count_outside_unit_2d(rows, cols, z, z_rs, z_cs);
}

/* the structure checks of a CSR target (fastsmce_sigmoid.h); integer work, so any
 * dtype's table serves: float32's */
int fs_csr_indptr_check(const void *indptr, int index_bytes, int64_t rows, int64_t *out) {
    if (!indptr || rows < 0 || (index_bytes != 4 && index_bytes != 8)) return -1;
    return fs_kernels(FS_FLOAT32)->csr_indptr_check(indptr, index_bytes == 8, rows, out);
}

int fs_csr_indices_check(const int64_t *indptr, const void *indices, int index_bytes, int64_t r0,
                         int64_t r1, int64_t cols, int64_t *out) {
    if (!indptr || (!indices && indptr[r1] > indptr[r0]) || r0 < 0 || r1 < r0 || cols < 0 ||
        (index_bytes != 4 && index_bytes != 8))
        return -1;
    return fs_kernels(FS_FLOAT32)->csr_indices_check(indptr, indices, index_bytes == 8, r0, r1, cols, out);
}
