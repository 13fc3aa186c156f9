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

#ifdef __cplusplus
}
#endif
#endif
