/*
 * The C core's own test program: drives the public C API (csrc/fastsmce*.h, no
 * Python) on one SIMD path and checks every kernel family against a long-double
 * reference computed here, with the bounds of DESIGN.md section 3 (softmax
 * family, exp) and the bounds the Python suite asserts on every path (cross-
 * entropy, sigmoid / BCE / focal, sampled softmax).  tests/c/run.sh builds it
 * natively (each x86 path) and for aarch64 under qemu (scalar, neon, sve at
 * several vector lengths).
 *
 *   test_core [PATH] [--quick]   PATH: a name of csrc/isa.h, or "best" (default:
 *                                $FASTSMCE_SIMD, else best); exit 0 when every check passes;
 *                                --quick: fewer lengths, no long rows (~1/4 of the checks)
 *   test_core [PATH] --which     only the "path:" line (what fs_init picks)
 *   test_core --list             "compiled: ..." and "supported: ..." lines, "best: NAME"
 *
 * Output: the path that ran, one line per family (checks, failures, the worst
 * error as a fraction of its bound), digests of the samplers' draws (identical
 * on every path and architecture), "RESULT: PASS" or "RESULT: FAIL".
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fastsmce.h"

typedef long double LD;

/* ---- bookkeeping ----------------------------------------------------------- */
enum { F_EXP, F_SOFTMAX, F_LOGSOFTMAX, F_LSE, F_SMBACK, F_LSMBACK, F_SPECIAL, F_XENT, F_SIGMOID, F_BCE,
       F_FOCAL, F_SAMPLER, F_SAMPLED, F_DETERM, F_LCE, NFAM };
typedef struct {
    const char *name, *bound;
    long checks, fails;
    double worst; /* max err / bound */
    char where[200];
} fam_t;
static fam_t fam[NFAM] = {
    {"exp", "f32 2 ulp, f64 1 ulp (from the correctly rounded value); 0 below the cut-off"},
    {"softmax", "1e-6 / 1e-14 relative (p >= 1e-30)"},
    {"log_softmax", "2e-6 / 1e-14 * max(1, |ref|)"},
    {"logsumexp", "2e-6 / 1e-14 * max(1, |ref|)"},
    {"softmax_backward", "2e-6 / 1e-14 * (|p| (|g| + sum|g p|))"},
    {"log_softmax_backward", "2e-6 / 1e-14 * (|g| + p sum|g|)"},
    {"special values", "exact (NaN / inf / 0 / 1 semantics)"},
    {"cross_entropy", "loss rtol 2e-5 / 1e-12 + atol 2e-6 / 1e-13 * (log C + 10); grad rtol 2e-5 / 1e-12 + atol 2e-6 / 1e-13"},
    {"sigmoid/log_sigmoid", "3 / 2.5 ulp"},
    {"bce (dense, CSR)", "3e-6 / 1e-12 * (|ref| + max|ref|)"},
    {"focal", "3e-6 / 1e-12 * (|ref| + max|ref|)"},
    {"samplers", "exact (deterministic, in range, unique)"},
    {"sampled softmax / NCE", "1e-5 / 1e-12 rtol + 1e-5 / 1e-13 atol"},
    {"determinism", "bit-identical (split vs whole, repeated calls, a long row folded in chunks)"},
    {"class blocks (lce)", "as cross_entropy: lse, target logit, grad rtol 2e-5 / 1e-12 + atol; block maxima cover |grad|"},
};
static int nprinted;

static void record(int f, double err, double bound, const char *fmt, ...) {
    fam_t *F = &fam[f];
    double r = err / bound;
    F->checks++;
    if (!(err <= bound)) {
        va_list ap;
        F->fails++;
        r = isnan(r) ? INFINITY : r;
        if (nprinted++ < 25) {
            va_start(ap, fmt);
            printf("  FAIL [%s] err %.3g bound %.3g: ", F->name, err, bound);
            vprintf(fmt, ap);
            printf("\n");
            va_end(ap);
        }
    }
    if (r > F->worst || (F->checks == 1 && r >= 0)) {
        va_list ap;
        F->worst = r > F->worst ? r : F->worst;
        va_start(ap, fmt);
        vsnprintf(F->where, sizeof F->where, fmt, ap);
        va_end(ap);
    }
}
/* an exact expectation */
#define EXPECT(f, cond, ...) record((f), (cond) ? 0.0 : 1.0, 0.5, __VA_ARGS__)

/* ---- the dtype of the current pass -------------------------------------------- */
static fs_dtype DT;
static size_t SZ;
static int F32(void) { return DT == FS_FLOAT32; }
static void *talloc(int64_t n) { return calloc((size_t)(n > 0 ? n : 1), SZ); }
static LD get(const void *p, int64_t i) { return F32() ? (LD)((const float *)p)[i] : (LD)((const double *)p)[i]; }
static void set(void *p, int64_t i, LD v) {
    if (F32()) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = (double)v;
}
static const char *dtn(void) { return F32() ? "f32" : "f64"; }
/* a quiet NaN with the payload's lowest bit set (NumPy's NaN has none): the float32 exp's
 * fast path once added n from such a NaN's bits to the exponent field, a number came out */
static void set_payload_nan(void *p, int64_t i) {
    if (F32()) { uint32_t b = 0x7fc00001u; memcpy((float *)p + i, &b, 4); }
    else { uint64_t b = 0x7ff8000000000001ull; memcpy((double *)p + i, &b, 8); }
}

