/*
 * Portable "vector" layer: a fixed block of lanes held in a plain array, every
 * operation a short loop over the lanes.  This is the readable reference of
 * the vector API and the path for non-x86 builds; at -O3 compilers vectorise
 * these loops for the baseline ISA (SSE2, NEON).
 *
 * Vector API (every backend provides exactly these, on the element type T):
 *   V, VL                   vector type and lane count (VL an integer expression:
 *                           a constant on the fixed-width ISAs, read from the
 *                           CPU on SVE, so never an array size or a case label)
 *   FS_VLMAX                a compile-time constant >= VL: the size of lane scratch
 *                           arrays (T lanes[FS_VLMAX]); VL on fixed-width ISAs
 *   VS, vs_get(&s), vs_set(&s, v)   a vector that lives in memory: what an array
 *                           element or a struct member holds (V may be sizeless,
 *                           as on SVE, where it can be neither); V itself on the
 *                           fixed-width ISAs
 *   v_set1 v_loadu v_storeu unaligned full-vector access
 *   v_loadp(p, k, fill)     first k (< VL) lanes from p, the rest `fill`
 *   v_storep(p, v, k)       store the first k lanes only
 *   v_add v_sub v_mul v_max v_min   (v_max/v_min return b when a lane is NaN,
 *                                    as x86 maxps/minps do)
 *   v_fma(a, b, c)          a * b + c
 *   v_zero_lt(x, c, r)      x < c ? 0 : r, lane-wise (NaN x keeps r)
 *   v_inf_gt(x, c, r)       x > c ? +inf : r
 *   v_pow2n(z)              reinterpret z's bits as an integer, shift left by
 *                           the mantissa width, reinterpret back
 *   v_ldexp_bits(p, z)      p's bits plus z's shifted as v_pow2n's (integer add,
 *                           wrapping): p 2^n for z's low bits n, where the result
 *                           is a normal number
 *   v_hsum v_hmax           horizontal reductions (fixed order)
 *   v_div(a, b)             a / b, correctly rounded
 *   v_abs(a) v_nabs(a)      |a|, -|a| (the sign bit cleared / set)
 *   v_sel_lt(a, b, t, f)    a < b ? t : f   lane-wise (a NaN compares false)
 *   v_any_nge(a, b)         1 if !(a >= b) in any lane (a NaN in a or b: 1), else 0
 *   v_sel_ge(a, b, t, f)    a >= b ? t : f
 *   v_frexp(v, &k)          v = m 2^k with m in [1, 2) (k as T), for positive normal v
 *   float32 only, a float64 product of (1 + e) per lane:
 *   fs_prod                 the accumulator: VL float64 lanes
 *   v_prod_init(&P)         every lane 1
 *   v_prod_mul(&P, e)       lane l *= 1 + (double)e[l]
 *   v_prod_lanes(&P, out)   the VL lanes to out[0 .. VL-1]
 */
#include "common.h"

#if FS_F64
#define VL 4
typedef uint64_t fs_uint;
#else
#define VL 8
typedef uint32_t fs_uint;
#endif
typedef struct { T l[VL]; } V;
#include "fixed.h"

#define FS_LANES(stmt) do { int j_; for (j_ = 0; j_ < VL; j_++) { stmt; } } while (0)

