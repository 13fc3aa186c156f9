/* AArch64 SVE vector layer: vector-length agnostic (any length the CPU has, 128
 * to 2048 bits; VL is read with svcntw / svcntd, never assumed), predicated
 * tails.  SVE2 is not used.  API and semantics: see scalar.h; the comparisons
 * follow its NaN rules (v_max / v_min select, as x86 maxps does, instead of
 * FMAX's NaN propagation).  The horizontal reductions are FADDV / FMAXV: a fixed
 * order for a given vector length (FMAXV gives NaN when a lane is NaN).
 *
 * SVE vectors are sizeless: no arrays, struct members or sizeof.  VS, the
 * vector kept in memory, is FS_VLMAX lanes (the architectural maximum) moved
 * with full-vector loads and stores. */
#include "common.h"
#include <arm_sve.h>

#if FS_F64
typedef svfloat64_t V;
typedef svuint64_t fs_sve_bits;
#define VL ((int64_t)svcntd())
#define FS_VLMAX 32 /* 2048 bits */
#define FS_SVE_PT svptrue_b64()
#define FS_SVE_WHILE svwhilelt_b64_s64
#define FS_SV(op) op##_f64
#define FS_SVX(op) op##_f64_x
#define FS_SVUX(op) op##_u64_x
#define FS_SVE_BITS svreinterpret_u64_f64
#define FS_SVE_FLT svreinterpret_f64_u64
#define FS_SVE_SIGN 0x8000000000000000ULL
#define FS_SVE_MANT 0x000FFFFFFFFFFFFFULL
#define FS_SVE_ONE 0x3FF0000000000000ULL
#define FS_SVE_CVT_U svcvt_f64_u64_x
#else
typedef svfloat32_t V;
typedef svuint32_t fs_sve_bits;
#define VL ((int64_t)svcntw())
#define FS_VLMAX 64 /* 2048 bits */
#define FS_SVE_PT svptrue_b32()
#define FS_SVE_WHILE svwhilelt_b32_s64
#define FS_SV(op) op##_f32
#define FS_SVX(op) op##_f32_x
#define FS_SVUX(op) op##_u32_x
#define FS_SVE_BITS svreinterpret_u32_f32
#define FS_SVE_FLT svreinterpret_f32_u32
#define FS_SVE_SIGN 0x80000000U
#define FS_SVE_MANT 0x007FFFFFU
#define FS_SVE_ONE 0x3F800000U
#define FS_SVE_CVT_U svcvt_f32_u32_x
#endif

typedef struct { T l[FS_VLMAX]; } VS;
FS_INLINE V vs_get(const VS *p) { return FS_SV(svld1)(FS_SVE_PT, p->l); }
FS_INLINE void vs_set(VS *p, V v) { FS_SV(svst1)(FS_SVE_PT, p->l, v); }

