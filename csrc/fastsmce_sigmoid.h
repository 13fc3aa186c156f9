/*
 * fastsmce C API, sigmoid family (included by fastsmce.h; kernels in csrc/kernels/sigmoid.inc):
 * elementwise sigmoid / log-sigmoid, binary cross-entropy with logits (dense or
 * sparse positive targets) and the sigmoid focal loss, each loss fused with its
 * gradient.  Sizes and strides are int64 element counts (strides may be 0 or
 * negative); every entry point is single-threaded and re-entrant.
 */
#ifndef FASTSMCE_SIGMOID_H
#define FASTSMCE_SIGMOID_H

#include <stdint.h>
#include "fastsmce.h" /* fs_dtype, status codes */

#ifdef __cplusplus
extern "C" {
#endif

/* y = 1 / (1 + exp(-x)) elementwise over a rows x cols view (y may be x) */
int fs_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs, int64_t x_cs,
                  void *y, int64_t y_rs, int64_t y_cs);
/* y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) elementwise (y may be x) */
int fs_log_sigmoid_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs);

/* One rows x cols problem of a binary loss with logits x (classes along cols).
 * Element (r, c) of array a lives at a[r * a_rs + c * a_cs]; every array has
 * the dtype of the call.
 *
 *   target  dense: z (values in [0, 1]);  or sparse positives (z == NULL):
 *           row r has targets data[k] (1 when data == NULL) at the columns
 *           indices[k], k in [indptr[r], indptr[r + 1]), each column at most
 *           once, every other target 0; indices32 (when not NULL) holds the
 *           columns as int32 instead of indices, indptr32 (when not NULL) the
 *           row starts as int32 instead of indptr.
 *   w       elementwise weight (NULL: 1), pw pos_weight (NULL: 1).
 *   loss    per-element loss output (reduction "none"), or NULL: then the
 *           losses are summed into *sum instead.
 *   grad    d loss / d x times grad_scale, or NULL.
 * The outputs may alias x exactly (in place), never z, w or pw. */
typedef struct fs_binary_loss_args {
    int64_t rows, cols;
    const void *x;
    int64_t x_rs, x_cs;
    const void *z;
    int64_t z_rs, z_cs;
    const int64_t *indptr, *indices;
    const int32_t *indptr32, *indices32;
    const double *data;
    const void *w;
    int64_t w_rs, w_cs;
    const void *pw;
    int64_t pw_rs, pw_cs;
    void *loss;
    int64_t loss_rs, loss_cs;
    void *grad;
    int64_t g_rs, g_cs;
    double grad_scale;
} fs_binary_loss_args;

/* Binary cross-entropy with logits, PyTorch's BCEWithLogitsLoss per element:
 *   w * ((1 - z) * softplus(x) + pw * z * softplus(-x))
 * (= w * ((1 - z) x + (1 + (pw - 1) z) softplus(-x)), with no cancellation),
 * gradient w * ((1 - z) * sigmoid(x) - pw * z * sigmoid(-x)).
 * *sum (when loss == NULL): the sum of the losses in double, in a fixed order
 * (rows in order; within a row FS_BLOCK blocks; rows that are contiguous one
 * after the other, with dense targets and no per-class or per-row operand, are
 * summed as one row).  *bad: bit 0 (1) when a dense target lies outside
 * [0, 1] or is NaN; sparse targets check their own structure as they are read:
 * bit 1 (2) when a column index lies outside [0, cols) (never used to address
 * memory; the outputs of the rows around it are void, the caller raises), bit 2 (4)
 * when some row's indices do not strictly increase (unsorted rows are computed
 * correctly; a column given twice is not: the caller looks for repeats and
 * raises); the values in data are the caller's to check.  Sparse rows take one
 * of three ways (groups of whole rows when the rows are contiguous one after the
 * other, up to 4096 elements):
 *   - at most 1/8 positives (not in place): every column as a zero target (no z
 *     read, the cheaper z = 0 arithmetic), then the positives packed with their
 *     targets and weights through the dense kernel, their loss and gradient
 *     written over; the sum takes the positives' zero-target share back, unless
 *     that share exceeds half the group's sum (softplus(1e30) - 1e30 would
 *     cancel): such a group takes the scattered target;
 *   - loss-only sums of long rows with few positives (runs of >= 256 columns
 *     between them): the runs summed as zero targets, each positive's own loss
 *     added in double;
 *   - otherwise the dense kernel on an O(cols + 4096)-element zeroed scratch
 *     target the positives are scattered into.
 * Loss-only zero-target sums without a per-element weight sum log1p(exp(-|x|))
 * in float32 as the log of a float64 product: absolute error at most ~3e-16 per
 * element instead of a relative one.
 * Returns FS_OK, FS_ERR_NOMEM (row scratch for strided rows) or FS_ERR_ARG. */
int fs_bce_with_logits_2d(fs_dtype dt, const fs_binary_loss_args *a, double *sum, int64_t *bad);

/* torchvision's sigmoid_focal_loss per element, in log space:
 *   a_t * ce * (1 - p_t)^gamma,  ce = BCE(x, z), p_t = p z + (1 - p)(1 - z),
 *   a_t = alpha z + (1 - alpha)(1 - z) (1 when alpha < 0);
 * dense targets only (a->z), no w / pw (they must be NULL).  gamma >= 0. */
int fs_sigmoid_focal_2d(fs_dtype dt, const fs_binary_loss_args *a, double alpha, double gamma,
                        double *sum, int64_t *bad);

/* 1 when an element of a rows x cols view lies outside [0, 1] or is NaN, else 0 */
int64_t fs_count_outside_unit_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *z, int64_t z_rs,
                                 int64_t z_cs);

/* CSR target checks (the caller's validation before a sparse-target BCE call).
 * index_bytes: 4 (int32) or 8 (int64) for the given array.
 * fs_csr_indptr_check: 1 when indptr (rows + 1 entries) does not start at 0 or
 * decreases somewhere, else 0; out (when not NULL): indptr as int64.
 * fs_csr_indices_check: on rows [r0, r1) of a validated int64 indptr, 1 when an
 * index lies outside [0, cols), else 2 when some row's indices do not strictly
 * increase (a duplicate is possible: the caller checks), else 0; out (when not
 * NULL): those rows' indices as int64 at their offsets.  Both: -1 for bad
 * arguments. */
int fs_csr_indptr_check(const void *indptr, int index_bytes, int64_t rows, int64_t *out);
int fs_csr_indices_check(const int64_t *indptr, const void *indices, int index_bytes, int64_t r0,
                         int64_t r1, int64_t cols, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