FS_INLINE V v_set1(T a) { V r; FS_LANES(r.l[j_] = a); return r; }
FS_INLINE V v_loadu(const T *p) { V r; FS_LANES(r.l[j_] = p[j_]); return r; }
FS_INLINE void v_storeu(T *p, V v) { FS_LANES(p[j_] = v.l[j_]); }
FS_INLINE V v_loadp(const T *p, int64_t k, T fill) {
    V r; FS_LANES(r.l[j_] = j_ < k ? p[j_] : fill); return r;
}
FS_INLINE void v_storep(T *p, V v, int64_t k) {
    int64_t j; for (j = 0; j < k; j++) p[j] = v.l[j];
}
FS_INLINE V v_add(V a, V b) { V r; FS_LANES(r.l[j_] = a.l[j_] + b.l[j_]); return r; }
FS_INLINE V v_sub(V a, V b) { V r; FS_LANES(r.l[j_] = a.l[j_] - b.l[j_]); return r; }
FS_INLINE V v_mul(V a, V b) { V r; FS_LANES(r.l[j_] = a.l[j_] * b.l[j_]); return r; }
FS_INLINE V v_fma(V a, V b, V c) { V r; FS_LANES(r.l[j_] = a.l[j_] * b.l[j_] + c.l[j_]); return r; }
#define FS_VFMA_FUSED 0 /* v_fma may round twice (no FMA in the baseline ISA) */
FS_INLINE V v_max(V a, V b) { V r; FS_LANES(r.l[j_] = a.l[j_] > b.l[j_] ? a.l[j_] : b.l[j_]); return r; }
FS_INLINE V v_min(V a, V b) { V r; FS_LANES(r.l[j_] = a.l[j_] < b.l[j_] ? a.l[j_] : b.l[j_]); return r; }
FS_INLINE V v_zero_lt(V x, V c, V r) { FS_LANES(r.l[j_] = x.l[j_] < c.l[j_] ? (T)0 : r.l[j_]); return r; }
FS_INLINE V v_inf_gt(V x, V c, V r) { FS_LANES(r.l[j_] = x.l[j_] > c.l[j_] ? (T)INFINITY : r.l[j_]); return r; }
FS_INLINE V v_pow2n(V z) {
    V r;
    FS_LANES(fs_uint u_; memcpy(&u_, &z.l[j_], sizeof u_); u_ <<= FS_MANT_BITS;
             memcpy(&r.l[j_], &u_, sizeof u_));
    return r;
}
FS_INLINE V v_ldexp_bits(V p, V z) {
    V r;
    FS_LANES(fs_uint u_; fs_uint w_; memcpy(&u_, &p.l[j_], sizeof u_); memcpy(&w_, &z.l[j_], sizeof w_);
             u_ += w_ << FS_MANT_BITS; memcpy(&r.l[j_], &u_, sizeof u_));
    return r;
}
FS_INLINE T v_hsum(V v) {
    int w;
    for (w = VL / 2; w > 0; w /= 2) { int j; for (j = 0; j < w; j++) v.l[j] += v.l[j + w]; }
    return v.l[0];
}
FS_INLINE T v_hmax(V v) {
    int w;
    for (w = VL / 2; w > 0; w /= 2) {
        int j; for (j = 0; j < w; j++) v.l[j] = v.l[j] > v.l[j + w] ? v.l[j] : v.l[j + w];
    }
    return v.l[0];
}
FS_INLINE V v_div(V a, V b) { V r; FS_LANES(r.l[j_] = a.l[j_] / b.l[j_]); return r; }
FS_INLINE V v_abs(V a) { V r; FS_LANES(r.l[j_] = (T)fabs(a.l[j_])); return r; }
FS_INLINE V v_nabs(V a) { V r; FS_LANES(r.l[j_] = -(T)fabs(a.l[j_])); return r; }
FS_INLINE V v_sel_lt(V a, V b, V t, V f) {
    V r; FS_LANES(r.l[j_] = a.l[j_] < b.l[j_] ? t.l[j_] : f.l[j_]); return r;
}
FS_INLINE int v_any_nge(V a, V b) { int r = 0; FS_LANES(r |= !(a.l[j_] >= b.l[j_])); return r; }
FS_INLINE V v_sel_ge(V a, V b, V t, V f) {
    V r; FS_LANES(r.l[j_] = a.l[j_] >= b.l[j_] ? t.l[j_] : f.l[j_]); return r;
}
FS_INLINE V v_frexp(V v, V *k) {
    V m;
    FS_LANES(fs_uint u_; memcpy(&u_, &v.l[j_], sizeof u_);
             k->l[j_] = (T)(int64_t)(u_ >> FS_MANT_BITS) - (T)FS_EXP_BIAS;
             u_ = (u_ & (((fs_uint)1 << FS_MANT_BITS) - 1)) | ((fs_uint)FS_EXP_BIAS << FS_MANT_BITS);
             memcpy(&m.l[j_], &u_, sizeof u_));
    return m;
}
#if !FS_F64
typedef struct { double l[VL]; } fs_prod;
FS_INLINE void v_prod_init(fs_prod *p) { FS_LANES(p->l[j_] = 1.0); }
FS_INLINE void v_prod_mul(fs_prod *p, V e) { FS_LANES(p->l[j_] *= 1.0 + (double)e.l[j_]); }
FS_INLINE void v_prod_lanes(const fs_prod *p, double *out) { memcpy(out, p->l, sizeof p->l); }
#endif
