/*
 * exp on the vector layer, written once for every ISA and dtype.
 *
 * x = n ln2 + t with n = round(x / ln2) (rounded by adding FS_MAGIC, whose low
 * mantissa bits then hold n + bias) and t in [-ln2/2, ln2/2] by a two-constant
 * Cody-Waite reduction; 2^n is built by shifting n + bias into the exponent field.
 *   float64: exp(t) = 1 + t + t^2 q(t), q of degree 9 (<= 1 ulp);
 *   float32: exp(t) = 1 + t + t^2 q(t), q of degree 4 (<= 1 ulp), for the
 *   element-wise functions (sigmoid, log-sigmoid, ...), whose ulp bounds need it;
 *   the softmax family (_sm below, fs_vexp_sub) uses exp(t) = 1 + t q5(t), q5 of
 *   degree 4: one FMA less, 1.5e-7 relative (1.9 ulp) at most, evaluated in
 *   float32 (a minimax fit by tools/exp_poly.py), well inside its 1e-6 bounds;
 *   where v_fma is fused (every ISA but the portable scalar one) its reduction is
 *   one FMA with ln2 rounded to float: t = x - n float(ln2) rounds once, and the
 *   constant's error adds |n| 1.9e-9 <= 2.4e-7 relative (n >= -126; at most
 *   1.9e-7 for the probabilities >= 1e-30 the bounds cover), one more FMA less;
 *   and where its result is known to be normal (fs_vexp_sub's fast path) 2^n is
 *   added to the exponent bits instead of multiplied in (fs_vexp_sm_parts).
 *
 * fs_vexp_le0: for the softmax domain x <= 0 (x - rowmax).  Results below the
 * smallest normal (x < FS_EXP_LO) are exactly 0, so no subnormal is produced;
 * -inf gives 0 and NaN gives NaN.
 * fs_vexp: full range: also x > FS_EXP_HI gives +inf.
 */
#if FS_F64
FS_INLINE V fs_vexp_poly(V t) {
    V q = v_set1(2.510037583256123366e-8);
    q = v_fma(q, t, v_set1(2.762007587998336658e-7));
    q = v_fma(q, t, v_set1(2.755726848031002552e-6));
    q = v_fma(q, t, v_set1(2.480152132236869326e-5));
    q = v_fma(q, t, v_set1(1.984126986304054527e-4));
    q = v_fma(q, t, v_set1(1.388888891719671907e-3));
    q = v_fma(q, t, v_set1(8.333333333330064449e-3));
    q = v_fma(q, t, v_set1(4.166666666662416190e-2));
    q = v_fma(q, t, v_set1(1.666666666666666745e-1));
    q = v_fma(q, t, v_set1(5.000000000000001021e-1));
    return q;
}
#else
FS_INLINE V fs_vexp_poly(V t) {
    V q = v_set1(1.392617611993557888e-3f);
    q = v_fma(q, t, v_set1(8.363173074513710902e-3f));
    q = v_fma(q, t, v_set1(4.166655466205053398e-2f));
    q = v_fma(q, t, v_set1(1.666657702559798819e-1f));
    q = v_fma(q, t, v_set1(0.5f));
    return q;
}
/* the softmax family's: exp(t) = 1 + t q5(t) */
FS_INLINE V fs_vexp_poly5(V t) {
    V q = v_set1(0x1.0fa7d8p-7f);
    q = v_fma(q, t, v_set1(0x1.573ad0p-5f));
    q = v_fma(q, t, v_set1(0x1.555a6ep-3f));
    q = v_fma(q, t, v_set1(0x1.fffdc4p-2f));
    q = v_fma(q, t, v_set1(0x1.fffff6p-1f));
    return q;
}
#endif

#if !FS_F64
/* The softmax family's float32 exp(x) = 2^n (1 + t q5(t)) in two parts: returns 1 + t q5(t)
 * (in [0.7, 1.42]) and leaves in *z the rounding sum whose low bits hold n itself (no
 * exponent bias in FS_MAGIC_SM).  The callers apply 2^n: fs_vexp_core_p by a multiply (any
 * result), fs_vexp_sub's fast path by adding n to the exponent bits (v_ldexp_bits), where the
 * result is known to be normal: the same bits (a product by 2^n is exact there), one FMA-pipe
 * operation less per vector (the exp is bound by that pipe: DESIGN.md section 4). */
#define FS_MAGIC_SM 12582912.0f /* 1.5 * 2^23 */
FS_INLINE V fs_vexp_sm_parts(V x, V *z) {
    V n, t;
    *z = v_fma(x, v_set1(FS_LOG2E), v_set1(FS_MAGIC_SM));
    n = v_sub(*z, v_set1(FS_MAGIC_SM));
#if FS_VFMA_FUSED /* one fused n ln2 step: |n| |ln2 - float(ln2)| <= 126 * 1.9e-9 relative */
    t = v_fma(n, v_set1(-FS_LN2_F), x);
#else
    t = v_fma(n, v_set1(-FS_LN2_LO), v_fma(n, v_set1(-FS_LN2_HI), x));
#endif
    return v_fma(fs_vexp_poly5(t), t, v_set1(1.0f));
}
#endif

