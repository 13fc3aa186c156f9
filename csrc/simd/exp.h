/*
 * exp on the vector layer, written once for every ISA and dtype.
 *
 * x = n ln2 + t with n = round(x / ln2) (rounded by adding FS_MAGIC, whose low
 * mantissa bits then hold n + bias) and t in [-ln2/2, ln2/2] by a two-constant
 * Cody-Waite reduction; exp(t) = 1 + t + t^2 q(t) with q a near-minimax
 * polynomial (degree 4 for float32, 9 for float64, fitted on Chebyshev nodes);
 * 2^n is built by shifting n + bias into the exponent field.
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
#endif

/* exp(x) assuming FS_EXP_LO <= x <= FS_EXP_HI; other lanes are fixed by the callers */
FS_INLINE V fs_vexp_core(V x) {
    const V one = v_set1((T)1);
    V z = v_fma(x, v_set1(FS_LOG2E), v_set1(FS_MAGIC));
    V n = v_sub(z, v_set1(FS_MAGIC));
    V t = v_fma(n, v_set1(-FS_LN2_HI), x);
    t = v_fma(n, v_set1(-FS_LN2_LO), t);
    V p = v_fma(fs_vexp_poly(t), t, one); /* 1 + t q */
    p = v_fma(p, t, one);                 /* 1 + t + t^2 q */
    return v_mul(p, v_pow2n(z));
}

FS_INLINE V fs_vexp_le0(V x) { return v_zero_lt(x, v_set1(FS_EXP_LO), fs_vexp_core(x)); }

FS_INLINE V fs_vexp(V x) {
    V hi = v_set1(FS_EXP_HI);
    /* v_min(hi, x) keeps a NaN x (it returns its second operand for NaN) */
    V r = fs_vexp_core(v_min(hi, x));
    return v_inf_gt(x, hi, v_zero_lt(x, v_set1(FS_EXP_LO), r));
}

/* exp(x - m) for x <= m, as stored by softmax.  In float32 the rounding of
 * d = x - m (up to 2^-25 |d|) alone would cost up to 4e-6 relative in small
 * probabilities; two-sum recovers the exact difference d + e and
 * exp(d + e) = exp(d) (1 + e).  float64 needs no correction (DESIGN.md, 1e-14). */
FS_INLINE V fs_vexp_sub(V x, V m) {
    V d = v_sub(x, m);
#if FS_F64
    return fs_vexp_le0(d);
#else
    V xs = v_add(d, m);                                  /* the x that d rounds back to */
    V ms = v_sub(d, xs);                                 /* ... and the -m */
    V e = v_sub(v_sub(x, xs), v_add(m, ms));             /* (x - xs) + (-m - ms) */
    V r = fs_vexp_core(d);
    return v_zero_lt(d, v_set1(FS_EXP_LO), v_fma(r, e, r));
#endif
}
