/* AVX-512F vector layer (512-bit, masked tails).  API: see scalar.h. */
#include "common.h"
#include <immintrin.h>

#if FS_F64
#define VL 8
typedef __m512d V;
typedef __mmask8 fs_mask;
#define FS_MM(op) _mm512_##op##_pd
#define FS_SLLI _mm512_slli_epi64
#define FS_CASTI _mm512_castpd_si512
#define FS_CASTF _mm512_castsi512_pd
#define FS_CMP_MASK _mm512_cmp_pd_mask
#else
#define VL 16
typedef __m512 V;
typedef __mmask16 fs_mask;
#define FS_MM(op) _mm512_##op##_ps
#define FS_SLLI _mm512_slli_epi32
#define FS_CASTI _mm512_castps_si512
#define FS_CASTF _mm512_castsi512_ps
#define FS_CMP_MASK _mm512_cmp_ps_mask
#endif

FS_INLINE fs_mask fs_avx512_mask(int64_t k) { return (fs_mask)((1u << k) - 1u); }

FS_INLINE V v_set1(T a) { return FS_MM(set1)(a); }
FS_INLINE V v_loadu(const T *p) { return FS_MM(loadu)(p); }
FS_INLINE void v_storeu(T *p, V v) { FS_MM(storeu)(p, v); }
FS_INLINE V v_loadp(const T *p, int64_t k, T fill) {
    return FS_MM(mask_loadu)(FS_MM(set1)(fill), fs_avx512_mask(k), p);
}
FS_INLINE void v_storep(T *p, V v, int64_t k) { FS_MM(mask_storeu)(p, fs_avx512_mask(k), v); }
FS_INLINE V v_add(V a, V b) { return FS_MM(add)(a, b); }
FS_INLINE V v_sub(V a, V b) { return FS_MM(sub)(a, b); }
FS_INLINE V v_mul(V a, V b) { return FS_MM(mul)(a, b); }
FS_INLINE V v_fma(V a, V b, V c) { return FS_MM(fmadd)(a, b, c); }
FS_INLINE V v_max(V a, V b) { return FS_MM(max)(a, b); }
FS_INLINE V v_min(V a, V b) { return FS_MM(min)(a, b); }
FS_INLINE V v_zero_lt(V x, V c, V r) {
    return FS_MM(maskz_mov)((fs_mask)~FS_CMP_MASK(x, c, _CMP_LT_OQ), r);
}
FS_INLINE V v_inf_gt(V x, V c, V r) {
    return FS_MM(mask_mov)(r, FS_CMP_MASK(x, c, _CMP_GT_OQ), FS_MM(set1)((T)INFINITY));
}
FS_INLINE V v_pow2n(V z) { return FS_CASTF(FS_SLLI(FS_CASTI(z), FS_MANT_BITS)); }
FS_INLINE T v_hsum(V v) { return FS_MM(reduce_add)(v); }
FS_INLINE T v_hmax(V v) { return FS_MM(reduce_max)(v); }
