/*
 * Sampling family, public C entry points (csrc/fastsmce_sampling.h): the
 * candidate samplers and the dtype/ISA dispatch of the sampled-softmax kernels
 * (csrc/kernels/sampled.inc).
 *
 * The generator is SplitMix64 used as a counter-based stream: draw i of seed s
 * is a fixed function of (s, i), so a seed gives the same classes on every
 * machine and for any thread count.  Integers below n use Lemire's
 * multiply-shift with rejection (no modulo bias); uniform doubles take 53 bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fastsmce.h"
#include "kernels/kernels.h"

/* ---- generator ----------------------------------------------------------- */

typedef struct { uint64_t s; } fs_rng;

static uint64_t rng_next(fs_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) with 53 random bits */
static double rng_unit(fs_rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* high and low 64 bits of a * b, portably */
static uint64_t mul_hi_lo(uint64_t a, uint64_t b, uint64_t *lo) {
    uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    *lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* uniform integer in [0, n), n >= 1 (Lemire 2019) */
static int64_t rng_below(fs_rng *r, uint64_t n) {
    uint64_t lo, hi = mul_hi_lo(rng_next(r), n, &lo);
    if (lo < n) {
        uint64_t floor_ = (0 - n) % n;
        while (lo < floor_) hi = mul_hi_lo(rng_next(r), n, &lo);
    }
    return (int64_t)hi;
}

/* ---- a set / map of int64 keys (open addressing) --------------------------- */

typedef struct { int64_t *key, *val; uint64_t mask; } fs_map;

static int map_init(fs_map *m, int64_t n) {
    uint64_t cap = 16;
    while (cap < (uint64_t)n * 2) cap <<= 1;
    m->key = (int64_t *)malloc(cap * 2 * sizeof(int64_t));
    if (!m->key) return FS_ERR_NOMEM;
    m->val = m->key + cap;
    m->mask = cap - 1;
    memset(m->key, 0xFF, cap * sizeof(int64_t)); /* -1: empty */
    return FS_OK;
}

static uint64_t map_hash(int64_t k) {
    uint64_t z = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    return z ^ (z >> 29);
}

/* the slot of key k (keys are >= 0): found (key == k) or empty (key == -1) */
static uint64_t map_slot(const fs_map *m, int64_t k) {
    uint64_t h = map_hash(k) & m->mask;
    while (m->key[h] != k && m->key[h] != -1) h = (h + 1) & m->mask;
    return h;
}

/* ---- samplers ------------------------------------------------------------ */

int fs_alias_build(const double *w, int64_t n, double *prob, double *accept, int64_t *alias) {
    double total = 0;
    int64_t i, ns = 0, nl = 0, *small, *large;
    if (n < 1) return FS_ERR_ARG;
    for (i = 0; i < n; i++) {
        if (!(w[i] >= 0) || w[i] == INFINITY) return FS_ERR_ARG;
        total += w[i];
    }
    if (!(total > 0) || total == INFINITY) return FS_ERR_ARG;
    small = (int64_t *)malloc((size_t)n * 2 * sizeof(int64_t));
    if (!small) return FS_ERR_NOMEM;
    large = small + n;
    for (i = 0; i < n; i++) {
        prob[i] = w[i] / total;
        accept[i] = prob[i] * (double)n;
        alias[i] = i;
        if (accept[i] < 1) small[ns++] = i;
        else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) { /* Vose: pair the last small with the last large */
        int64_t s = small[--ns], l = large[nl - 1];
        alias[s] = l;
        accept[l] -= 1 - accept[s];
        if (accept[l] < 1) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl > 0) accept[large[--nl]] = 1; /* leftovers (rounding) take themselves */
    while (ns > 0) accept[small[--ns]] = 1;
    free(small);
    return FS_OK;
}

double fs_sampler_prob(const fs_sampler *s, int64_t v) {
    if (v < 0 || v >= s->range) return 0;
    if (s->kind == FS_SAMPLER_UNIFORM) return 1.0 / (double)s->range;
    if (s->kind == FS_SAMPLER_LOG_UNIFORM)
        return log(((double)v + 2.0) / ((double)v + 1.0)) / log1p((double)s->range);
    return s->prob[v];
}

static int64_t sampler_one(const fs_sampler *s, fs_rng *r, double log_range) {
    int64_t v;
    if (s->kind == FS_SAMPLER_UNIFORM) return rng_below(r, (uint64_t)s->range);
    if (s->kind == FS_SAMPLER_LOG_UNIFORM) { /* TensorFlow's inverse CDF */
        v = (int64_t)exp(rng_unit(r) * log_range) - 1;
        return v < 0 ? 0 : v >= s->range ? s->range - 1 : v;
    }
    v = rng_below(r, (uint64_t)s->range);
    return rng_unit(r) < s->accept[v] ? v : s->alias[v];
}

int fs_sampler_draw(const fs_sampler *s, uint64_t seed, int64_t num_sampled, int unique,
                    int64_t *out, int64_t *num_tries) {
    fs_rng r = {seed};
    double log_range = log1p((double)s->range);
    int64_t i, tries = 0, possible = s->range;
    fs_map m;
    if (s->range < 1 || num_sampled < 0) return FS_ERR_ARG;
    if (!unique) {
        for (i = 0; i < num_sampled; i++) out[i] = sampler_one(s, &r, log_range);
        *num_tries = num_sampled;
        return FS_OK;
    }
    if (s->kind == FS_SAMPLER_UNIGRAM)
        for (i = 0, possible = 0; i < s->range; i++) possible += s->prob[i] > 0;
    if (num_sampled > possible) return FS_ERR_ARG;
    if (map_init(&m, num_sampled)) return FS_ERR_NOMEM;
    for (i = 0; i < num_sampled;) {
        int64_t v = sampler_one(s, &r, log_range);
        uint64_t h = map_slot(&m, v);
        if (++tries > 2147483647) {
            free(m.key);
            return FS_ERR_ARG;
        }
        if (m.key[h] == -1) {
            m.key[h] = v;
            out[i++] = v;
        }
    }
    free(m.key);
    *num_tries = tries;
    return FS_OK;
}

void fs_sampler_expected_count(const fs_sampler *s, const int64_t *v, int64_t n,
                               int64_t num_sampled, int64_t num_tries, float *out) {
    int64_t i;
    for (i = 0; i < n; i++) {
        double p = fs_sampler_prob(s, v[i]);
        out[i] = (float)(num_tries == num_sampled ? p * (double)num_sampled
                                                  : -expm1((double)num_tries * log1p(-p)));
    }
}

/* ---- sampled softmax: ids, then the kernels -------------------------------- */

int fs_sampled_unique(const int64_t *sampled, int64_t S, const int64_t *labels, int64_t nl,
                      int64_t *uids, int64_t *K, int64_t *ks, int64_t *scol, int64_t *tcol,
                      int64_t *hit_head, int64_t *hit_next, int64_t *lab_head, int64_t *lab_next) {
    fs_map m;
    int64_t i, k = 0;
    if (map_init(&m, S + nl)) return FS_ERR_NOMEM;
    for (i = 0; i < S + nl; i++) {
        int64_t v = i < S ? sampled[i] : labels[i - S];
        uint64_t h = map_slot(&m, v);
        if (m.key[h] == -1) {
            m.key[h] = v;
            m.val[h] = k;
            uids[k++] = v;
        }
        if (i < S) scol[i] = m.val[h];
        else tcol[i - S] = m.val[h];
        if (i + 1 == S) *ks = k;
    }
    if (S == 0) *ks = 0;
    *K = k;
    free(m.key);
    for (i = 0; i < k; i++) hit_head[i] = lab_head[i] = -1;
    for (i = S - 1; i >= 0; i--) {
        hit_next[i] = hit_head[scol[i]];
        hit_head[scol[i]] = i;
    }
    for (i = nl - 1; i >= 0; i--) {
        lab_next[i] = lab_head[tcol[i]];
        lab_head[tcol[i]] = i;
    }
    return FS_OK;
}

void fs_sampled_gather_rows(fs_dtype dt, const void *src, int64_t rs, int64_t cs,
                            const int64_t *ids, int64_t k, int64_t d, void *dst) {
    fs_kernels(dt)->sampled_gather_rows(src, rs, cs, ids, k, d, dst);
}

int fs_sampled_rows(fs_dtype dt, const fs_sampled_args *a, int64_t r0, int64_t r1) {
    return fs_kernels(dt)->sampled_rows(a, r0, r1);
}

void fs_sampled_add_true_dx(fs_dtype dt, const fs_sampled_args *a, int64_t r0, int64_t r1, void *dx) {
    fs_kernels(dt)->sampled_add_true_dx(a, r0, r1, dx);
}

void fs_sampled_add_true_dw(fs_dtype dt, const fs_sampled_args *a, const int64_t *lab_head,
                            const int64_t *lab_next, int64_t u0, int64_t u1, void *dw) {
    fs_kernels(dt)->sampled_add_true_dw(a, lab_head, lab_next, u0, u1, dw);
}
