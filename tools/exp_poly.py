"""Fit the float32 exp polynomial of csrc/simd/exp.h and check it in float32.

exp(t) ~ 1 + t q(t) on the reduced range [-ln2/2, ln2/2], q of degree 4: a
minimax fit of the relative error by Lawson's iterations (weighted least squares
on Chebyshev nodes, the weights growing where the error is largest), then the
coefficients rounded to float32 and the Horner scheme evaluated with one
rounding a step (an FMA) over 4M points.  Needs numpy and mpmath.

    python tools/exp_poly.py      # prints the coefficients as C hex floats
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
HALF_LN2 = float(mp.log(2) / 2) * 1.0005  # a little past the range: n rounds to even


def fit(degree, iters=300):
    t = np.cos(np.linspace(0, np.pi, 6001)) * HALF_LN2
    t = t[np.abs(t) > 1e-7]
    e = np.array([float(mp.exp(mp.mpf(v))) for v in t])
    target = (e - 1) / t  # q(t)
    w = np.abs(t) / e  # turns an error in q into a relative error of exp
    A = np.vstack([t ** k for k in range(degree + 1)]).T
    lw = np.full(t.shape, 1.0 / len(t))
    for _ in range(iters):
        W = np.sqrt(lw) * w
        c = np.linalg.lstsq(A * W[:, None], target * W, rcond=None)[0]
        err = np.abs((A @ c - target) * w)
        lw = lw * err
        lw /= lw.sum()
    return c, err.max()


def check(c32):
    t = np.linspace(-HALF_LN2, HALF_LN2, 4000001).astype(np.float32)
    q = np.full_like(t, c32[-1])
    for k in range(len(c32) - 2, -1, -1):
        q = (q.astype(np.float64) * t + c32[k]).astype(np.float32)  # fma: one rounding
    p = (q.astype(np.float64) * t + 1).astype(np.float32)
    ref = np.exp(t.astype(np.float64))
    ulp = np.abs(p - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)
    return np.abs(p / ref - 1).max(), ulp.max()


if __name__ == "__main__":
    c, err = fit(4)
    c32 = c.astype(np.float32)
    rel, ulp = check(c32)
    print(f"minimax relative error {err:.3g}; in float32 {rel:.3g} relative, {ulp:.2f} ulp")
    print("highest degree first:", ", ".join(float(v).hex() for v in c32[::-1]))