/* ---- random numbers (xorshift64*, fixed seeds: every run sees the same data) -- */
static uint64_t rs_state = 88172645463325252ULL;
static void rseed(uint64_t s) { rs_state = s * 0x9E3779B97F4A7C15ULL + 1; }
static double urand(void) {
    rs_state ^= rs_state >> 12;
    rs_state ^= rs_state << 25;
    rs_state ^= rs_state >> 27;
    return (double)((rs_state * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}
static double nrand(void) {
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}
static int64_t irand(int64_t n) { return (int64_t)(urand() * (double)n) % (n > 0 ? n : 1); }

/* ---- a strided 2-D view: element (r, c) at base[off + r * rs + c * cs] ---------- */
typedef struct { int64_t rs, cs, off, size; } view;
enum { L_ROWS, L_COLS, L_STRIDED, L_NEG, NLAYOUT };
static const char *lname[NLAYOUT] = {"rows", "cols", "strided", "negative"};
static view mkview(int64_t rows, int64_t cols, int layout) {
    view v;
    switch (layout) {
    case L_ROWS: v.rs = cols; v.cs = 1; v.off = 0; v.size = rows * cols; break;
    case L_COLS: v.rs = 1; v.cs = rows; v.off = 0; v.size = rows * cols; break; /* reduce along a strided axis */
    case L_STRIDED: v.rs = 2 * cols + 1; v.cs = 2; v.off = 0; v.size = rows * (2 * cols + 1); break;
    default: v.rs = -(3 * cols); v.cs = -3; v.off = (rows - 1) * 3 * cols + 3 * (cols - 1); v.size = rows * 3 * cols; break;
    }
    return v;
}
#define AT(v, r, c) ((v).off + (r) * (v).rs + (c) * (v).cs)
static void *P(void *base, view v) { return (char *)base + v.off * (int64_t)SZ; }
static void fill(void *p, int64_t n, double scale) {
    int64_t i;
    for (i = 0; i < n; i++) set(p, i, nrand() * scale);
}

static double tolf(double f32, double f64) { return F32() ? f32 : f64; }
static LD maxl(LD a, LD b) { return a > b ? a : b; }

/* ulp of the dtype at |v| (subnormal range: of the smallest normal) */
static LD ulp_at(LD v) {
    if (F32()) {
        float a = (float)fabsl(v);
        if (a < FLT_MIN) a = FLT_MIN;
        return (LD)(nextafterf(a, INFINITY) - a);
    } else {
        double a = (double)fabsl(v);
        if (a < DBL_MIN) a = DBL_MIN;
        return (LD)(nextafter(a, INFINITY) - a);
    }
}

/* |got - ref| in ulps of the dtype; results below the smallest normal may be
 * flushed to 0 (DESIGN.md section 4: no subnormal is produced) */
static double ulp_err(LD got, LD ref) {
    const LD tiny = F32() ? (LD)FLT_MIN : (LD)DBL_MIN;
    if (fabsl(ref) < tiny) return fabsl(got - ref) <= tiny ? 0.0 : INFINITY;
    return (double)(fabsl(got - ref) / ulp_at(ref));
}

/* ---- exp ------------------------------------------------------------------------ */
static void test_exp(void) {
    const int64_t n = 40000;
    /* above hi the kernels' 2^n overflows: +inf by design (csrc/simd/common.h FS_EXP_HI) */
    const double lo = F32() ? -104 : -746, hi = F32() ? 88.3762626647949 : 709.4367464;
    const double cut = F32() ? -0x1.5d589ep+6 : -708.3964185322641;
    void *x = talloc(n + 8), *y = talloc(n + 8);
    int64_t i;
    for (i = 0; i < n; i++) set(x, i, lo + (hi - lo) * ((double)i + urand()) / (double)n);
    set(x, n, NAN); set(x, n + 1, -INFINITY); set(x, n + 2, INFINITY); set(x, n + 3, 0.0);
    set(x, n + 4, cut); set(x, n + 5, F32() ? (double)nextafterf((float)cut, -INFINITY) : nextafter(cut, -INFINITY));
    set(x, n + 6, F32() ? 89.0 : 709.5); set(x, n + 7, 1e-30);
    fs_exp(DT, x, y, n + 8);
    for (i = 0; i < n + 8; i++) {
        LD xv = get(x, i), got = get(y, i);
        if (xv != xv) { EXPECT(F_EXP, got != got, "exp(NaN) %s", dtn()); continue; }
        if (xv < (LD)cut) { EXPECT(F_EXP, got == 0 && !signbit((double)got), "exp(%.9Lg) %s = %Lg, not +0", xv, dtn(), got); continue; }
        if (xv > (LD)hi) { EXPECT(F_EXP, isinf((double)got) && got > 0, "exp(%.9Lg) %s = %Lg, not +inf", xv, dtn(), got); continue; }
        {
            LD ref = expl(xv);
            record(F_EXP, ulp_err(got, ref), F32() ? 2.5 : 1.5, "exp(%.17Lg) %s got %.17Lg ref %.17Lg", xv, dtn(), got, ref);
        }
    }
    free(x); free(y);
}

/* ---- the softmax family ----------------------------------------------------------- */
/* reference statistics of row r of x (any view) */
static void ref_stats(const void *x, view v, int64_t r, int64_t n, LD *m, LD *s) {
    int64_t c;
    *m = -INFINITY;
    for (c = 0; c < n; c++) *m = maxl(*m, get(x, AT(v, r, c)));
    *s = 0;
    for (c = 0; c < n; c++) *s += expl(get(x, AT(v, r, c)) - *m);
}

static void test_softmax_case(int64_t rows, int64_t cols, int layout, double scale) {
    view v = mkview(rows, cols, layout);
    void *x = talloc(v.size), *y = talloc(v.size), *g = talloc(v.size), *p = talloc(v.size), *lp = talloc(v.size);
    void *lse = talloc(rows);
    const double tp = tolf(1e-6, 1e-14), tl = tolf(2e-6, 1e-14), tb = tolf(2e-6, 1e-14);
    int64_t r, c;
    int st;
    fill(x, v.size, scale);
    fill(g, v.size, 1.0);
    st = fs_softmax_2d(DT, rows, cols, P(x, v), v.rs, v.cs, P(p, v), v.rs, v.cs);
    st |= fs_log_softmax_2d(DT, rows, cols, P(x, v), v.rs, v.cs, P(lp, v), v.rs, v.cs);
    st |= fs_logsumexp_2d(DT, rows, cols, P(x, v), v.rs, v.cs, lse, 1);
    EXPECT(F_SOFTMAX, st == FS_OK, "status %d", st);
    for (r = 0; r < rows; r++) {
        LD m, s;
        ref_stats(x, v, r, cols, &m, &s);
        for (c = 0; c < cols; c++) {
            LD d = get(x, AT(v, r, c)) - m, ref = expl(d) / s, got = get(p, AT(v, r, c));
            LD lref = d - logl(s);
            record(F_SOFTMAX, (double)fabsl(got - ref), ref >= 1e-30L ? tp * (double)ref : 1e-30,
                   "softmax %s %lldx%lld %s (%lld,%lld) got %.9Lg ref %.9Lg", dtn(), (long long)rows, (long long)cols,
                   lname[layout], (long long)r, (long long)c, got, ref);
            got = get(lp, AT(v, r, c));
            record(F_LOGSOFTMAX, (double)fabsl(got - lref), tl * (double)maxl(1, fabsl(lref)),
                   "log_softmax %s %lldx%lld %s (%lld,%lld) got %.9Lg ref %.9Lg", dtn(), (long long)rows,
                   (long long)cols, lname[layout], (long long)r, (long long)c, got, lref);
        }
        {
            LD ref = m + logl(s), got = get(lse, r);
            record(F_LSE, (double)fabsl(got - ref), tl * (double)maxl(1, fabsl(ref)), "logsumexp %s %lldx%lld %s row %lld got %.9Lg ref %.9Lg",
                   dtn(), (long long)rows, (long long)cols, lname[layout], (long long)r, got, ref);
        }
    }
    /* backward passes, on the computed p / lp */
    st = fs_softmax_backward_2d(DT, rows, cols, P(g, v), v.rs, v.cs, P(p, v), v.rs, v.cs, P(y, v), v.rs, v.cs);
    EXPECT(F_SMBACK, st == FS_OK, "status %d", st);
    for (r = 0; r < rows; r++) {
        LD dot = 0, adot = 0;
        for (c = 0; c < cols; c++) {
            dot += get(g, AT(v, r, c)) * get(p, AT(v, r, c));
            adot += fabsl(get(g, AT(v, r, c)) * get(p, AT(v, r, c)));
        }
        for (c = 0; c < cols; c++) {
            LD pv = get(p, AT(v, r, c)), gv = get(g, AT(v, r, c)), ref = pv * (gv - dot), got = get(y, AT(v, r, c));
            /* p may be subnormal (a block of a long row far below the row's max): its
             * products round to a multiple of the smallest subnormal, hence the floor */
            record(F_SMBACK, (double)fabsl(got - ref),
                   tb * (double)(fabsl(pv) * (fabsl(gv) + adot)) + (F32() ? 0x1p-148 : 1e-300),
                   "softmax_backward %s %lldx%lld %s (%lld,%lld) got %.9Lg ref %.9Lg", dtn(), (long long)rows,
                   (long long)cols, lname[layout], (long long)r, (long long)c, got, ref);
        }
    }
    st = fs_log_softmax_backward_2d(DT, rows, cols, P(g, v), v.rs, v.cs, P(lp, v), v.rs, v.cs, P(y, v), v.rs, v.cs);
    EXPECT(F_LSMBACK, st == FS_OK, "status %d", st);
    for (r = 0; r < rows; r++) {
        LD sg = 0, asg = 0;
        for (c = 0; c < cols; c++) sg += get(g, AT(v, r, c)), asg += fabsl(get(g, AT(v, r, c)));
        for (c = 0; c < cols; c++) {
            LD e = expl(get(lp, AT(v, r, c))), gv = get(g, AT(v, r, c)), ref = gv - e * sg, got = get(y, AT(v, r, c));
            record(F_LSMBACK, (double)fabsl(got - ref), tb * (double)(fabsl(gv) + e * asg) + 1e-300,
                   "log_softmax_backward %s %lldx%lld %s (%lld,%lld) got %.9Lg ref %.9Lg", dtn(), (long long)rows,
                   (long long)cols, lname[layout], (long long)r, (long long)c, got, ref);
        }
    }
    free(x); free(y); free(g); free(p); free(lp); free(lse);
}

/* NaN / inf / huge values at every position of short rows (and as columns) */
static void test_softmax_special(int64_t n) {
    const int64_t rows = 7;
    int layout;
    for (layout = 0; layout < 2; layout++) {
        view v = mkview(rows, n, layout);
        void *x = talloc(v.size), *p = talloc(v.size), *lp = talloc(v.size), *lse = talloc(rows);
        int64_t c, k = n - 1; /* the special value in the tail */
        fill(x, v.size, 2.0);
        set(x, AT(v, 0, k), NAN);
        set(x, AT(v, 1, k), INFINITY);
        for (c = 0; c < n; c++) set(x, AT(v, 2, c), -INFINITY);
        set(x, AT(v, 3, k), -INFINITY);
        set(x, AT(v, 4, 0), 1e30);
        if (n > 1) set(x, AT(v, 4, k), -1e30);
        set(x, AT(v, 5, n / 2), F32() ? 3e38 : 1.7e308);
        set_payload_nan(x, AT(v, 6, n / 2));
        fs_softmax_2d(DT, rows, n, P(x, v), v.rs, v.cs, P(p, v), v.rs, v.cs);
        fs_log_softmax_2d(DT, rows, n, P(x, v), v.rs, v.cs, P(lp, v), v.rs, v.cs);
        if (layout == L_ROWS) fs_logsumexp_2d(DT, rows, n, P(x, v), v.rs, v.cs, lse, 1);
        else fs_logsumexp_2d(DT, rows, n, P(x, v), v.rs, v.cs, lse, 1);
        for (c = 0; c < n; c++) {
            LD p0 = get(p, AT(v, 0, c)), p1 = get(p, AT(v, 1, c)), p2 = get(p, AT(v, 2, c)), l2 = get(lp, AT(v, 2, c));
            EXPECT(F_SPECIAL, p0 != p0 && get(lp, AT(v, 0, c)) != get(lp, AT(v, 0, c)), "NaN row -> NaN, n=%lld %s %s c=%lld", (long long)n, lname[layout], dtn(), (long long)c);
            EXPECT(F_SPECIAL, get(p, AT(v, 6, c)) != get(p, AT(v, 6, c)) && get(lp, AT(v, 6, c)) != get(lp, AT(v, 6, c)),
                   "NaN (payload 1) row -> NaN, n=%lld %s %s c=%lld", (long long)n, lname[layout], dtn(), (long long)c);
            EXPECT(F_SPECIAL, p1 != p1, "+inf row -> NaN softmax, n=%lld %s %s c=%lld", (long long)n, lname[layout], dtn(), (long long)c);
            EXPECT(F_SPECIAL, p2 != p2 && l2 != l2, "-inf row -> NaN, n=%lld %s %s", (long long)n, lname[layout], dtn());
            if (c == k && n > 1) {
                EXPECT(F_SPECIAL, get(p, AT(v, 3, c)) == 0 && isinf((double)get(lp, AT(v, 3, c))) && get(lp, AT(v, 3, c)) < 0,
                       "-inf entry -> p 0, logp -inf, n=%lld %s %s", (long long)n, lname[layout], dtn());
                EXPECT(F_SPECIAL, get(p, AT(v, 4, c)) == 0, "[1e30 .. -1e30] -> 0, n=%lld %s %s", (long long)n, lname[layout], dtn());
            }
            if (c == 0) EXPECT(F_SPECIAL, get(p, AT(v, 4, 0)) == 1 && get(lp, AT(v, 4, 0)) == 0, "[1e30 ..] -> 1, n=%lld %s %s got %Lg", (long long)n, lname[layout], dtn(), get(p, AT(v, 4, 0)));
            if (c == n / 2) EXPECT(F_SPECIAL, get(p, AT(v, 5, c)) == 1, "huge entry -> 1, n=%lld %s %s", (long long)n, lname[layout], dtn());
            EXPECT(F_SPECIAL, get(p, AT(v, 5, c)) == get(p, AT(v, 5, c)), "huge row finite, n=%lld %s %s", (long long)n, lname[layout], dtn());
        }
        EXPECT(F_SPECIAL, get(lse, 0) != get(lse, 0) && get(lse, 6) != get(lse, 6), "logsumexp NaN row, n=%lld %s %s", (long long)n, lname[layout], dtn());
        EXPECT(F_SPECIAL, isinf((double)get(lse, 1)) && get(lse, 1) > 0, "logsumexp +inf row, n=%lld %s %s", (long long)n, lname[layout], dtn());
        EXPECT(F_SPECIAL, isinf((double)get(lse, 2)) && get(lse, 2) < 0, "logsumexp -inf row, n=%lld %s %s", (long long)n, lname[layout], dtn());
        EXPECT(F_SPECIAL, fabsl(get(lse, 4) - 1e30L) <= 1e30L * tolf(1e-7, 1e-16), "logsumexp huge row, n=%lld %s %s", (long long)n, lname[layout], dtn());
        free(x); free(p); free(lp); free(lse);
    }
}

/* long rows (longer than fs_long_row: shorter rows are never split): the chunked
 * schemes (softmax: fs_softmax_chunk_exp + fs_stats_fold + fs_softmax_chunk_scale;
 * logsumexp: fs_chunk_stats + fs_stats_fold) give the bits of the one-call kernels;
 * strips split across "threads" too */
static int same_bits(const void *a, const void *b, int64_t n) { return memcmp(a, b, (size_t)n * SZ) == 0; }
static void test_determinism(void) {
    const int64_t n = (fs_long_row(DT) / fs_row_chunk() + 3) * fs_row_chunk() + 1234;
    const int64_t bpc = fs_row_chunk() / fs_row_block();
    void *x = talloc(n), *y1 = talloc(n), *y2 = talloc(n);
    double M = -INFINITY, S = 0, m, s, L, mc[64];
    double *mb = (double *)malloc((size_t)(n / fs_row_chunk() + 1) * (size_t)bpc * sizeof(double));
    int64_t c;
    fill(x, n, 3.0);
    fs_softmax_2d(DT, 1, n, x, n, 1, y1, n, 1);
    for (c = 0; c < n; c += fs_row_chunk()) {
        int64_t k = n - c < fs_row_chunk() ? n - c : fs_row_chunk();
        fs_softmax_chunk_exp(DT, (const char *)x + c * (int64_t)SZ, (char *)y2 + c * (int64_t)SZ, k,
                             mb + c / fs_row_chunk() * bpc, &mc[c / fs_row_chunk()], &s);
        fs_stats_fold(&M, &S, mc[c / fs_row_chunk()], s);
    }
    for (c = 0; c < n; c += fs_row_chunk()) {
        int64_t k = n - c < fs_row_chunk() ? n - c : fs_row_chunk();
        EXPECT(F_DETERM, fs_softmax_chunk_scale(DT, (char *)y2 + c * (int64_t)SZ, k, mb + c / fs_row_chunk() * bpc,
                                                M, S, 1) == 0, "long softmax: no value flagged (%s)", dtn());
    }
    /* fs_stats_fold is the active path's own fold (its unit's FMA contraction), so the
     * chunked scheme gives the one-call bits exactly */
    EXPECT(F_DETERM, same_bits(y1, y2, n), "long softmax: chunked == one call (%s)", dtn());
    M = -INFINITY;
    S = 0;
    for (c = 0; c < n; c += fs_row_chunk()) {
        int64_t k = n - c < fs_row_chunk() ? n - c : fs_row_chunk();
        fs_chunk_stats(DT, (const char *)x + c * (int64_t)SZ, k, &m, &s);
        fs_stats_fold(&M, &S, m, s);
    }
    fs_logsumexp_2d(DT, 1, n, x, n, 1, y1, 1);
    L = fs_stats_logsumexp(DT, x, n, M, S);
    record(F_DETERM, ulp_err(get(y1, 0), (LD)(F32() ? (double)(float)L : L)), 1, "long logsumexp: chunked vs one call (%s)", dtn());
    fs_softmax_2d(DT, 1, n, x, n, 1, y2, n, 1);
    fs_softmax_2d(DT, 1, n, x, n, 1, y1, n, 1);
    EXPECT(F_DETERM, same_bits(y1, y2, n), "repeated call (%s)", dtn());
    {
        /* the scaling pass's check: a value that underflows to 0 (past the first block,
         * in the short tail chunk too), a NaN factor (S NaN), flagged in that chunk only */
        const int64_t last = n / fs_row_chunk() * fs_row_chunk(), at[2] = {fs_row_block() + 5, last + 7};
        int64_t j;
        for (j = 0; j < 2; j++) {
            int64_t c0 = at[j] / fs_row_chunk() * fs_row_chunk(), k = n - c0 < fs_row_chunk() ? n - c0 : fs_row_chunk();
            double mx, sx;
            set(x, at[j], -1e4);
            fs_softmax_chunk_exp(DT, (const char *)x + c0 * (int64_t)SZ, (char *)y2 + c0 * (int64_t)SZ, k, mb, &mx, &sx);
            EXPECT(F_SOFTMAX, fs_softmax_chunk_scale(DT, (char *)y2 + c0 * (int64_t)SZ, k, mb, mx, sx, 1) == 1,
                   "chunk scale flags an underflow at %lld (%s)", (long long)at[j], dtn());
            EXPECT(F_SOFTMAX, get(y2, at[j]) == 0, "underflow stored as 0 (%s)", dtn());
            fs_softmax_chunk_exp(DT, (const char *)x + c0 * (int64_t)SZ, (char *)y2 + c0 * (int64_t)SZ, k, mb, &mx, &sx);
            EXPECT(F_SOFTMAX, fs_softmax_chunk_scale(DT, (char *)y2 + c0 * (int64_t)SZ, k, mb, mx, sx, 0) == 0,
                   "chunk scale unchecked returns 0 (%s)", dtn());
            fs_softmax_chunk_exp(DT, (const char *)x + c0 * (int64_t)SZ, (char *)y2 + c0 * (int64_t)SZ, k, mb, &mx, &sx);
            EXPECT(F_SOFTMAX, fs_softmax_chunk_scale(DT, (char *)y2 + c0 * (int64_t)SZ, k, mb, mx, NAN, 1) == 1,
                   "chunk scale flags NaN factors (%s)", dtn());
            set(x, at[j], 0.5);
        }
    }
    free(x); free(y1); free(y2); free(mb);
    {
        /* column strips (reduction along rows of a C array) cut at any column, as threads do */
        const int64_t R = 23, C = 77; /* reduction length R, C independent columns */
        void *xc = talloc(R * C), *a = talloc(R * C), *b = talloc(R * C), *la = talloc(C), *lb = talloc(C);
        int64_t cut;
        fill(xc, R * C, 4.0);
        fs_softmax_2d(DT, C, R, xc, 1, C, a, 1, C);
        fs_logsumexp_2d(DT, C, R, xc, 1, C, la, 1);
        for (cut = 1; cut < C; cut += 5) {
            fs_softmax_2d(DT, cut, R, xc, 1, C, b, 1, C);
            fs_softmax_2d(DT, C - cut, R, (char *)xc + cut * (int64_t)SZ, 1, C, (char *)b + cut * (int64_t)SZ, 1, C);
            fs_logsumexp_2d(DT, cut, R, xc, 1, C, lb, 1);
            fs_logsumexp_2d(DT, C - cut, R, (char *)xc + cut * (int64_t)SZ, 1, C, (char *)lb + cut * (int64_t)SZ, 1);
            EXPECT(F_DETERM, same_bits(a, b, R * C) && same_bits(la, lb, C), "column strips cut at %lld (%s)", (long long)cut, dtn());
        }
        free(xc); free(a); free(b); free(la); free(lb);
    }
}

/* ---- cross-entropy ------------------------------------------------------------------ */
enum { X_W = 1, X_SMOOTH = 2, X_PROB = 4, X_GRAD = 8, X_IGNORE = 16, X_CAP = 32, X_Z = 64, X_LSE = 128 };
static void test_xent_case(int64_t rows, int64_t cols, int layout, int opt, int split) {
    view v = mkview(rows, cols, layout);
    void *x = talloc(v.size), *t = talloc(v.size), *g = talloc(v.size), *w = talloc(cols);
    int64_t *lab = (int64_t *)calloc((size_t)rows, sizeof(int64_t));
    double *loss = (double *)calloc((size_t)rows, sizeof(double)), *lse = (double *)calloc((size_t)rows, sizeof(double));
    double wsum = 0, eps = opt & X_SMOOTH ? 0.1 : 0.0, gscale = 1.0 / (double)(rows + 1), zg = opt & X_Z ? 2e-3 : 0, cap = opt & X_CAP ? 7.5 : 0;
    const double rtol = tolf(2e-5, 1e-12), atol = tolf(2e-6, 1e-13);
    const int64_t ignore = (opt & X_IGNORE) && cols > 2 ? 2 : -100;
    fs_xent_args a;
    int64_t r, c;
    int st = 0;
    fill(x, v.size, 4.0);
    for (c = 0; c < cols; c++) {
        set(w, c, (opt & X_W) ? 0.5 + urand() : 1.0);
        wsum += (double)get(w, c);
    }
    for (r = 0; r < rows; r++) {
        LD tot = 0;
        lab[r] = irand(cols);
        if ((opt & X_IGNORE) && r % 3 == 1) lab[r] = ignore;
        for (c = 0; c < cols; c++) set(t, AT(v, r, c), urand()), tot += get(t, AT(v, r, c));
        for (c = 0; c < cols; c++) set(t, AT(v, r, c), get(t, AT(v, r, c)) / tot);
    }
    memset(&a, 0, sizeof a);
    a.cols = cols; a.x_rs = v.rs; a.x_cs = v.cs;
    a.label = opt & X_PROB ? NULL : lab; a.label_s = 1; a.ignore_index = ignore;
    a.prob = opt & X_PROB ? P(t, v) : NULL; a.p_rs = v.rs; a.p_cs = v.cs;
    a.weight = opt & X_W ? w : NULL; a.weight_sum = wsum; a.smoothing = eps; a.grad_scale = gscale;
    a.g_rs = v.rs; a.g_cs = v.cs;
    a.softcap = cap; a.z_grad = zg;
    /* rows [0, split) and [split, rows) in two calls, as two threads would */
    {
        int64_t parts[3] = {0, split > 0 && split < rows ? split : rows, rows}, k;
        for (k = 0; k < 2; k++) {
            int64_t r0 = parts[k], r1 = parts[k + 1];
            if (r1 <= r0) continue;
            a.rows = r1 - r0;
            a.x = (char *)P(x, v) + r0 * v.rs * (int64_t)SZ;
            if (a.prob) a.prob = (char *)P(t, v) + r0 * v.rs * (int64_t)SZ;
            if (a.label) a.label = lab + r0;
            a.grad = opt & X_GRAD ? (char *)P(g, v) + r0 * v.rs * (int64_t)SZ : NULL;
            a.loss = loss + r0;
            a.lse = opt & X_LSE ? lse + r0 : NULL;
            st |= fs_cross_entropy_2d(DT, &a);
        }
    }
    EXPECT(F_XENT, st == FS_OK, "xent status %d", st);
    for (r = 0; r < rows; r++) {
        LD z[1] = {0}, m = -INFINITY, s = 0, U = 0, L = 0, l_se;
        LD *zc = (LD *)malloc((size_t)cols * sizeof(LD)), *u = (LD *)malloc((size_t)cols * sizeof(LD));
        int ign = !(opt & X_PROB) && lab[r] == ignore;
        (void)z;
        for (c = 0; c < cols; c++) {
            LD xv = get(x, AT(v, r, c));
            zc[c] = cap > 0 ? (LD)cap * tanhl(xv / (LD)cap) : xv;
            m = maxl(m, zc[c]);
        }
        for (c = 0; c < cols; c++) s += expl(zc[c] - m);
        l_se = m + logl(s);
        for (c = 0; c < cols; c++) {
            LD tc = opt & X_PROB ? get(t, AT(v, r, c)) : (LD)(c == lab[r]);
            u[c] = get(w, c) * ((1 - (LD)eps) * tc + (LD)eps / (LD)cols);
            U += u[c];
            L += u[c] * (l_se - zc[c]);
        }
        if (ign) L = 0;
        record(F_XENT, fabs(loss[r] - (double)L), rtol * fabs((double)L) + atol * (log((double)cols) + 10),
               "xent loss %s %lldx%lld %s opt %d row %lld got %.10g ref %.10Lg", dtn(), (long long)rows, (long long)cols,
               lname[layout], opt, (long long)r, loss[r], L);
        if (opt & X_LSE)
            record(F_XENT, fabs(lse[r] - (ign ? 0.0 : (double)l_se)), rtol * fabs((double)l_se) + atol * 10,
                   "xent lse %s opt %d row %lld got %.10g ref %.10Lg", dtn(), opt, (long long)r, lse[r], l_se);
        if (opt & X_GRAD)
            for (c = 0; c < cols; c++) {
                LD pc = expl(zc[c] - m) / s;
                LD ref = ign ? 0 : (LD)gscale * (pc * U - u[c]) + (LD)zg * l_se * pc, got = get(g, AT(v, r, c));
                if (cap > 0 && !ign) ref *= 1 - (zc[c] / (LD)cap) * (zc[c] / (LD)cap);
                record(F_XENT, (double)fabsl(got - ref), rtol * (double)fabsl(ref) + atol,
                       "xent grad %s %lldx%lld %s opt %d (%lld,%lld) got %.10Lg ref %.10Lg", dtn(), (long long)rows,
                       (long long)cols, lname[layout], opt, (long long)r, (long long)c, got, ref);
            }
        free(zc); free(u);
    }
    free(x); free(t); free(g); free(w); free(lab); free(loss); free(lse);
}

#include "test_lce.inc"

/* ---- sigmoid, log_sigmoid, BCE, focal ------------------------------------------------ */
static LD sp_ld(LD x) { return (x > 0 ? x : 0) + log1pl(expl(-fabsl(x))); } /* softplus */
static LD sg_ld(LD x) { LD e = expl(-fabsl(x)); return x >= 0 ? 1 / (1 + e) : e / (1 + e); }

static void test_sigmoid_case(int64_t rows, int64_t cols, int layout) {
    view v = mkview(rows, cols, layout);
    void *x = talloc(v.size), *y = talloc(v.size), *ly = talloc(v.size);
    int64_t r, c, i = 0;
    fill(x, v.size, 8.0);
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++, i++) {
            static const double sp[] = {1e4, -1e4, 0.0, -0.0, 90.0, -90.0, 800.0, -800.0, 1e-30, -20.5};
            if (i % 17 == 5) set(x, AT(v, r, c), sp[(i / 17) % 10]);
        }
    fs_sigmoid_2d(DT, rows, cols, P(x, v), v.rs, v.cs, P(y, v), v.rs, v.cs);
    fs_log_sigmoid_2d(DT, rows, cols, P(x, v), v.rs, v.cs, P(ly, v), v.rs, v.cs);
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            LD xv = get(x, AT(v, r, c)), ref = sg_ld(xv), lref = (xv < 0 ? xv : 0) - log1pl(expl(-fabsl(xv)));
            LD got = get(y, AT(v, r, c)), lgot = get(ly, AT(v, r, c));
            record(F_SIGMOID, ulp_err(got, ref), F32() ? 3 : 2.5, "sigmoid %s %s x=%.9Lg got %.9Lg ref %.9Lg",
                   dtn(), lname[layout], xv, got, ref);
            record(F_SIGMOID, ulp_err(lgot, lref), F32() ? 3 : 2.5, "log_sigmoid %s %s x=%.9Lg got %.9Lg ref %.9Lg",
                   dtn(), lname[layout], xv, lgot, lref);
        }
    {   /* NaN stays NaN */
        void *xn = talloc(3), *yn = talloc(3);
        set(xn, 0, NAN); set(xn, 1, INFINITY); set(xn, 2, -INFINITY);
        fs_sigmoid_2d(DT, 1, 3, xn, 3, 1, yn, 3, 1);
        EXPECT(F_SIGMOID, get(yn, 0) != get(yn, 0) && get(yn, 1) == 1 && get(yn, 2) == 0, "sigmoid NaN/inf %s", dtn());
        fs_log_sigmoid_2d(DT, 1, 3, xn, 3, 1, yn, 3, 1);
        EXPECT(F_SIGMOID, get(yn, 0) != get(yn, 0) && get(yn, 1) == 0 && isinf((double)get(yn, 2)), "log_sigmoid NaN/inf %s", dtn());
        free(xn); free(yn);
    }
    free(x); free(y); free(ly);
}

