/*
 * fastsmce C API, cross-entropy family (included by fastsmce.h).
 *
 * Cross-entropy from logits over a strided 2-D view (rows x classes), with
 * PyTorch's semantics (torch.nn.functional.cross_entropy):
 *   u_c  = w_c * t'_c,  t' = (1 - eps) * target + eps / C   (target: one-hot of the
 *          class index, or a row of class probabilities); w = class weights (1 if none)
 *   loss = sum_c u_c * (logsumexp(x) - x_c)
 *   grad = grad_scale * (softmax(x) * sum_c u_c - u)
 * A row whose class index equals ignore_index gets loss 0 and a zero gradient
 * row.  Per-row losses are written in double; reductions across rows are the
 * caller's (done in a fixed order, so they do not depend on threading).
 */
#ifndef FASTSMCE_XENT_H
#define FASTSMCE_XENT_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_xent_args {
    int64_t rows, cols;
    const void *x;              /* logits, element (r, c) at x[r * x_rs + c * x_cs] */
    int64_t x_rs, x_cs;
    const int64_t *label;       /* class indices (label[r * label_s]); NULL: probability targets */
    int64_t label_s;
    int64_t ignore_index;       /* a label equal to this is skipped */
    const void *prob;           /* probability targets (when label == NULL), like x */
    int64_t p_rs, p_cs;
    const void *weight;         /* class weights, contiguous, `cols` of them; NULL: all 1 */
    double weight_sum;          /* sum of the weights (cols when weight == NULL) */
    double smoothing;           /* label smoothing eps in [0, 1] */
    double grad_scale;          /* multiplies the gradient (1 / total weight for "mean") */
    void *grad;                 /* d loss / d x, like x (may be x itself); NULL: loss only */
    int64_t g_rs, g_cs;
    double *loss;               /* per-row losses, loss[r] */
    /* extras of the fused linear + cross-entropy (0 / NULL: plain cross-entropy; only
     * for class-index targets over contiguous rows, x_cs == 1): */
    double softcap;             /* > 0: every logit becomes softcap * tanh(logit / softcap)
                                 * before the softmax, and the gradient goes through it */
    double z_grad;              /* adds z_grad * lse * softmax(x) to the gradient of each
                                 * counted row (the z-loss z * lse^2: z_grad = 2 z scale) */
    double *lse;                /* out (or NULL): each row's logsumexp of its (capped)
                                 * logits, lse[r]; 0 for an ignored row */
} fs_xent_args;

/* Per-row cross-entropy (and gradient).  Labels must lie in [0, cols) or equal
 * ignore_index (FS_ERR_ARG otherwise, that row's loss NaN); FS_ERR_NOMEM when a
 * strided view's (or softcap's) O(cols) scratch cannot be allocated; FS_ERR_ARG
 * for the extras with probability targets or a strided class axis.  Single-threaded. */
int fs_cross_entropy_2d(fs_dtype dt, const fs_xent_args *a);

/* ---- blocks of classes: the fused linear + cross-entropy (two sweeps over class
 * blocks) and vocabularies split over shards ---------------------------------------
 * A block holds the logits of rows x cols classes, class0 .. class0 + cols - 1 of a
 * larger vocabulary: row r at z + r * ld, classes contiguous.  Per row, over every
 * block in turn, the first sweep (fs_lce_stats) folds the statistics
 *     m = max z,  s = sum exp(z - m),  zy = z[label] (when the label is in the block),
 *     wz = sum_j w_j z_j
 * (z capped first when softcap > 0); from them the caller has each row's
 * lse = m + log s, loss and gradient factor, and the second sweep (fs_lce_grad)
 * turns the recomputed logits of each block into d loss / d z:
 *     g_j = exp(z_j - m) k - kb w_j - [j == label] ky,
 * times 1 - tanh^2(z_j / softcap) under a cap.  Labels are global class ids; rows
 * whose label is ignore_index get a zero gradient row (their statistics are folded
 * all the same).  Single-threaded over rows [r0, r1): callers split rows. */
typedef struct fs_lce_block {
    int64_t rows, cols, ld;     /* the block: rows x cols, row stride ld (elements) */
    void *z;                    /* logits: capped in place by fs_lce_stats when softcap > 0,
                                 * replaced by the gradient by fs_lce_grad */
    int64_t class0;             /* the global class id of column 0 */
    const int64_t *label;       /* rows global class ids, contiguous */
    int64_t ignore_index;
    const void *weight;         /* the block's class weights (cols of them) or NULL: all 1 */
    double softcap;             /* > 0: logits become softcap * tanh(logit / softcap) */
    double *m, *s, *zy, *wz;    /* stats, per row, in/out (wz may be NULL: not summed) */
    const double *k, *ky;       /* grad: per row factors (see above), m the final max */
    double kb;                  /* grad: the smoothing term's factor */
    double *gmax;               /* grad, out or NULL: max |g| of each row over the block */
} fs_lce_block;

int fs_lce_stats(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1);
int fs_lce_grad(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1);

#ifdef __cplusplus
}
#endif
#endif
