/* AArch64 Advanced SIMD (NEON) vector layer: 128-bit, float32 x 4 / float64 x 2,
 * present on every AArch64 CPU.  API and semantics: see scalar.h (the
 * reductions follow its tree, the comparisons its NaN rules).  NEON has no
 * masked loads: the tails go through a lane buffer. */
#include "common.h"
#include <arm_neon.h>

#if FS_F64
#define VL 2
typedef float64x2_t V;
typedef uint64x2_t fs_neon_bits;
#define FS_NQ(op) op##q_f64
#define FS_NQU(op) op##q_u64
#define FS_NQN(op) op##q_n_f64
#define FS_NQUN(op) op##q_n_u64
#define FS_NQ_BITS(v) vreinterpretq_u64_f64(v)
#define FS_NQ_FLT(b) vreinterpretq_f64_u64(b)
#define FS_NEON_SIGN 0x8000000000000000ULL
#define FS_NEON_MANT 0x000FFFFFFFFFFFFFULL
#define FS_NEON_ONE 0x3FF0000000000000ULL
#define FS_NEON_CVT_U vcvtq_f64_u64
#else
#define VL 4
typedef float32x4_t V;
typedef uint32x4_t fs_neon_bits;
#define FS_NQ(op) op##q_f32
#define FS_NQU(op) op##q_u32
#define FS_NQN(op) op##q_n_f32
#define FS_NQUN(op) op##q_n_u32
#define FS_NQ_BITS(v) vreinterpretq_u32_f32(v)
#define FS_NQ_FLT(b) vreinterpretq_f32_u32(b)
#define FS_NEON_SIGN 0x80000000U
#define FS_NEON_MANT 0x007FFFFFU
#define FS_NEON_ONE 0x3F800000U
#define FS_NEON_CVT_U vcvtq_f32_u32
#endif
#include "fixed.h"

FS_INLINE V v_set1(T a) { return FS_NQN(vdup)(a); }
FS_INLINE V v_loadu(const T *p) { return FS_NQ(vld1)(p); }
FS_INLINE void v_storeu(T *p, V v) { FS_NQ(vst1)(p, v); }
FS_INLINE V v_loadp(const T *p, int64_t k, T fill) {
    T t[VL];
    int64_t j;
    for (j = 0; j < VL; j++) t[j] = j < k ? p[j] : fill;
    return FS_NQ(vld1)(t);
}
FS_INLINE void v_storep(T *p, V v, int64_t k) {
    T t[VL];
    int64_t j;
    FS_NQ(vst1)(t, v);
    for (j = 0; j < k; j++) p[j] = t[j];
}
FS_INLINE V v_add(V a, V b) { return FS_NQ(vadd)(a, b); }
FS_INLINE V v_sub(V a, V b) { return FS_NQ(vsub)(a, b); }
FS_INLINE V v_mul(V a, V b) { return FS_NQ(vmul)(a, b); }
FS_INLINE V v_div(V a, V b) { return FS_NQ(vdiv)(a, b); }
FS_INLINE V v_fma(V a, V b, V c) { return FS_NQ(vfma)(c, a, b); }
#define FS_VFMA_FUSED 1 /* v_fma rounds once */
/* a > b ? a : b (vmaxq would return NaN for a NaN in either operand) */
FS_INLINE V v_max(V a, V b) { return FS_NQ(vbsl)(FS_NQ(vcgt)(a, b), a, b); }
FS_INLINE V v_min(V a, V b) { return FS_NQ(vbsl)(FS_NQ(vclt)(a, b), a, b); }
/* the ordered compares are false for a NaN lane */
FS_INLINE V v_zero_lt(V x, V c, V r) { return FS_NQ(vbsl)(FS_NQ(vclt)(x, c), v_set1((T)0), r); }
FS_INLINE V v_inf_gt(V x, V c, V r) { return FS_NQ(vbsl)(FS_NQ(vcgt)(x, c), v_set1((T)INFINITY), r); }
FS_INLINE V v_sel_lt(V a, V b, V t, V f) { return FS_NQ(vbsl)(FS_NQ(vclt)(a, b), t, f); }
FS_INLINE V v_sel_ge(V a, V b, V t, V f) { return FS_NQ(vbsl)(FS_NQ(vcge)(a, b), t, f); }
FS_INLINE int v_any_nge(V a, V b) { /* some lane not set by a >= b (a NaN sets none) */
#if FS_F64
    uint64x2_t m = FS_NQ(vcge)(a, b);
#else
    uint64x2_t m = vreinterpretq_u64_u32(FS_NQ(vcge)(a, b));
#endif
    return (vgetq_lane_u64(m, 0) & vgetq_lane_u64(m, 1)) != ~(uint64_t)0;
}
FS_INLINE V v_pow2n(V z) { return FS_NQ_FLT(FS_NQUN(vshl)(FS_NQ_BITS(z), FS_MANT_BITS)); }
FS_INLINE V v_ldexp_bits(V p, V z) {
    return FS_NQ_FLT(FS_NQU(vadd)(FS_NQ_BITS(p), FS_NQUN(vshl)(FS_NQ_BITS(z), FS_MANT_BITS)));
}
FS_INLINE V v_abs(V a) { return FS_NQ(vabs)(a); }
FS_INLINE V v_nabs(V a) { return FS_NQ_FLT(FS_NQU(vorr)(FS_NQ_BITS(a), FS_NQUN(vdup)(FS_NEON_SIGN))); }
FS_INLINE V v_frexp(V v, V *k) {
    fs_neon_bits b = FS_NQ_BITS(v);
    *k = v_sub(FS_NEON_CVT_U(FS_NQUN(vshr)(b, FS_MANT_BITS)), v_set1((T)FS_EXP_BIAS));
    return FS_NQ_FLT(FS_NQU(vorr)(FS_NQU(vand)(b, FS_NQUN(vdup)(FS_NEON_MANT)), FS_NQUN(vdup)(FS_NEON_ONE)));
}

/* scalar.h's tree: lane j with lane j + VL/2, then the halves' lanes */
#if FS_F64
FS_INLINE T v_hsum(V v) { return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1); }
FS_INLINE T v_hmax(V v) {
    T a = vgetq_lane_f64(v, 0), b = vgetq_lane_f64(v, 1);
    return a > b ? a : b;
}
#else
FS_INLINE T v_hsum(V v) {
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}
FS_INLINE T v_hmax(V v) {
    float32x2_t lo = vget_low_f32(v), hi = vget_high_f32(v);
    float32x2_t s = vbsl_f32(vcgt_f32(lo, hi), lo, hi);
    T a = vget_lane_f32(s, 0), b = vget_lane_f32(s, 1);
    return a > b ? a : b;
}
typedef struct { float64x2_t lo, hi; } fs_prod;
FS_INLINE void v_prod_init(fs_prod *p) { p->lo = p->hi = vdupq_n_f64(1.0); }
FS_INLINE void v_prod_mul(fs_prod *p, V e) {
    const float64x2_t one = vdupq_n_f64(1.0);
    p->lo = vmulq_f64(p->lo, vaddq_f64(one, vcvt_f64_f32(vget_low_f32(e))));
    p->hi = vmulq_f64(p->hi, vaddq_f64(one, vcvt_high_f64_f32(e)));
}
FS_INLINE void v_prod_lanes(const fs_prod *p, double *out) {
    vst1q_f64(out, p->lo);
    vst1q_f64(out + 2, p->hi);
}
#endif