/* focal loss and its derivative in long double */
static LD focal_ld(LD x, LD z, double alpha, double gamma, LD *dl) {
    LD p = sg_ld(x), ce = (1 - z) * sp_ld(x) + z * sp_ld(-x), q = 1 - (p * z + (1 - p) * (1 - z));
    LD at = alpha >= 0 ? (LD)alpha * z + (1 - (LD)alpha) * (1 - z) : 1;
    LD qg = gamma == 0 ? 1 : powl(q, (LD)gamma);
    LD dq = -p * (1 - p) * (2 * z - 1);
    *dl = at * ((p - z) * qg + (gamma == 0 ? 0 : ce * (LD)gamma * powl(q, (LD)gamma - 1) * dq));
    return at * ce * qg;
}

enum { B_W = 1, B_PW = 2, B_SUM = 4, B_GRAD = 8, B_CSR = 16, B_DATA = 32 };
static void test_binary_case(int64_t rows, int64_t cols, int layout, int opt, int focal, double alpha, double gamma) {
    view v = mkview(rows, cols, layout);
    void *x = talloc(v.size), *z = talloc(v.size), *w = talloc(v.size), *pw = talloc(cols), *loss = talloc(v.size), *g = talloc(v.size);
    int64_t *indptr = (int64_t *)calloc((size_t)rows + 1, sizeof(int64_t)), *indices = (int64_t *)calloc((size_t)(rows * cols + 1), sizeof(int64_t));
    int32_t *ix32 = (int32_t *)calloc((size_t)(rows * cols + 1), sizeof(int32_t));
    int32_t *ip32 = (int32_t *)calloc((size_t)rows + 1, sizeof(int32_t));
    double *data = (double *)calloc((size_t)(rows * cols + 1), sizeof(double)), sum = 0;
    const double tol = tolf(3e-6, 1e-12), gscale = 0.5;
    const int csr = !focal && (opt & B_CSR);
    int64_t r, c, nnz = 0, bad = -1;
    LD maxl_ = 0, maxg = 0, refsum = 0, abssum = 0;
    LD *rl = (LD *)malloc((size_t)(rows * cols + 1) * sizeof(LD)), *rg = (LD *)malloc((size_t)(rows * cols + 1) * sizeof(LD));
    fs_binary_loss_args a;
    int st;
    fill(x, v.size, 5.0);
    for (r = 0; r < rows; r++) {
        indptr[r] = nnz;
        for (c = cols - 1; c >= 0; c--) { /* unsorted columns: the kernel sorts them */
            double zz = csr ? (urand() < 0.2 ? ((opt & B_DATA) ? urand() : 1.0) : 0.0) : urand();
            if (!csr && c % 4 == 0) zz = zz < 0.5 ? 0.0 : 1.0;
            set(z, AT(v, r, c), zz);
            if (csr && zz != 0) indices[nnz] = c, data[nnz++] = zz;
            set(w, AT(v, r, c), 0.5 + urand());
        }
        if (r == 0 && cols > 3) set(x, AT(v, 0, 2), 1e4), set(x, AT(v, 0, 3), -1e4);
    }
    indptr[rows] = nnz;
    for (c = 0; c < cols; c++) set(pw, c, 0.25 + 2 * urand());
    memset(&a, 0, sizeof a);
    a.rows = rows; a.cols = cols; a.x = P(x, v); a.x_rs = v.rs; a.x_cs = v.cs;
    if (csr) {
        a.indptr = indptr; a.indices = indices; a.data = (opt & B_DATA) ? data : NULL;
        if (rows % 2) { /* odd row counts: the columns as int32 (indices32) */
            for (c = 0; c < nnz; c++) ix32[c] = (int32_t)indices[c];
            a.indices = NULL;
            a.indices32 = ix32;
        }
        if (cols % 2) { /* odd column counts: the row starts as int32 (indptr32) */
            for (r = 0; r <= rows; r++) ip32[r] = (int32_t)indptr[r];
            a.indptr = NULL;
            a.indptr32 = ip32;
        }
    } else {
        a.z = P(z, v); a.z_rs = v.rs; a.z_cs = v.cs;
    }
    if (!focal && (opt & B_W)) a.w = P(w, v), a.w_rs = v.rs, a.w_cs = v.cs;
    if (!focal && (opt & B_PW)) a.pw = pw, a.pw_rs = 0, a.pw_cs = 1;
    if (!(opt & B_SUM)) a.loss = P(loss, v), a.loss_rs = v.rs, a.loss_cs = v.cs;
    if (opt & B_GRAD) a.grad = P(g, v), a.g_rs = v.rs, a.g_cs = v.cs;
    a.grad_scale = gscale;
    st = focal ? fs_sigmoid_focal_2d(DT, &a, alpha, gamma, &sum, &bad) : fs_bce_with_logits_2d(DT, &a, &sum, &bad);
    /* the CSR rows hold descending columns: the kernel flags them (bit 2), nothing else */
    EXPECT(focal ? F_FOCAL : F_BCE, st == FS_OK && (bad & ~(int64_t)(csr ? 4 : 0)) == 0, "binary status %d bad %lld",
           st, (long long)bad);
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            LD xv = get(x, AT(v, r, c)), zv = get(z, AT(v, r, c)), l, d;
            if (focal) {
                l = focal_ld(xv, zv, alpha, gamma, &d);
            } else {
                LD wv = a.w ? get(w, AT(v, r, c)) : 1, pv = a.pw ? get(pw, c) : 1;
                l = wv * ((1 - zv) * sp_ld(xv) + pv * zv * sp_ld(-xv));
                d = wv * ((1 - zv) * sg_ld(xv) - pv * zv * sg_ld(-xv));
            }
            rl[r * cols + c] = l;
            rg[r * cols + c] = d * (LD)gscale;
            maxl_ = maxl(maxl_, fabsl(l));
            maxg = maxl(maxg, fabsl(d * (LD)gscale));
            refsum += l;
            abssum += fabsl(l);
        }
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            LD l = rl[r * cols + c], d = rg[r * cols + c];
            if (!(opt & B_SUM))
                record(focal ? F_FOCAL : F_BCE, (double)fabsl(get(loss, AT(v, r, c)) - l), tol * (double)(fabsl(l) + maxl_),
                       "%s loss %s %lldx%lld %s opt %d (%lld,%lld) x=%.6Lg z=%.4Lg got %.10Lg ref %.10Lg", focal ? "focal" : "bce",
                       dtn(), (long long)rows, (long long)cols, lname[layout], opt, (long long)r, (long long)c,
                       get(x, AT(v, r, c)), get(z, AT(v, r, c)), get(loss, AT(v, r, c)), l);
            if (opt & B_GRAD)
                record(focal ? F_FOCAL : F_BCE, (double)fabsl(get(g, AT(v, r, c)) - d), tol * (double)(fabsl(d) + maxg),
                       "%s grad %s %lldx%lld %s opt %d (%lld,%lld) got %.10Lg ref %.10Lg", focal ? "focal" : "bce", dtn(),
                       (long long)rows, (long long)cols, lname[layout], opt, (long long)r, (long long)c,
                       get(g, AT(v, r, c)), d);
        }
    if (opt & B_SUM)
        record(focal ? F_FOCAL : F_BCE, fabs(sum - (double)refsum), tol * (double)abssum + 1e-300,
               "%s sum %s %lldx%lld %s opt %d got %.12g ref %.12Lg", focal ? "focal" : "bce", dtn(), (long long)rows,
               (long long)cols, lname[layout], opt, sum, refsum);
    free(x); free(z); free(w); free(pw); free(loss); free(g); free(indptr); free(indices); free(ix32); free(ip32); free(data); free(rl); free(rg);
}

