/* The operations AVX2 and AVX-512 spell alike: included by avx2.h and avx512.h
 * once they have defined V, T and FS_MM(op) (the _mm256_ / _mm512_ intrinsic of
 * the element type).  API: see scalar.h. */
#include "fixed.h"
FS_INLINE V v_set1(T a) { return FS_MM(set1)(a); }
FS_INLINE V v_loadu(const T *p) { return FS_MM(loadu)(p); }
FS_INLINE void v_storeu(T *p, V v) { FS_MM(storeu)(p, v); }
FS_INLINE V v_add(V a, V b) { return FS_MM(add)(a, b); }
FS_INLINE V v_sub(V a, V b) { return FS_MM(sub)(a, b); }
FS_INLINE V v_mul(V a, V b) { return FS_MM(mul)(a, b); }
FS_INLINE V v_div(V a, V b) { return FS_MM(div)(a, b); }
FS_INLINE V v_fma(V a, V b, V c) { return FS_MM(fmadd)(a, b, c); }
#define FS_VFMA_FUSED 1 /* v_fma rounds once */
FS_INLINE V v_max(V a, V b) { return FS_MM(max)(a, b); }
FS_INLINE V v_min(V a, V b) { return FS_MM(min)(a, b); }
FS_INLINE V v_pow2n(V z) { return FS_CASTF(FS_SLLI(FS_CASTI(z), FS_MANT_BITS)); }
FS_INLINE V v_ldexp_bits(V p, V z) { return FS_CASTF(FS_ADDI(FS_CASTI(p), FS_SLLI(FS_CASTI(z), FS_MANT_BITS))); }
