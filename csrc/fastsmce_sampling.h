/*
 * fastsmce C API, sampling family (included by fastsmce.h; kernels in csrc/kernels/sampled.inc):
 * candidate samplers (TensorFlow's semantics, a seeded counter-based generator)
 * and the pieces of sampled softmax / NCE that are not matrix products.
 *
 * A sampled-softmax step over N examples of dimension D, num_true labels each,
 * S sampled classes:
 *   fs_sampled_unique      the K unique class ids (sampled ones first, in draw
 *                          order, then the true labels not sampled), the column
 *                          of each sampled / true id, and the lists that find
 *                          accidental hits and a class's true-label positions;
 *   fs_sampled_gather_rows the K weight rows (and biases) into a dense K x D block;
 *   (the caller)           logits = inputs @ rows[:ks]^T   (BLAS, N x ks)
 *   fs_sampled_rows        per example: the true logits (row dots), log-Q and
 *                          hit masking, softmax or sigmoid cross-entropy, the
 *                          loss and, in place of the logits, d loss / d logits;
 *   (the caller)           d inputs = G @ rows[:ks];  d rows[:ks] = G^T @ [inputs, 1]
 *                          (a column of ones after the inputs makes the last
 *                          column of that product d biases: no separate pass);
 *   fs_sampled_add_true_dx / fs_sampled_add_true_dw   the true-label terms.
 * Every function is single-threaded and re-entrant; results do not depend on how
 * the caller splits rows or classes across threads.
 */
#ifndef FASTSMCE_SAMPLING_H
#define FASTSMCE_SAMPLING_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- candidate samplers -------------------------------------------------- */
typedef enum { FS_SAMPLER_UNIFORM = 0, FS_SAMPLER_LOG_UNIFORM = 1, FS_SAMPLER_UNIGRAM = 2 } fs_sampler_kind;

typedef struct fs_sampler {
    int kind;              /* fs_sampler_kind */
    int64_t range;         /* classes 0 .. range-1 */
    const double *prob;    /* unigram: probability of each class (range values) */
    const double *accept;  /* unigram: alias table, acceptance probability */
    const int64_t *alias;  /* unigram: alias table, the other class */
} fs_sampler;

/* Vose's alias table for the distribution proportional to w (n >= 1 values,
 * finite, >= 0, positive sum): prob = w / sum(w), accept and alias of n values.
 * FS_ERR_ARG for a bad w, FS_ERR_NOMEM when its O(n) scratch fails. */
int fs_alias_build(const double *w, int64_t n, double *prob, double *accept, int64_t *alias);

/* Probability the sampler gives class v (0 outside 0..range-1). */
double fs_sampler_prob(const fs_sampler *s, int64_t v);

/* num_sampled draws from the stream of `seed` into out.  unique: without
 * replacement, by rejection (TensorFlow's scheme); *num_tries receives the
 * number of draws made.  FS_ERR_ARG when unique and num_sampled exceeds the
 * classes of nonzero probability, or when 2^31 - 1 draws did not finish. */
int fs_sampler_draw(const fs_sampler *s, uint64_t seed, int64_t num_sampled, int unique,
                    int64_t *out, int64_t *num_tries);

/* TensorFlow's expected count of each v[i]: p * num_sampled when num_tries ==
 * num_sampled, else -expm1(num_tries * log1p(-p)). */
void fs_sampler_expected_count(const fs_sampler *s, const int64_t *v, int64_t n,
                               int64_t num_sampled, int64_t num_tries, float *out);

/* ---- sampled softmax / NCE --------------------------------------------- */
/* ids of the step: sampled (S) then true labels (nl = N * num_true), all >= 0.
 * Out: uids (K <= S + nl unique ids; the first *ks are the distinct sampled
 * ids), scol (S) and tcol (nl) their index into uids, and two linked lists in
 * increasing position order: hit_head (K) / hit_next (S) the sampled positions
 * of each unique id, lab_head (K) / lab_next (nl) its true-label positions
 * (-1 ends a list).  Every output array is sized by the caller for K = S + nl. */
int fs_sampled_unique(const int64_t *sampled, int64_t S, const int64_t *labels, int64_t nl,
                      int64_t *uids, int64_t *K, int64_t *ks, int64_t *scol, int64_t *tcol,
                      int64_t *hit_head, int64_t *hit_next, int64_t *lab_head, int64_t *lab_next);

/* dst[u, :] = src[ids[u], :] for u < k (dst dense k x d; src strides in elements) */
void fs_sampled_gather_rows(fs_dtype dt, const void *src, int64_t rs, int64_t cs,
                            const int64_t *ids, int64_t k, int64_t d, void *dst);

typedef enum { FS_SAMPLED_SOFTMAX = 0, FS_SAMPLED_NCE = 1 } fs_sampled_mode;

typedef struct fs_sampled_args {
    int mode;                 /* fs_sampled_mode */
    int grad;                 /* nonzero: write the gradients */
    int64_t n, d, num_true, num_sampled;
    int64_t ks;               /* logits columns: the distinct sampled ids */
    const void *x;            /* (n, d) inputs, row stride ldx >= d */
    int64_t ldx;
    const void *wk;           /* (K, d) gathered weight rows, dense */
    const void *tcorr;        /* (n, num_true) bias - log Q of each true column */
    const void *scorr;        /* (S) bias - log Q of each sampled column */
    const int64_t *tcol;      /* (n, num_true) row of wk of each true label */
    const int64_t *scol;      /* (S) column of logits of each sample; NULL: j -> j */
    const int64_t *hit_head;  /* accidental hits to remove (fs_sampled_unique); NULL: keep */
    const int64_t *hit_next;
    void *logits;             /* (n, ks) in: inputs @ wk[:ks]^T; out (grad): d loss / d logits */
    void *gtrue;              /* (n, num_true) out (grad): d loss / d true logits */
    double scale;             /* gradient scale (1 / n for a mean) */
    double *loss;             /* (n) out: each example's loss */
} fs_sampled_args;

/* examples r0 .. r1-1; FS_ERR_NOMEM when the O(num_true + S) scratch fails */
int fs_sampled_rows(fs_dtype dt, const fs_sampled_args *a, int64_t r0, int64_t r1);
/* dx[i, :] += sum_t gtrue[i, t] * wk[tcol[i, t], :] for i in r0 .. r1-1 */
void fs_sampled_add_true_dx(fs_dtype dt, const fs_sampled_args *a, int64_t r0, int64_t r1, void *dx);
/* for classes u in u0 .. u1-1, rows of dw (K, ldx): rows at or past ks start at
 * 0; then every true-label position p of u (lab lists), in order of p, adds
 * gtrue[p] times the whole row p / num_true of x (ldx values: with x = [inputs, 1]
 * the last column of dw receives d biases) */
void fs_sampled_add_true_dw(fs_dtype dt, const fs_sampled_args *a, const int64_t *lab_head,
                            const int64_t *lab_next, int64_t u0, int64_t u1, void *dw);

#ifdef __cplusplus
}
#endif
#endif