/* the BCE kernel's own checks of sparse targets (*bad bits 2: an index outside, never
 * used to address memory; 4: a row not strictly increasing), on each sparse path: the
 * scattered dense target (gradient), the masked copy (loss sums of short rows) and the
 * runs between positives (loss sums of long rows) */
static void test_csr_kernel_checks(void) {
    enum { R = 4, C = 600 };
    void *x = talloc(R * C), *g = talloc(R * C);
    int64_t ip[R + 1] = {0, 2, 3, 5, 6}, ix[6] = {3, 9, 0, 1, 4, 599}, bad, k;
    int32_t ix32[6];
    fs_binary_loss_args a;
    double sum;
    int path, w, st;
    fill(x, R * C, 3.0);
    for (path = 0; path < 3; path++)
        for (w = 0; w < 3; w++) { /* 0: valid, 1: an index outside (600, then -1), 2: a row descending */
            int64_t t[6];
            memcpy(t, ix, sizeof t);
            if (w == 1) t[path == 2 ? 1 : 5] = path == 1 ? -1 : path == 2 ? R * C : C;
            if (w == 2) {
                if (path == 2) t[0] = 9, t[1] = 3;
                else t[3] = 4, t[4] = 1;
            }
            for (k = 0; k < 6; k++) ix32[k] = (int32_t)t[k];
            memset(&a, 0, sizeof a);
            a.rows = path == 2 ? 1 : R; /* runs: one long row (its first 2 positives) */
            a.cols = path == 2 ? R * C : C;
            a.x = x; a.x_rs = a.cols; a.x_cs = 1;
            a.indptr = ip;
            if (path == 0) a.indices = t; else a.indices32 = ix32;
            if (path == 0) a.grad = g, a.g_rs = a.cols, a.g_cs = 1;
            a.grad_scale = 1;
            bad = -1;
            st = fs_bce_with_logits_2d(DT, &a, &sum, &bad);
            EXPECT(F_BCE, st == FS_OK && bad == (w == 0 ? 0 : w == 1 ? 2 : 4), "sparse path %d case %d: status %d bad %lld",
                   path, w, st, (long long)bad);
        }
    free(x); free(g);
}