FS_INLINE V v_set1(T a) { return FS_SV(svdup_n)(a); }
FS_INLINE V v_loadu(const T *p) { return FS_SV(svld1)(FS_SVE_PT, p); }
FS_INLINE void v_storeu(T *p, V v) { FS_SV(svst1)(FS_SVE_PT, p, v); }
FS_INLINE V v_loadp(const T *p, int64_t k, T fill) {
    svbool_t m = FS_SVE_WHILE(0, k);
    return FS_SV(svsel)(m, FS_SV(svld1)(m, p), v_set1(fill));
}
FS_INLINE void v_storep(T *p, V v, int64_t k) { FS_SV(svst1)(FS_SVE_WHILE(0, k), p, v); }
FS_INLINE V v_add(V a, V b) { return FS_SVX(svadd)(FS_SVE_PT, a, b); }
FS_INLINE V v_sub(V a, V b) { return FS_SVX(svsub)(FS_SVE_PT, a, b); }
FS_INLINE V v_mul(V a, V b) { return FS_SVX(svmul)(FS_SVE_PT, a, b); }
FS_INLINE V v_div(V a, V b) { return FS_SVX(svdiv)(FS_SVE_PT, a, b); }
FS_INLINE V v_fma(V a, V b, V c) { return FS_SVX(svmla)(FS_SVE_PT, c, a, b); }
#define FS_VFMA_FUSED 1 /* v_fma rounds once */
/* a > b ? a : b; the ordered compares are false for a NaN lane */
FS_INLINE V v_max(V a, V b) { return FS_SV(svsel)(FS_SV(svcmpgt)(FS_SVE_PT, a, b), a, b); }
FS_INLINE V v_min(V a, V b) { return FS_SV(svsel)(FS_SV(svcmplt)(FS_SVE_PT, a, b), a, b); }
FS_INLINE V v_zero_lt(V x, V c, V r) { return FS_SV(svsel)(FS_SV(svcmplt)(FS_SVE_PT, x, c), v_set1((T)0), r); }
FS_INLINE V v_inf_gt(V x, V c, V r) {
    return FS_SV(svsel)(FS_SV(svcmpgt)(FS_SVE_PT, x, c), v_set1((T)INFINITY), r);
}
FS_INLINE V v_sel_lt(V a, V b, V t, V f) { return FS_SV(svsel)(FS_SV(svcmplt)(FS_SVE_PT, a, b), t, f); }
FS_INLINE V v_sel_ge(V a, V b, V t, V f) { return FS_SV(svsel)(FS_SV(svcmpge)(FS_SVE_PT, a, b), t, f); }
FS_INLINE int v_any_nge(V a, V b) {
    return svptest_any(FS_SVE_PT, svnot_b_z(FS_SVE_PT, FS_SV(svcmpge)(FS_SVE_PT, a, b)));
}
FS_INLINE V v_pow2n(V z) { return FS_SVE_FLT(FS_SVUX(svlsl_n)(FS_SVE_PT, FS_SVE_BITS(z), FS_MANT_BITS)); }
FS_INLINE V v_ldexp_bits(V p, V z) {
    return FS_SVE_FLT(FS_SVUX(svadd)(FS_SVE_PT, FS_SVE_BITS(p),
                                     FS_SVUX(svlsl_n)(FS_SVE_PT, FS_SVE_BITS(z), FS_MANT_BITS)));
}
FS_INLINE T v_hsum(V v) { return FS_SV(svaddv)(FS_SVE_PT, v); }
FS_INLINE T v_hmax(V v) { return FS_SV(svmaxv)(FS_SVE_PT, v); }
FS_INLINE V v_abs(V a) { return FS_SVX(svabs)(FS_SVE_PT, a); }
FS_INLINE V v_nabs(V a) { return FS_SVE_FLT(FS_SVUX(svorr_n)(FS_SVE_PT, FS_SVE_BITS(a), FS_SVE_SIGN)); }
FS_INLINE V v_frexp(V v, V *k) {
    fs_sve_bits b = FS_SVE_BITS(v);
    *k = v_sub(FS_SVE_CVT_U(FS_SVE_PT, FS_SVUX(svlsr_n)(FS_SVE_PT, b, FS_MANT_BITS)),
               v_set1((T)FS_EXP_BIAS));
    return FS_SVE_FLT(FS_SVUX(svorr_n)(FS_SVE_PT, FS_SVUX(svand_n)(FS_SVE_PT, b, FS_SVE_MANT), FS_SVE_ONE));
}

#if !FS_F64
/* the VL float64 lanes in memory: lanes 0 .. VL/2-1, then VL/2 .. VL-1 */
typedef struct { double l[FS_VLMAX]; } fs_prod;
FS_INLINE void v_prod_init(fs_prod *p) {
    svst1_f64(svptrue_b64(), p->l, svdup_n_f64(1.0));
    svst1_f64(svptrue_b64(), p->l + svcntd(), svdup_n_f64(1.0));
}
FS_INLINE void v_prod_mul(fs_prod *p, V e) {
    const svbool_t pd = svptrue_b64();
    const svfloat64_t one = svdup_n_f64(1.0);
    /* FCVT widens the even float32 lanes: zip puts lane j at 2j */
    svfloat64_t lo = svcvt_f64_f32_x(pd, svzip1_f32(e, e)), hi = svcvt_f64_f32_x(pd, svzip2_f32(e, e));
    svst1_f64(pd, p->l, svmul_f64_x(pd, svld1_f64(pd, p->l), svadd_f64_x(pd, one, lo)));
    svst1_f64(pd, p->l + svcntd(), svmul_f64_x(pd, svld1_f64(pd, p->l + svcntd()), svadd_f64_x(pd, one, hi)));
}
FS_INLINE void v_prod_lanes(const fs_prod *p, double *out) { memcpy(out, p->l, (size_t)VL * sizeof(double)); }
#endif