/* exp(x) assuming FS_EXP_LO <= x <= FS_EXP_HI; other lanes are fixed by the callers.
 * SM (a constant): the softmax family's cheaper float32 polynomial */
FS_INLINE V fs_vexp_core_p(V x, const int SM) {
    const V one = v_set1((T)1);
    V z, n, t, p;
#if !FS_F64
    if (SM) { /* 2^n from n + bias: z + 127 is exact (z < 2^24) */
        p = fs_vexp_sm_parts(x, &z);
        return v_mul(p, v_pow2n(v_add(z, v_set1((T)FS_EXP_BIAS))));
    }
#endif
    z = v_fma(x, v_set1(FS_LOG2E), v_set1(FS_MAGIC));
    n = v_sub(z, v_set1(FS_MAGIC));
    t = v_fma(n, v_set1(-FS_LN2_HI), x);
    t = v_fma(n, v_set1(-FS_LN2_LO), t);
    p = v_fma(fs_vexp_poly(t), t, one); /* 1 + t q */
    p = v_fma(p, t, one);               /* 1 + t + t^2 q */
    return v_mul(p, v_pow2n(z));
}
#define fs_vexp_core(x) fs_vexp_core_p((x), 0)

FS_INLINE V fs_vexp_le0(V x) { return v_zero_lt(x, v_set1(FS_EXP_LO), fs_vexp_core(x)); }
/* the same to the softmax family's accuracy (float32: 1.5e-7 relative) */
FS_INLINE V fs_vexp_le0_sm(V x) { return v_zero_lt(x, v_set1(FS_EXP_LO), fs_vexp_core_p(x, 1)); }

FS_INLINE V fs_vexp(V x) {
    V hi = v_set1(FS_EXP_HI);
    /* v_min(hi, x) keeps a NaN x (it returns its second operand for NaN) */
    V r = fs_vexp_core(v_min(hi, x));
    return v_inf_gt(x, hi, v_zero_lt(x, v_set1(FS_EXP_LO), r));
}

#if !FS_F64
/* the softmax family's exp(d) where it is known to be a normal number: 2^n added to the
 * exponent bits of 1 + t q5(t) (the product's bits, one FMA-pipe operation less) */
FS_INLINE V fs_vexp_sm_normal(V d) {
    V z, p = fs_vexp_sm_parts(d, &z);
    return v_ldexp_bits(p, z);
}
#endif

/* exp(x - m) for x <= m, as stored by softmax (fs_vexp_le0_sm's accuracy).  In float32 the rounding of
 * d = x - m (up to 2^-25 |d|) alone would cost up to 4e-6 relative in small
 * probabilities; two-sum recovers the exact difference d + e and
 * exp(d + e) = exp(d) (1 + e).  Where every lane has |d| < 8 the rounding is at
 * most 2^-22 (2.4e-7) and the correction is skipped: one compare and a branch
 * a vector instead of six operations (most lanes of most rows; the branch goes
 * the same way for long runs, so it predicts).  Each lane's result depends on
 * its own d only: lanes above the cut are never corrected.  float64 needs no correction
 * (DESIGN.md, 1e-14).  A NaN lane takes the multiplying path too: the fast path's
 * integer add of n to the exponent field would turn a NaN whose payload has low bits
 * set into a number (0x7fc00001 gave -5.9e-39: a softmax row with such a NaN came out
 * finite, without one NaN). */
#define FS_EXP_D_EXACT (-0x1.fffffep+2f) /* the float above -8: d <= -8 corrects */
FS_INLINE V fs_vexp_sub(V x, V m) {
    V d = v_sub(x, m);
#if FS_F64
    return fs_vexp_le0(d);
#else
    if (v_any_nge(d, v_set1(FS_EXP_D_EXACT))) { /* d <= -8 or a NaN */
        V xs = v_add(d, m);                              /* the x that d rounds back to */
        V ms = v_sub(d, xs);                             /* ... and the -m */
        V e = v_sub(v_sub(x, xs), v_add(m, ms));         /* (x - xs) + (-m - ms) */
        V r = fs_vexp_core_p(d, 1);
        /* only the lanes past the cut: a lane's result must not depend on its
         * neighbours (column strips and row splits group lanes differently) */
        e = v_sel_lt(d, v_set1(FS_EXP_D_EXACT), e, v_set1(0.0f));
        return v_zero_lt(d, v_set1(FS_EXP_LO), v_fma(r, e, r));
    }
    return fs_vexp_sm_normal(d); /* -8 < d <= 0: nothing to flush to 0, a normal result */
#endif
}

/* fs_vexp_le0_sm(d), d <= 0, with fs_vexp_sub's fast path: where every lane is ordered
 * and above the cut the results are normal and 2^n is added to the exponent bits (the
 * same bits as the product; one FMA-pipe operation and the flush to 0 less); other
 * vectors as fs_vexp_le0_sm.  For sums of exps (the statistics passes). */
FS_INLINE V fs_vexp_le0_smf(V d) {
#if FS_F64
    return fs_vexp_le0_sm(d);
#else
    if (v_any_nge(d, v_set1(FS_EXP_D_EXACT))) return fs_vexp_le0_sm(d);
    return fs_vexp_sm_normal(d);
#endif
}