/* the CSR structure checks, int32 and int64 indices, whole and by row ranges */
static void test_csr_checks(void) {
    const int64_t ip[6] = {0, 2, 2, 5, 6, 8};
    const int64_t ix[8] = {1, 4, 0, 2, 3, 3, 0, 4};
    const int32_t ip32[6] = {0, 2, 2, 5, 6, 8}, down32[4] = {0, 3, 2, 4};
    int32_t ix32[8];
    int64_t out[8], ip_out[6], k;
    int w;
    for (k = 0; k < 8; k++) ix32[k] = (int32_t)ix[k];
    EXPECT(F_BCE, fs_csr_indptr_check(ip32, 4, 5, ip_out) == 0 && ip_out[5] == 8 && ip_out[3] == 5, "indptr int32");
    EXPECT(F_BCE, fs_csr_indptr_check(ip, 8, 5, NULL) == 0, "indptr int64");
    EXPECT(F_BCE, fs_csr_indptr_check(ix, 8, 2, NULL) == 1, "indptr not starting at 0");
    EXPECT(F_BCE, fs_csr_indptr_check(down32, 4, 3, NULL) == 1, "indptr decreasing");
    EXPECT(F_BCE, fs_csr_indptr_check(ip, 3, 5, NULL) == -1, "indptr width 3");
    for (w = 4; w <= 8; w += 4) {
        const void *p = w == 4 ? (const void *)ix32 : (const void *)ix;
        memset(out, 0, sizeof out);
        EXPECT(F_BCE, fs_csr_indices_check(ip, p, w, 0, 5, 5, out) == 0 && out[7] == 4 && out[2] == 0,
               "indices valid (width %d)", w);
        EXPECT(F_BCE, fs_csr_indices_check(ip, p, w, 0, 5, 4, NULL) == 1, "index 4 outside 4 columns");
        EXPECT(F_BCE, fs_csr_indices_check(ip, p, w, 1, 4, 5, NULL) == 0, "rows 1-3 (width %d)", w);
    }
    ix32[3] = 0; /* row 2: 0, 0, 3: not increasing */
    EXPECT(F_BCE, fs_csr_indices_check(ip, ix32, 4, 0, 5, 5, NULL) == 2, "a repeated column");
    EXPECT(F_BCE, fs_csr_indices_check(ip, ix32, 4, 3, 5, 5, NULL) == 0, "rows past the repeat");
    EXPECT(F_BCE, fs_csr_indices_check(ip, ix32, 4, 2, 3, 5, NULL) == 2, "the row with the repeat alone");
    ix32[3] = 2;
    ix32[0] = -1;
    EXPECT(F_BCE, fs_csr_indices_check(ip, ix32, 4, 0, 5, 5, NULL) == 1, "a negative index");
    test_csr_kernel_checks();
}

