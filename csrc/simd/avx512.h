/* AVX-512F vector layer (512-bit, masked tails).  API: see scalar.h. */
#include "common.h"
#include <immintrin.h>

#if FS_F64
#define VL 8
typedef __m512d V;
typedef __mmask8 fs_mask;
#define FS_MM(op) _mm512_##op##_pd
#define FS_SLLI _mm512_slli_epi64
#define FS_ADDI _mm512_add_epi64
#define FS_CASTI _mm512_castpd_si512
#define FS_CASTF _mm512_castsi512_pd
#define FS_CMP_MASK _mm512_cmp_pd_mask
#else
#define VL 16
typedef __m512 V;
typedef __mmask16 fs_mask;
#define FS_MM(op) _mm512_##op##_ps
#define FS_SLLI _mm512_slli_epi32
#define FS_ADDI _mm512_add_epi32
#define FS_CASTI _mm512_castps_si512
#define FS_CASTF _mm512_castsi512_ps
#define FS_CMP_MASK _mm512_cmp_ps_mask
#endif

FS_INLINE fs_mask fs_avx512_mask(int64_t k) { return (fs_mask)((1u << k) - 1u); }

#include "x86.h"
FS_INLINE V v_loadp(const T *p, int64_t k, T fill) {
    return FS_MM(mask_loadu)(FS_MM(set1)(fill), fs_avx512_mask(k), p);
}
FS_INLINE void v_storep(T *p, V v, int64_t k) { FS_MM(mask_storeu)(p, fs_avx512_mask(k), v); }
FS_INLINE V v_zero_lt(V x, V c, V r) {
    return FS_MM(maskz_mov)((fs_mask)~FS_CMP_MASK(x, c, _CMP_LT_OQ), r);
}
FS_INLINE V v_inf_gt(V x, V c, V r) {
    return FS_MM(mask_mov)(r, FS_CMP_MASK(x, c, _CMP_GT_OQ), FS_MM(set1)((T)INFINITY));
}
FS_INLINE T v_hsum(V v) { return FS_MM(reduce_add)(v); }
FS_INLINE T v_hmax(V v) { return FS_MM(reduce_max)(v); }
FS_INLINE V v_abs(V a) { return FS_MM(abs)(a); }
FS_INLINE V v_nabs(V a) { return FS_CASTF(_mm512_or_si512(FS_CASTI(a), FS_CASTI(v_set1((T)-0.0)))); }
FS_INLINE V v_sel_lt(V a, V b, V t, V f) { return FS_MM(mask_blend)(FS_CMP_MASK(a, b, _CMP_LT_OQ), f, t); }
FS_INLINE V v_sel_ge(V a, V b, V t, V f) { return FS_MM(mask_blend)(FS_CMP_MASK(a, b, _CMP_GE_OQ), f, t); }
FS_INLINE int v_any_nge(V a, V b) { return FS_CMP_MASK(a, b, _CMP_NGE_UQ) != 0; }
FS_INLINE V v_frexp(V v, V *k) {
    *k = FS_MM(getexp)(v);
    return FS_MM(getmant)(v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
}
#if !FS_F64
typedef struct { __m512d lo, hi; } fs_prod;
FS_INLINE void v_prod_init(fs_prod *p) { p->lo = p->hi = _mm512_set1_pd(1.0); }
FS_INLINE void v_prod_mul(fs_prod *p, V e) {
    const __m512d one = _mm512_set1_pd(1.0);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1));
    p->lo = _mm512_mul_pd(p->lo, _mm512_add_pd(one, _mm512_cvtps_pd(_mm512_castps512_ps256(e))));
    p->hi = _mm512_mul_pd(p->hi, _mm512_add_pd(one, _mm512_cvtps_pd(hi)));
}
FS_INLINE void v_prod_lanes(const fs_prod *p, double *out) {
    _mm512_storeu_pd(out, p->lo);
    _mm512_storeu_pd(out + 8, p->hi);
}
#endif
