/* What every fixed-width vector layer (scalar, avx2, avx512, neon) shares, once
 * it has defined V and VL: a vector is an ordinary sized type there, so the
 * stored vector VS is V itself and the lane bound FS_VLMAX is VL.  (SVE's
 * sizeless vectors cannot be array elements or struct members: sve.h defines
 * these differently.)  API: see scalar.h. */
#define FS_VLMAX VL
typedef V VS;
#define vs_get(p) (*(p))
#define vs_set(p, v) (*(p) = (v))
