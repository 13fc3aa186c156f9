/* AVX2 + FMA vector layer (256-bit).  API: see scalar.h. */
#include "common.h"
#include <immintrin.h>

#if FS_F64
#define VL 4
typedef __m256d V;
#define FS_MM(op) _mm256_##op##_pd
#define FS_SLLI _mm256_slli_epi64
#define FS_ADDI _mm256_add_epi64
#define FS_CASTI _mm256_castpd_si256
#define FS_CASTF _mm256_castsi256_pd
#define FS_CAST_MASK _mm256_castsi256_pd
#else
#define VL 8
typedef __m256 V;
#define FS_MM(op) _mm256_##op##_ps
#define FS_SLLI _mm256_slli_epi32
#define FS_ADDI _mm256_add_epi32
#define FS_CASTI _mm256_castps_si256
#define FS_CASTF _mm256_castsi256_ps
#define FS_CAST_MASK _mm256_castsi256_ps
#endif

/* int32 lanes: -1 for the first k elements of a vector of T (2 int32 per double) */
static const int32_t fs_avx2_mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
FS_INLINE __m256i fs_avx2_mask(int64_t k) {
    return _mm256_loadu_si256((const __m256i *)(fs_avx2_mask_tab + 8 - k * (int64_t)(8 / VL)));
}

#include "x86.h"
FS_INLINE V v_loadp(const T *p, int64_t k, T fill) {
    __m256i m = fs_avx2_mask(k);
    return FS_MM(blendv)(FS_MM(set1)(fill), FS_MM(maskload)(p, m), FS_CAST_MASK(m));
}
/* element stores: vmaskmov stores are microcoded and slow on AMD Zen */
FS_INLINE void v_storep(T *p, V v, int64_t k) {
    T tmp[VL];
    int64_t j;
    FS_MM(storeu)(tmp, v);
    for (j = 0; j < k; j++) p[j] = tmp[j];
}
FS_INLINE V v_zero_lt(V x, V c, V r) { return FS_MM(andnot)(FS_MM(cmp)(x, c, _CMP_LT_OQ), r); }
FS_INLINE V v_inf_gt(V x, V c, V r) {
    return FS_MM(blendv)(r, FS_MM(set1)((T)INFINITY), FS_MM(cmp)(x, c, _CMP_GT_OQ));
}

#if FS_F64
FS_INLINE T v_hsum(V v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
FS_INLINE T v_hmax(V v) {
    __m128d s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}
#else
FS_INLINE T v_hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
FS_INLINE T v_hmax(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
#endif
FS_INLINE V v_abs(V a) { return FS_MM(andnot)(v_set1((T)-0.0), a); }
FS_INLINE V v_nabs(V a) { return FS_MM(or)(v_set1((T)-0.0), a); }
FS_INLINE V v_sel_lt(V a, V b, V t, V f) { return FS_MM(blendv)(f, t, FS_MM(cmp)(a, b, _CMP_LT_OQ)); }
FS_INLINE V v_sel_ge(V a, V b, V t, V f) { return FS_MM(blendv)(f, t, FS_MM(cmp)(a, b, _CMP_GE_OQ)); }
FS_INLINE int v_any_nge(V a, V b) { return FS_MM(movemask)(FS_MM(cmp)(a, b, _CMP_NGE_UQ)) != 0; }
#if FS_F64
FS_INLINE V v_frexp(V v, V *k) {
    /* the exponent field, as a double: (2^52 + field) - (2^52 + bias) */
    __m256i b = _mm256_castpd_si256(v);
    __m256i e = _mm256_or_si256(_mm256_srli_epi64(b, 52), _mm256_set1_epi64x(0x4330000000000000LL));
    *k = _mm256_sub_pd(_mm256_castsi256_pd(e), _mm256_set1_pd(4503599627370496.0 + FS_EXP_BIAS));
    return _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi64x(0xFFFFFFFFFFFFFLL)),
                                               _mm256_set1_epi64x(0x3FF0000000000000LL)));
}
#else
FS_INLINE V v_frexp(V v, V *k) {
    __m256i b = _mm256_castps_si256(v);
    *k = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(b, 23)), _mm256_set1_ps((float)FS_EXP_BIAS));
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi32(0x7FFFFF)),
                                               _mm256_set1_epi32(0x3F800000)));
}
typedef struct { __m256d lo, hi; } fs_prod;
FS_INLINE void v_prod_init(fs_prod *p) { p->lo = p->hi = _mm256_set1_pd(1.0); }
FS_INLINE void v_prod_mul(fs_prod *p, V e) {
    const __m256d one = _mm256_set1_pd(1.0);
    p->lo = _mm256_mul_pd(p->lo, _mm256_add_pd(one, _mm256_cvtps_pd(_mm256_castps256_ps128(e))));
    p->hi = _mm256_mul_pd(p->hi, _mm256_add_pd(one, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1))));
}
FS_INLINE void v_prod_lanes(const fs_prod *p, double *out) {
    _mm256_storeu_pd(out, p->lo);
    _mm256_storeu_pd(out + 4, p->hi);
}
#endif
