"""Float64 NumPy reference of torch.nn.functional.cross_entropy (the semantics fastsmce
follows), written from the definitions, independent of the kernels' algebra:

    logp = log_softmax(logits)                                    (scipy.special)
    class indices y:  nll_i = -w[y_i] * logp[i, y_i],  smooth_i = -sum_c w_c logp[i, c]
                      loss_i = (1 - eps) nll_i + eps / C * smooth_i   (0 where y_i is ignored)
                      "mean" divides the sum by sum_i w[y_i] over the counted rows
    probabilities t:  t' = (1 - eps) t + eps / C,  loss_i = -sum_c w_c t'_c logp[i, c]
                      "mean" divides the sum by the number of rows
Gradients (for "none": of loss.sum()): cross_entropy_grad_ref, the analytic float64 form, which
the tests check against central finite differences of cross_entropy_ref."""

import numpy as np
import scipy.special as sp
from scipy.special import log_softmax


def cross_entropy_ref(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                      label_smoothing=0.0):
    x = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    C = x.shape[-1]
    logp = log_softmax(x, axis=-1)
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    eps = float(label_smoothing)
    t = np.asarray(target)
    if t.dtype.kind in "iu":
        y = t.astype(np.int64)
        keep = y != ignore_index
        ys = np.where(keep, y, 0)
        picked = np.take_along_axis(logp, ys[..., None], axis=-1)[..., 0]
        nll = -w[ys] * picked
        smooth = -(logp * w).sum(-1)
        loss = np.where(keep, (1 - eps) * nll + eps / C * smooth, 0.0)
        denom = np.where(keep, w[ys], 0.0).sum()
    else:
        tp = np.moveaxis(t.astype(np.float64), axis, -1)
        tp = (1 - eps) * tp + eps / C
        loss = -(tp * w * logp).sum(-1)
        denom = float(loss.size)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss.sum() / denom


def cross_entropy_grad_ref(x, t, **kw):
    """analytic float64 gradient of cross_entropy_ref(x, t, **kw) (summed for "none") w.r.t.
    the logits (checked against finite differences in tests/xent/test_grad.py)"""
    axis = kw.get("axis", -1)
    xm = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    C = xm.shape[-1]
    w = np.ones(C) if kw.get("weight") is None else np.asarray(kw["weight"], np.float64)
    eps = kw.get("label_smoothing", 0.0)
    t = np.asarray(t)
    if t.dtype.kind in "iu":
        keep = t != kw.get("ignore_index", -100)
        ys = np.where(keep, t, 0)
        u = np.full(xm.shape, eps / C) * w
        oh = np.zeros(xm.shape)
        np.put_along_axis(oh, ys[..., None], 1.0, axis=-1)
        u = u + (1 - eps) * oh * w
        u = u * keep[..., None]
        denom = (w[ys] * keep).sum()
    else:
        u = ((1 - eps) * np.moveaxis(t.astype(np.float64), axis, -1) + eps / C) * w
        denom = u.shape[:-1] and np.prod(u.shape[:-1]) or 1.0
    p = sp.softmax(xm, axis=-1)
    g = p * u.sum(-1, keepdims=True) - u
    if kw.get("reduction", "mean") == "mean":
        g = g / denom if denom else g * 0
    return np.moveaxis(g, -1, axis)