/* fs_flag_values: a NaN (nan), or a value not > 0, anywhere in runs of every length
 * (the vector body, the tail); subnormals and +inf are > 0, -0 is not */
static void test_flag_values(void) {
    const int64_t n = 70;
    void *y = talloc(n + 1);
    int64_t len, at, i;
    for (len = 1; len <= n; len += 3)
        for (at = 0; at < len; at += 5) {
            for (i = 0; i <= n; i++) set(y, i, 0.5 + 0.01 * (double)i);
            EXPECT(F_SOFTMAX, fs_flag_values(DT, y, len, 0) == 0 && fs_flag_values(DT, y, len, 1) == 0,
                   "flag_values clean %s len %lld", dtn(), (long long)len);
            set(y, at, DT == FS_FLOAT32 ? 1e-40 : 1e-310); /* subnormal: > 0 */
            set(y, len - 1, INFINITY);
            EXPECT(F_SOFTMAX, fs_flag_values(DT, y, len, 0) == 0, "flag_values subnormal / inf %s", dtn());
            set(y, at, -0.0);
            EXPECT(F_SOFTMAX, fs_flag_values(DT, y, len, 0) == 1 && fs_flag_values(DT, y, len, 1) == 0,
                   "flag_values -0 at %lld of %lld %s", (long long)at, (long long)len, dtn());
            set(y, at, NAN);
            EXPECT(F_SOFTMAX, fs_flag_values(DT, y, len, 0) == 1 && fs_flag_values(DT, y, len, 1) == 1,
                   "flag_values NaN at %lld of %lld %s", (long long)at, (long long)len, dtn());
            set(y, at, -2.0);
            EXPECT(F_SOFTMAX, fs_flag_values(DT, y, len, 0) == 1 && fs_flag_values(DT, y, len, 1) == 0,
                   "flag_values -2 %s", dtn());
            set(y, at, 1.0);
            set(y, len, 0.0); /* past the run: not read */
            EXPECT(F_SOFTMAX, fs_flag_values(DT, y, len, 0) == 0, "flag_values reads past %lld %s", (long long)len, dtn());
        }
    free(y);
}

static void test_outside_unit(void) {
    const int64_t n = 45;
    void *z = talloc(n);
    int64_t i;
    for (i = 0; i < n; i++) set(z, i, urand());
    EXPECT(F_BCE, fs_count_outside_unit_2d(DT, 3, 15, z, 15, 1) == 0, "targets in [0, 1] %s", dtn());
    set(z, n - 1, 1.5);
    EXPECT(F_BCE, fs_count_outside_unit_2d(DT, 3, 15, z, 15, 1) == 1, "target 1.5 in the tail %s", dtn());
    set(z, n - 1, NAN);
    EXPECT(F_BCE, fs_count_outside_unit_2d(DT, 3, 15, z, 15, 1) == 1, "NaN target %s", dtn());
    EXPECT(F_BCE, fs_count_outside_unit_2d(DT, 15, 3, z, 1, 15) == 1, "NaN target, strided %s", dtn());
    free(z);
}

/* ---- samplers: deterministic, in range; their digest is printed -------------------- */
static uint64_t digest = 1469598103934665603ULL;
static void mix(uint64_t v) { digest = (digest ^ v) * 1099511628211ULL; }
static void test_samplers(void) {
    enum { RANGE = 1000, NS = 300 };
    static double wts[RANGE], prob[RANGE], acc[RANGE];
    static int64_t alias[RANGE], out[NS], out2[NS];
    fs_sampler s;
    int kind, uniq, i, j;
    float ec[NS];
    for (i = 0; i < RANGE; i++) wts[i] = (double)((i * 7919) % 13) + (i % 5 == 0 ? 0.0 : 0.5);
    EXPECT(F_SAMPLER, fs_alias_build(wts, RANGE, prob, acc, alias) == FS_OK, "alias build");
    for (kind = 0; kind < 3; kind++)
        for (uniq = 0; uniq < 2; uniq++) {
            int64_t tries = 0, tries2 = 0;
            int ok = 1;
            s.kind = kind; s.range = RANGE; s.prob = prob; s.accept = acc; s.alias = alias;
            EXPECT(F_SAMPLER, fs_sampler_draw(&s, 12345 + (uint64_t)kind, NS, uniq, out, &tries) == FS_OK, "draw kind %d", kind);
            fs_sampler_draw(&s, 12345 + (uint64_t)kind, NS, uniq, out2, &tries2);
            EXPECT(F_SAMPLER, memcmp(out, out2, sizeof out) == 0 && tries == tries2, "same seed, same draws (kind %d unique %d)", kind, uniq);
            for (i = 0; i < NS; i++) {
                ok &= out[i] >= 0 && out[i] < RANGE && (kind != 2 || prob[out[i]] > 0);
                if (uniq)
                    for (j = 0; j < i; j++) ok &= out[i] != out[j];
            }
            EXPECT(F_SAMPLER, ok, "draws in range%s (kind %d)", uniq ? ", distinct" : "", kind);
            fs_sampler_expected_count(&s, out, NS, NS, tries, ec);
            for (i = 0; i < NS; i++) ok &= ec[i] > 0 && ec[i] <= (float)NS;
            EXPECT(F_SAMPLER, ok, "expected counts in (0, S] (kind %d)", kind);
            for (i = 0; i < NS; i++) mix((uint64_t)out[i]);
            mix((uint64_t)tries);
        }
}

