/*
 * Runtime dispatch: probe the CPU once (cpuid + xgetbv, so that the OS saves
 * the wide registers too), fill one table per dtype, and route the public
 * fs_* entry points through it.
 */
#include <string.h>
#include "fastsmce.h"
#include "kernels/ops.h"
#include "simd/common.h"

#if FS_X86 && defined(_MSC_VER)
#include <intrin.h>
#elif FS_X86 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

FS_DECLARE_OPS(scalar)
#if FS_X86
FS_DECLARE_OPS(avx2)
FS_DECLARE_OPS(avx512)
#define FS_HAVE_X86_PATHS 1
#else
#define FS_HAVE_X86_PATHS 0
#endif

static const fs_ops *const fs_tables[FS_ISA_COUNT][2] = {
    {&fs_ops_scalar_f32, &fs_ops_scalar_f64},
#if FS_HAVE_X86_PATHS
    {&fs_ops_avx2_f32, &fs_ops_avx2_f64},
    {&fs_ops_avx512_f32, &fs_ops_avx512_f64},
#else
    {0, 0},
    {0, 0},
#endif
};

static fs_isa fs_active = FS_ISA_SCALAR;
static const fs_ops *fs_cur[2] = {&fs_ops_scalar_f32, &fs_ops_scalar_f64};

static const char *const fs_names[FS_ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *fs_isa_name(fs_isa isa) { return (unsigned)isa < FS_ISA_COUNT ? fs_names[isa] : "unknown"; }

int fs_isa_compiled(fs_isa isa) { return (unsigned)isa < FS_ISA_COUNT && fs_tables[isa][0] != 0; }

#if FS_HAVE_X86_PATHS
static void fs_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
    int v[4];
    __cpuidex(v, (int)leaf, (int)sub);
    r[0] = (unsigned)v[0]; r[1] = (unsigned)v[1]; r[2] = (unsigned)v[2]; r[3] = (unsigned)v[3];
#else
    r[0] = r[1] = r[2] = r[3] = 0;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

static unsigned long long fs_xgetbv0(void) {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
#endif
}

static int fs_cpu_has(fs_isa isa) {
    unsigned r[4], maxleaf;
    unsigned long long xcr0;
    if (isa == FS_ISA_SCALAR) return 1;
    fs_cpuid(0, 0, r);
    maxleaf = r[0];
    if (maxleaf < 7) return 0;
    fs_cpuid(1, 0, r);
    /* OSXSAVE (27), AVX (28), FMA (12) */
    if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)) || !(r[2] & (1u << 12))) return 0;
    xcr0 = fs_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    fs_cpuid(7, 0, r);
    if (!(r[1] & (1u << 5))) return 0; /* AVX2 */
    if (isa == FS_ISA_AVX2) return 1;
    /* AVX-512F (EBX bit 16) and opmask + ZMM state saved by the OS */
    return (r[1] & (1u << 16)) && (xcr0 & 0xE6) == 0xE6;
}
#else
static int fs_cpu_has(fs_isa isa) { return isa == FS_ISA_SCALAR; }
#endif

int fs_isa_supported(fs_isa isa) { return fs_isa_compiled(isa) && fs_cpu_has(isa); }

fs_isa fs_init(const char *request, int *downgraded) {
    int want = FS_ISA_COUNT - 1, i, flag = 0;
    if (request && request[0]) {
        want = -1;
        for (i = 0; i < FS_ISA_COUNT; i++)
            if (strcmp(request, fs_names[i]) == 0) want = i;
        if (want < 0) {
            want = FS_ISA_COUNT - 1;
            flag = 2;
        }
    }
    while (want > 0 && !fs_isa_supported((fs_isa)want)) {
        want--;
        if (!flag && request && request[0]) flag = 1;
    }
    fs_active = (fs_isa)want;
    fs_cur[0] = fs_tables[want][0];
    fs_cur[1] = fs_tables[want][1];
    if (downgraded) *downgraded = flag;
    return fs_active;
}

fs_isa fs_active_isa(void) { return fs_active; }

/* ---- public entry points ---- */
#define FS_CHECK(dt, rows, cols)                                           \
    if ((unsigned)(dt) > FS_FLOAT64 || (rows) < 0 || (cols) < 0) return FS_ERR_ARG

int fs_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs, int64_t x_cs,
                  void *y, int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_cur[dt]->softmax_2d(rows, cols, x, x_rs, x_cs, y, y_rs, y_cs);
}

int fs_log_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                      int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_cur[dt]->log_softmax_2d(rows, cols, x, x_rs, x_cs, y, y_rs, y_cs);
}

int fs_logsumexp_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *x, int64_t x_rs, int64_t x_cs,
                    void *y, int64_t y_s) {
    FS_CHECK(dt, rows, cols);
    return fs_cur[dt]->logsumexp_2d(rows, cols, x, x_rs, x_cs, y, y_s);
}

int fs_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *g, int64_t g_rs,
                           int64_t g_cs, const void *p, int64_t p_rs, int64_t p_cs, void *y,
                           int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_cur[dt]->softmax_backward_2d(rows, cols, g, g_rs, g_cs, p, p_rs, p_cs, y, y_rs, y_cs);
}

int fs_log_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols, const void *g, int64_t g_rs,
                               int64_t g_cs, const void *lp, int64_t lp_rs, int64_t lp_cs, void *y,
                               int64_t y_rs, int64_t y_cs) {
    FS_CHECK(dt, rows, cols);
    return fs_cur[dt]->log_softmax_backward_2d(rows, cols, g, g_rs, g_cs, lp, lp_rs, lp_cs, y, y_rs, y_cs);
}

int64_t fs_row_chunk(void) { return FS_CHUNK; }

int64_t fs_long_row(fs_dtype dt) { return FS_LONG_BYTES / (dt == FS_FLOAT64 ? 8 : 4); }

void fs_chunk_stats(fs_dtype dt, const void *x, int64_t n, double *m, double *s) {
    fs_cur[dt]->chunk_stats(x, n, m, s);
}

void fs_stats_fold(double *M, double *S, double m, double s) { fs_fold_stats(M, S, m, s); }

void fs_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double scale) {
    fs_cur[dt]->softmax_write(x, y, n, m, scale);
}

void fs_log_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double c) {
    fs_cur[dt]->log_softmax_write(x, y, n, m, c);
}

double fs_stats_logsumexp(fs_dtype dt, const void *x, int64_t n, double M, double S) {
    return fs_cur[dt]->stats_logsumexp(x, n, M, S);
}

void fs_exp(fs_dtype dt, const void *x, void *y, int64_t n) { fs_cur[dt]->exp(x, y, n); }

const char *fs_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
#define FS_STR_(x) #x
#define FS_STR(x) FS_STR_(x)
    return "msvc " FS_STR(_MSC_FULL_VER);
#else
    return "unknown";
#endif
}
