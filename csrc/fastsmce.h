/*
 * fastsmce C API: stable softmax / log-softmax / logsumexp and their backward
 * passes over strided 2-D views, float32 and float64, with runtime SIMD dispatch.
 *
 * Plain C99, no Python.  A "2-D view" is `rows` independent vectors of length
 * `cols`; element (r, c) of x lives at x[r * x_rs + c * x_cs].  Strides are in
 * ELEMENTS (not bytes), int64, and may be negative or zero.  The reduction runs
 * along `cols`.  Output views may alias the inputs exactly (in place).
 *
 * Every entry point is single-threaded and re-entrant: threading is the
 * caller's business (the Cython layer splits rows, or one long row by
 * fs_row_chunk(), across OpenMP threads).  Nothing here prints or keeps state
 * beyond the dispatch table chosen by fs_init().
 */
#ifndef FASTSMCE_H
#define FASTSMCE_H

#include <stdint.h>
#include "isa.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { FS_FLOAT32 = 0, FS_FLOAT64 = 1 } fs_dtype;

typedef enum {
    FS_OK = 0,
    FS_ERR_NOMEM = 1, /* a per-call O(cols) scratch buffer could not be allocated */
    FS_ERR_ARG = 2    /* bad argument (negative size, unknown dtype) */
} fs_status;

/* The instruction sets, one per row of FS_ISA_LIST (csrc/isa.h), in preference
 * order: FS_ISA_SCALAR = 0, FS_ISA_AVX2 = 1, FS_ISA_AVX512 = 2, FS_ISA_NEON = 3,
 * FS_ISA_SVE = 4, then FS_ISA_COUNT
 * (new rows are appended before FS_ISA_COUNT; existing values never change). */
#define FS_ISA_ENUM_(ID, name, arch, target, probe) FS_ISA_##ID,
typedef enum { FS_ISA_LIST(FS_ISA_ENUM_) FS_ISA_COUNT } fs_isa;
#undef FS_ISA_ENUM_

/* ---- dispatch ---------------------------------------------------------- */
/* Probe the CPU (x86: cpuid + xgetbv; Linux AArch64: getauxval(AT_HWCAP)) and
 * select the best compiled path, or the path named by `request` (a name of
 * csrc/isa.h: "scalar", "avx2", "avx512", "neon", "sve"; NULL or "" = best).
 * Returns the active path.  *downgraded is set to 1 when the request names a
 * path the CPU or the build cannot run (the best available one is used), and
 * to 2 when the request is not a known name. */
fs_isa fs_init(const char *request, int *downgraded);
fs_isa fs_active_isa(void);
int fs_isa_compiled(fs_isa isa);   /* built into this binary */
int fs_isa_supported(fs_isa isa);  /* compiled AND this CPU/OS can run it */
const char *fs_isa_name(fs_isa isa);

/* ---- softmax family over 2-D views -------------------------------------- */
int fs_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols,
                  const void *x, int64_t x_rs, int64_t x_cs,
                  void *y, int64_t y_rs, int64_t y_cs);
int fs_log_softmax_2d(fs_dtype dt, int64_t rows, int64_t cols,
                      const void *x, int64_t x_rs, int64_t x_cs,
                      void *y, int64_t y_rs, int64_t y_cs);
/* y[r * y_s] = log(sum_c exp(x[r, c])); -inf for cols == 0 */
int fs_logsumexp_2d(fs_dtype dt, int64_t rows, int64_t cols,
                    const void *x, int64_t x_rs, int64_t x_cs,
                    void *y, int64_t y_s);
/* y = p * (g - sum(g * p)) along cols */
int fs_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols,
                           const void *g, int64_t g_rs, int64_t g_cs,
                           const void *p, int64_t p_rs, int64_t p_cs,
                           void *y, int64_t y_rs, int64_t y_cs);
/* y = g - exp(lp) * sum(g) along cols */
int fs_log_softmax_backward_2d(fs_dtype dt, int64_t rows, int64_t cols,
                               const void *g, int64_t g_rs, int64_t g_cs,
                               const void *lp, int64_t lp_rs, int64_t lp_cs,
                               void *y, int64_t y_rs, int64_t y_cs);

/* ---- one long contiguous row split across threads ------------------------
 * A contiguous row of n >= fs_long_row(dt) elements is processed in fixed
 * chunks of fs_row_chunk() elements: (max, sum exp(x - max)) of each chunk is
 * computed (by any thread), the chunk statistics are folded in chunk order with
 * fs_stats_fold, and a final elementwise pass writes the output.  The single-
 * threaded kernels use exactly this scheme, so results are bit-identical for
 * any thread count.  softmax computes each exp once: fs_softmax_chunk_exp
 * stores the exps of each block of fs_row_block() elements against the block's
 * reference r_b, the running max of the chunk's blocks so far (x read once), then
 * fs_softmax_chunk_scale multiplies each block by exp(r_b - M) / S (in double). */
int64_t fs_row_chunk(void);
int64_t fs_row_block(void);
int64_t fs_long_row(fs_dtype dt);
void fs_chunk_stats(fs_dtype dt, const void *x, int64_t n, double *m, double *s);
void fs_stats_fold(double *M, double *S, double m, double s);
/* y = exp(x - m) * scale */
void fs_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double scale);
/* a chunk of n <= fs_row_chunk() elements, block by block: mb[b] = r_b, the max of
 * blocks 0..b (ceil(n / fs_row_block()) entries; -inf for a block of only -inf),
 * y = exp(x - r_b) there; (*m, *s) the chunk's statistics, the blocks' folded (a
 * block of only -inf: y = 0 there, and the chunk's s NaN if a NaN is there) */
void fs_softmax_chunk_exp(fs_dtype dt, const void *x, void *y, int64_t n, double *mb, double *m, double *s);
/* each block b of the chunk y times exp(mb[b] - M) / S (rounded to the element type);
 * check != 0: returns 1 when some result is not > 0 (fs_flag_values(.., 0)'s test),
 * else 0 */
int fs_softmax_chunk_scale(fs_dtype dt, void *y, int64_t n, const double *mb, double M, double S, int check);
/* 1 when some y[i], i < n, is a NaN (nan != 0) or else (nan == 0) is not > 0 (a
 * zero, a negative or a NaN), else 0: the test of an output for the values SciPy
 * defines otherwise (fastsmce.special), at the vector width */
int fs_flag_values(fs_dtype dt, const void *y, int64_t n, int nan);
/* y = (x - m) - c  (log_softmax with c = log S) */
void fs_log_softmax_write(fs_dtype dt, const void *x, void *y, int64_t n, double m, double c);
/* log-sum-exp from folded statistics; re-reads x only when the row max is +-inf */
double fs_stats_logsumexp(fs_dtype dt, const void *x, int64_t n, double M, double S);

/* ---- helpers ------------------------------------------------------------ */
/* the vectorised exp used by the kernels, exposed for accuracy tests */
void fs_exp(fs_dtype dt, const void *x, void *y, int64_t n);
/* the compiler that built the C core, e.g. "gcc 12.2.0" */
const char *fs_compiler(void);

#ifdef __cplusplus
}
#endif

/* the other kernel families */
#include "fastsmce_xent.h"
#include "fastsmce_sigmoid.h"
#include "fastsmce_sampling.h"
#endif /* FASTSMCE_H */
