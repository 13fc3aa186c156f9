"""References of the binary (sigmoid) family: sigmoid / log_sigmoid in extended precision, the
ulp distance to them, binary cross-entropy with logits (weight, pos_weight; sparse targets are
given to it dense) and torchvision's sigmoid focal loss, in float64 and (for the underflowing
corner) in mpmath."""

import numpy as np

LD = np.longdouble
# ulp bounds of sigmoid / log_sigmoid: exp (<= 2 ulp f32, 1 ulp f64) plus one divide / the log1p
SIGMOID_ULP = {np.float32: 3, np.float64: 2.5}


def sigmoid_ref(x):
    """1 / (1 + exp(-x)) in longdouble, without overflow"""
    x = np.asarray(x, dtype=LD)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def log_sigmoid_ref(x):
    """-log(1 + exp(-x)) in longdouble, without overflow"""
    x = np.asarray(x, dtype=LD)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def ulp_error(got, ref, dtype):
    """|got - ref| in units of the last place of ref rounded to dtype (subnormals: of tiny)"""
    ref_t = np.asarray(ref).astype(dtype)
    sp = np.spacing(np.abs(ref_t)).astype(LD)
    tiny = np.finfo(dtype).tiny
    sp = np.maximum(sp, LD(np.spacing(dtype(tiny))))
    return np.abs(np.asarray(got, dtype=LD) - np.asarray(ref, dtype=LD)) / sp


def softplus(x):
    """log(1 + exp(x)), float64"""
    return np.logaddexp(0.0, x)


def expit(x):
    """sigmoid, float64, without overflow"""
    return np.exp(-softplus(-x))


def bce_ref(x, z, weight=None, pos_weight=None, reduction="mean"):
    """binary_cross_entropy_with_logits: float64 (loss, grad) of the stable PyTorch formula
    w * ((1 - z) softplus(x) + pos_weight z softplus(-x)); weight and pos_weight broadcast"""
    x, z = np.asarray(x, np.float64), np.asarray(z, np.float64)
    w = np.ones_like(x) if weight is None else np.broadcast_to(np.asarray(weight, np.float64), x.shape)
    pw = np.ones_like(x) if pos_weight is None else np.broadcast_to(np.asarray(pos_weight, np.float64), x.shape)
    loss = w * ((1 - z) * softplus(x) + pw * z * softplus(-x))
    grad = w * ((1 - z) * expit(x) - pw * z * expit(-x))
    if reduction == "mean":
        return loss.mean() if loss.size else np.nan, grad / max(loss.size, 1)
    if reduction == "sum":
        return loss.sum(), grad
    return loss, grad


def focal_ref(x, z, alpha=0.25, gamma=2.0, reduction="mean", xp=np):
    """torchvision.ops.sigmoid_focal_loss, line by line (xp = numpy or torch, so torch autograd
    of the same formula gives the reference gradient)"""
    p = 1 / (1 + xp.exp(-x))
    ce = xp.maximum(x, 0 * x) - x * z + xp.log1p(xp.exp(-xp.abs(x)))
    p_t = p * z + (1 - p) * (1 - z)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * z + (1 - alpha) * (1 - z)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def focal_mp(x, z, alpha, gamma):
    """the focal loss of one element at 60 digits (mpmath), in log-space forms exact where the
    direct formula's 1 - p underflows"""
    import mpmath
    with mpmath.workdps(60):
        x = mpmath.mpf(float(x))
        p = 1 / (1 + mpmath.exp(-x))
        logp = -mpmath.log1p(mpmath.exp(-x))        # exact forms: 1 - p underflows at 60 digits
        log1mp = -x - mpmath.log1p(mpmath.exp(-x)) if x > 0 else -mpmath.log1p(mpmath.exp(x))
        ce = -(z * logp + (1 - z) * log1mp)
        pt = p * z + (1 - p) * (1 - z)
        at = alpha * z + (1 - alpha) * (1 - z)
        return float(at * ce * (1 - pt) ** gamma)