/* ---- sampled softmax / NCE: the C pieces of one step --------------------------------- */
static void test_sampled(int mode, int64_t d) {
    enum { N = 6, NT = 2, S = 37, NCLS = 60 };
    int64_t samp[S], labels[N * NT], uids[S + N * NT], K = 0, ks = 0, scol[S], tcol[N * NT];
    int64_t hh[S + N * NT], hn[S], lh[S + N * NT], ln[N * NT], i, j, t, u, k;
    const int64_t ldx = d + 1;
    const double rtol = tolf(1e-5, 1e-12), atol = tolf(1e-5, 1e-13), scale = 1.0 / N;
    void *W = talloc(NCLS * d), *wk, *x = talloc(N * ldx), *tcorr = talloc(N * NT), *scorr = talloc(S), *L, *gt = talloc(N * NT);
    void *dx = talloc(N * d), *dw;
    double loss[N];
    fs_sampled_args a;
    int ok = 1;
    for (j = 0; j < S; j++) samp[j] = irand(NCLS / 2) * 2; /* repeats, some equal to labels */
    for (i = 0; i < N * NT; i++) labels[i] = irand(NCLS);
    EXPECT(F_SAMPLED, fs_sampled_unique(samp, S, labels, N * NT, uids, &K, &ks, scol, tcol, hh, hn, lh, ln) == FS_OK, "unique");
    for (j = 0; j < S; j++) ok &= scol[j] < ks && uids[scol[j]] == samp[j];
    for (i = 0; i < N * NT; i++) ok &= tcol[i] < K && uids[tcol[i]] == labels[i];
    for (u = 0; u < K; u++)
        for (k = 0; k < u; k++) ok &= uids[u] != uids[k];
    for (u = 0; u < K; u++) {
        int64_t prev = -1;
        for (j = hh[u]; j >= 0; j = hn[j]) ok &= scol[j] == u && j > prev, prev = j;
        prev = -1;
        for (j = lh[u]; j >= 0; j = ln[j]) ok &= tcol[j] == u && j > prev, prev = j;
    }
    EXPECT(F_SAMPLED, ok, "unique ids, columns and hit / label lists consistent");
    fill(W, NCLS * d, 0.5);
    wk = talloc(K * d);
    fs_sampled_gather_rows(DT, W, d, 1, uids, K, d, wk);
    ok = 1;
    for (u = 0; u < K; u++)
        for (k = 0; k < d; k++) ok &= get(wk, u * d + k) == get(W, uids[u] * d + k);
    {   /* a transposed source: cs != 1 */
        void *WT = talloc(NCLS * d), *wk2 = talloc(K * d);
        for (u = 0; u < NCLS; u++)
            for (k = 0; k < d; k++) set(WT, k * NCLS + u, get(W, u * d + k));
        fs_sampled_gather_rows(DT, WT, 1, NCLS, uids, K, d, wk2);
        ok &= same_bits(wk, wk2, K * d);
        free(WT); free(wk2);
    }
    EXPECT(F_SAMPLED, ok, "gather_rows copies the rows (%s)", dtn());
    fill(x, N * ldx, 1.0);
    for (i = 0; i < N; i++) set(x, i * ldx + d, 1.0);
    fill(tcorr, N * NT, 0.5);
    fill(scorr, S, 0.5);
    L = talloc(N * ks);
    for (i = 0; i < N; i++)
        for (u = 0; u < ks; u++) {
            LD sdot = 0;
            for (k = 0; k < d; k++) sdot += get(x, i * ldx + k) * get(wk, u * d + k);
            set(L, i * ks + u, sdot);
        }
    {
        void *L0 = talloc(N * ks);
        LD *z = (LD *)malloc(sizeof(LD) * (NT + S)), *gz = (LD *)malloc(sizeof(LD) * (NT + S));
        memcpy(L0, L, (size_t)(N * ks) * SZ);
        memset(&a, 0, sizeof a);
        a.mode = mode; a.grad = 1; a.n = N; a.d = d; a.num_true = NT; a.num_sampled = S; a.ks = ks;
        a.x = x; a.ldx = ldx; a.wk = wk; a.tcorr = tcorr; a.scorr = scorr; a.tcol = tcol; a.scol = scol;
        a.hit_head = hh; a.hit_next = hn; a.logits = L; a.gtrue = gt; a.scale = scale; a.loss = loss;
        EXPECT(F_SAMPLED, fs_sampled_rows(DT, &a, 0, 3) == FS_OK && fs_sampled_rows(DT, &a, 3, N) == FS_OK, "sampled_rows status");
        for (i = 0; i < N; i++) {
            LD m = -INFINITY, s = 0, ref = 0;
            for (t = 0; t < NT; t++) {
                LD sdot = 0;
                for (k = 0; k < d; k++) sdot += get(x, i * ldx + k) * get(wk, tcol[i * NT + t] * d + k);
                z[t] = (LD)(F32() ? (LD)(float)sdot : (LD)(double)sdot) + get(tcorr, i * NT + t);
            }
            for (j = 0; j < S; j++) {
                int hit = 0;
                z[NT + j] = get(L0, i * ks + scol[j]) + get(scorr, j);
                for (t = 0; t < NT; t++) hit |= samp[j] == labels[i * NT + t];
                if (hit) z[NT + j] = -INFINITY;
            }
            for (k = 0; k < NT + S; k++) m = maxl(m, z[k]);
            for (k = 0; k < NT + S; k++) s += expl(z[k] - m);
            for (k = 0; k < NT + S; k++) {
                LD y = k < NT ? 1.0L / NT : 0;
                if (mode == FS_SAMPLED_SOFTMAX) {
                    gz[k] = (LD)scale * (expl(z[k] - m) / s - y);
                } else {
                    gz[k] = isinf((double)z[k]) ? 0 : (LD)scale * (sg_ld(z[k]) - y);
                    if (!isinf((double)z[k])) ref += sp_ld(z[k]) - z[k] * y;
                }
            }
            if (mode == FS_SAMPLED_SOFTMAX) {
                ref = m + logl(s);
                for (t = 0; t < NT; t++) ref -= z[t] / NT;
            }
            record(F_SAMPLED, fabs(loss[i] - (double)ref), rtol * fabs((double)ref) + atol, "sampled mode %d loss %s d=%lld ex %lld got %.10g ref %.10Lg",
                   mode, dtn(), (long long)d, (long long)i, loss[i], ref);
            for (t = 0; t < NT; t++)
                record(F_SAMPLED, (double)fabsl(get(gt, i * NT + t) - gz[t]), rtol * (double)fabsl(gz[t]) + atol,
                       "sampled mode %d gtrue %s ex %lld t %lld", mode, dtn(), (long long)i, (long long)t);
            for (u = 0; u < ks; u++) {
                LD ref_u = 0;
                for (j = 0; j < S; j++)
                    if (scol[j] == u) ref_u += gz[NT + j];
                record(F_SAMPLED, (double)fabsl(get(L, i * ks + u) - ref_u), rtol * (double)fabsl(ref_u) + atol,
                       "sampled mode %d dlogits %s ex %lld col %lld got %.10Lg ref %.10Lg", mode, dtn(), (long long)i, (long long)u,
                       get(L, i * ks + u), ref_u);
            }
        }
        free(L0); free(z); free(gz);
    }
    /* the true-label terms of d inputs and d weights */
    fill(dx, N * d, 1.0);
    {
        void *dx0 = talloc(N * d);
        memcpy(dx0, dx, (size_t)(N * d) * SZ);
        fs_sampled_add_true_dx(DT, &a, 0, N, dx);
        for (i = 0; i < N; i++)
            for (k = 0; k < d; k++) {
                LD ref = get(dx0, i * d + k);
                for (t = 0; t < NT; t++) ref += get(gt, i * NT + t) * get(wk, tcol[i * NT + t] * d + k);
                record(F_SAMPLED, (double)fabsl(get(dx, i * d + k) - ref), rtol * (double)fabsl(ref) + atol, "add_true_dx %s", dtn());
            }
        free(dx0);
    }
    dw = talloc(K * ldx);
    {
        void *dw0 = talloc(K * ldx);
        fill(dw, K * ldx, 1.0);
        memcpy(dw0, dw, (size_t)(K * ldx) * SZ);
        fs_sampled_add_true_dw(DT, &a, lh, ln, 0, K, dw);
        for (u = 0; u < K; u++)
            for (k = 0; k < ldx; k++) {
                LD ref = u >= ks ? 0 : get(dw0, u * ldx + k);
                for (j = 0; j < N * NT; j++)
                    if (tcol[j] == u) ref += get(gt, j) * get(x, (j / NT) * ldx + k);
                record(F_SAMPLED, (double)fabsl(get(dw, u * ldx + k) - ref), rtol * (double)fabsl(ref) + atol, "add_true_dw %s u %lld", dtn(), (long long)u);
            }
        free(dw0);
    }
    free(W); free(wk); free(x); free(tcorr); free(scorr); free(L); free(gt); free(dx); free(dw);
}

