/*
 * Shared by every (ISA, dtype) instantiation: the element type T, the name
 * pasting helpers, the constants of the exp approximation, and the blocking
 * sizes of the summation scheme.
 *
 * An instantiation unit defines FS_F64 (0 or 1) and FS_ISA (a name of
 * csrc/isa.h) before including csrc/kernels/instantiate.h.
 */
#ifndef FS_SIMD_COMMON_H
#define FS_SIMD_COMMON_H

#include <stdint.h>
#include <string.h>
#include <math.h>
#include "../isa.h" /* FS_CAT */

/* Blocking of every long sum (see DESIGN.md section 3 and fastsmce.h):
 * FS_BLOCK elements accumulate in T lanes; block sums accumulate in double
 * within a chunk of FS_CHUNK elements; chunk sums fold in chunk order. */
#define FS_BLOCK 2048
#define FS_CHUNK 65536
/* contiguous softmax rows above this many bytes take the two-pass chunked path
 * (x read twice, exp computed twice); up to it, the block-wise row of softmax.inc
 * (x read once, its exps kept in the output while the row is still in L2 / L3).
 * 1 MiB: softmax of 16 x 262144 float32 took 1.67 ms on the two-pass path and
 * 0.88 ms block-wise (2 threads, Zen 4 with 2 MiB of L2, same process conditions);
 * a single row of up to this length runs on one thread (longer ones are split
 * across threads). */
#define FS_LONG_BYTES (1024 * 1024)

#if defined(__GNUC__) || defined(__clang__)
#define FS_INLINE static inline __attribute__((always_inline))
#else
#define FS_INLINE static __forceinline
#endif

/* a software prefetch of the cache line at p (the sampled kernels' scattered
 * row gathers).  The 2-D walks do not prefetch the next row: the per-row
 * fs_prefetch of 4c20818 compiled to nothing (GCC 12 -O3 emitted no prefetch
 * instruction in those walks), and once the driver made it live it cost
 * 20-45% on 4096 x 1000 float32 rows (softmax, backward, cross-entropy). */
#if defined(__GNUC__) || defined(__clang__)
#define FS_PREFETCH_LINE(p) __builtin_prefetch((p), 0, 3)
#else
#define FS_PREFETCH_LINE(p) ((void)(p))
#endif

/* Fold block or chunk statistics: (M, S) <- (M, S) combined with (m, s), where
 * S = sum exp(x - M).  An all -inf piece (m = -inf, s = 0) adds nothing; a NaN
 * anywhere makes S NaN.  Used by the kernels and by callers that combine the
 * chunks of one row computed on several threads, so both fold identically. */
static inline void fs_fold_stats(double *M, double *S, double m, double s) {
    if (s == 0 && m == -INFINITY) return;
    if (m > *M) {
        *S = *S * exp(*M - m) + s;
        *M = m;
    } else if (m == *M) { /* exp(0) = 1: the same sum, no call (the blocks' running max) */
        *S += s;
    } else if (m < *M) {
        *S += s * exp(m - *M);
    } else {
        *S = NAN;
    }
}

#endif /* FS_SIMD_COMMON_H */

/* ---- per-dtype part: re-read for each instantiation ---------------------- */
#undef T
#undef FS_DT
#undef FS_MANT_BITS
#undef FS_EXP_BIAS
#undef FS_LOG2E
#undef FS_MAGIC
#undef FS_LN2_HI
#undef FS_LN2_LO
#undef FS_LN2_F
#undef FS_EXP_LO
#undef FS_EXP_HI
#if FS_F64
#define T double
#define FS_DT f64
#define FS_MANT_BITS 52
#define FS_EXP_BIAS 1023
#define FS_LOG2E 1.4426950408889634
/* 1.5 * 2^52 + 1023: adding it rounds to an integer whose low bits are n + bias */
#define FS_MAGIC 6755399441056767.0
/* Cody-Waite split of ln 2 (n * hi is exact for |n| < 2^11) */
#define FS_LN2_HI 6.93147180369123816490e-01
#define FS_LN2_LO 1.90821492927058770002e-10
/* below ln(DBL_MIN) the result would be subnormal: flushed to exactly 0 */
#define FS_EXP_LO (-708.3964185322641)
/* above 1023.5 ln 2 the scale 2^n overflows: +inf */
#define FS_EXP_HI 709.4367464
#else
#define T float
#define FS_DT f32
#define FS_MANT_BITS 23
#define FS_EXP_BIAS 127
#define FS_LOG2E 1.44269504f
#define FS_MAGIC 12583039.0f /* 1.5 * 2^23 + 127 */
#define FS_LN2_HI 0.693145751953125f
#define FS_LN2_LO 1.42860676533018704e-06f
#define FS_LN2_F 0x1.62e430p-1f /* ln2 rounded to float (the softmax family's fused reduction) */
/* the float nearest above ln(FLT_MIN) = -87.33654475: exp of it is still normal */
#define FS_EXP_LO (-0x1.5d589ep+6f)
#define FS_EXP_HI 88.3762626647949f /* 127.5 ln 2 */
#endif