/* ---- the SVE vector length, when that path runs (for the log) ------------------------ */
static long sve_bits(void) {
#if defined(__aarch64__) && defined(__GNUC__)
    if (fs_active_isa() == FS_ISA_SVE) {
        long vl;
        __asm__ volatile(".arch_extension sve\n\trdvl %0, #1" : "=r"(vl));
        return vl * 8;
    }
#endif
    return 0;
}

static clock_t lap_t0;
static void lap(const char *what) {
    clock_t t = clock();
    if (getenv("TEST_CORE_TIMES")) printf("time: %-16s %s %6.2f s\n", what, dtn(), (double)(t - lap_t0) / CLOCKS_PER_SEC);
    lap_t0 = t;
}

int main(int argc, char **argv) {
    const char *req = getenv("FASTSMCE_SIMD");
    int quick = 0, i, down = 0, dti, layout, fails = 0;
    long total = 0;
    fs_isa isa;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--which")) quick = -1;
        else if (!strcmp(argv[i], "--list")) {
            printf("compiled:");
            for (isa = 0; isa < FS_ISA_COUNT; isa++) if (fs_isa_compiled(isa)) printf(" %s", fs_isa_name(isa));
            printf("\nsupported:");
            for (isa = 0; isa < FS_ISA_COUNT; isa++) if (fs_isa_supported(isa)) printf(" %s", fs_isa_name(isa));
            printf("\nbest: %s\n", fs_isa_name(fs_init(NULL, NULL)));
            return 0;
        } else req = argv[i];
    }
    if (req && !strcmp(req, "best")) req = NULL;
    isa = fs_init(req, &down);
    printf("path: %s (requested %s%s)  compiler: %s\n", fs_isa_name(isa), req ? req : "best",
           down == 1 ? ", NOT SUPPORTED here: fell back" : down == 2 ? ", UNKNOWN name: fell back" : "", fs_compiler());
    if (sve_bits()) printf("sve vector length: %ld bits\n", sve_bits());
    if (quick < 0) return 0; /* --which: the path only */
    for (dti = 0; dti < 2; dti++) {
        static const int64_t lens[] = {127, 128, 129, 257, 1000, 4099};
        int64_t n;
        DT = dti ? FS_FLOAT64 : FS_FLOAT32;
        SZ = dti ? sizeof(double) : sizeof(float);
        rseed(100 + (uint64_t)dti);
        lap_t0 = clock();
        test_exp();
        lap("exp");
        for (layout = 0; layout < NLAYOUT; layout++) {
            for (n = 1; n <= 70; n += (quick ? 3 : 1)) test_softmax_case(layout == L_COLS ? 1 + n % 9 : 3, n, layout, 5.0);
            for (n = 1; n <= 40; n += (quick ? 13 : 3)) test_softmax_case(n, layout == L_COLS ? 33 : 5, layout, 5.0);
            for (i = 0; i < (int)(sizeof lens / sizeof lens[0]) - 2 * quick; i++) test_softmax_case(2, lens[i], layout, 20.0);
        }
        if (!quick) test_softmax_case(1, 70001, L_ROWS, 5.0); /* long rows: the chunked path */
        if (!quick) test_softmax_case(1, 70001, L_STRIDED, 5.0);
        test_softmax_case(64, 10, L_ROWS, 1e3);
        for (n = 1; n <= 40; n += 1 + quick) test_softmax_special(n);
        if (!quick) test_softmax_special(1000);
        lap("softmax");
        test_determinism();
        for (layout = 0; layout < NLAYOUT; layout++) {
            static const int opts[] = {0, X_GRAD, X_W | X_GRAD, X_SMOOTH | X_GRAD, X_W | X_SMOOTH | X_IGNORE | X_GRAD,
                                       X_PROB | X_GRAD, X_PROB | X_W | X_SMOOTH | X_GRAD, X_IGNORE, X_PROB};
            int o;
            for (o = 0; o < (int)(sizeof opts / sizeof opts[0]); o++) {
                /* every length for the main options (odd o), every few for the rest */
                const int step = o % 2 ? (quick ? 5 : 1) : (quick ? 17 : 5);
                for (n = 1; n <= 70; n += step) test_xent_case(layout == L_COLS ? 2 + n % 11 : 4, n, layout, opts[o], 0);
                test_xent_case(13, 17, layout, opts[o], 5); /* split in two calls */
                if (!quick) test_xent_case(2, 1000, layout, opts[o], 0);
                if (layout == L_ROWS && !quick && o % 2) test_xent_case(1, 70001, layout, opts[o], 0);
            }
        }
        {
            static const int xo[] = {X_CAP | X_GRAD | X_LSE, X_Z | X_GRAD | X_LSE, X_CAP | X_Z | X_GRAD | X_IGNORE | X_LSE, X_CAP | X_LSE};
            int o;
            for (o = 0; o < 4; o++)
                for (n = 1; n <= 70; n += 7 + 6 * quick) test_xent_case(5, n, L_ROWS, xo[o], 0), test_xent_case(1, quick ? 100 + n : 1000 + n, L_ROWS, xo[o], 0);
        }
        lap("xent");
        {
            static const int lo[] = {0, LC_W, LC_SMOOTH, LC_CAP, LC_Z, LC_W | LC_SMOOTH | LC_CAP | LC_Z | LC_IGNORE};
            static const int64_t blocks[] = {1, 5, 16, 64};
            int o, bi;
            for (o = 0; o < 6; o++)
                for (bi = 0; bi < 4; bi++)
                    for (n = 1; n <= 70; n += quick ? 23 : 9) test_lce_case(5, n, blocks[bi], lo[o]);
            if (!quick) test_lce_case(3, 3001, 512, LC_W | LC_SMOOTH | LC_CAP | LC_Z | LC_IGNORE);
        }
        lap("class blocks");
        for (layout = 0; layout < NLAYOUT; layout++) {
            for (n = 1; n <= 70; n += (quick ? 5 : 1)) test_sigmoid_case(3, n, layout);
            test_sigmoid_case(2, quick ? 101 : 1001, layout);
        }
        for (layout = 0; layout < NLAYOUT; layout++) {
            static const int bo[] = {0, B_GRAD, B_SUM, B_SUM | B_GRAD, B_W | B_PW | B_GRAD, B_W | B_PW | B_SUM,
                                     B_CSR, B_CSR | B_SUM, B_CSR | B_SUM | B_GRAD, B_CSR | B_DATA | B_W | B_PW | B_GRAD, B_CSR | B_DATA | B_SUM};
            static const double fp[][2] = {{0.25, 2.0}, {-1.0, 2.0}, {0.5, 0.0}, {0.9, 0.5}, {0.25, 3.7}};
            int o;
            for (o = 0; o < (int)(sizeof bo / sizeof bo[0]); o++) {
                const int step = o % 3 == 1 ? (quick ? 7 : 2) : (quick ? 23 : 7);
                for (n = 1; n <= 70; n += step) test_binary_case(3, n, layout, bo[o], 0, 0, 0);
                test_binary_case(2, quick ? 100 : 1000, layout, bo[o], 0, 0, 0);
                if (layout == L_ROWS && (bo[o] & B_SUM) && !quick && o % 3 == 1) test_binary_case(1, 20000, layout, bo[o], 0, 0, 0);
            }
            for (o = 0; o < 5; o++) {
                for (n = 1; n <= 70; n += o == 0 ? (quick ? 7 : 2) : (quick ? 23 : 7)) test_binary_case(3, n, layout, B_GRAD, 1, fp[o][0], fp[o][1]);
                test_binary_case(2, quick ? 133 : 333, layout, B_SUM | B_GRAD, 1, fp[o][0], fp[o][1]);
            }
        }
        lap("sigmoid/bce/focal");
        test_outside_unit();
        test_csr_checks();
        test_flag_values();
        test_sampled(FS_SAMPLED_SOFTMAX, 33);
        test_sampled(FS_SAMPLED_NCE, 33);
        test_sampled(FS_SAMPLED_SOFTMAX, 4);
        test_sampled(FS_SAMPLED_NCE, 129);
        lap("sampled");
    }
    DT = FS_FLOAT64;
    SZ = sizeof(double);
    test_samplers();
    printf("%-22s %9s %6s %10s  %s\n", "family", "checks", "fails", "worst/bnd", "bound; worst case");
    for (i = 0; i < NFAM; i++) {
        printf("%-22s %9ld %6ld %10.3g  %s; %s\n", fam[i].name, fam[i].checks, fam[i].fails, fam[i].worst, fam[i].bound,
               fam[i].where);
        total += fam[i].checks;
        fails += fam[i].fails > 0 || fam[i].checks == 0;
    }
    printf("sampler-digest: %016llx\n", (unsigned long long)digest);
    printf("RESULT: %s (%ld checks, path %s)\n", fails ? "FAIL" : "PASS", total, fs_isa_name(isa));
    return fails ? 1 : 0;
}
