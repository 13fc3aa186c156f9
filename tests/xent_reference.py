"""Float64 NumPy reference of torch.nn.functional.cross_entropy (the semantics fastsmce
follows), written from the definitions, independent of the kernels' algebra:

    logp = log_softmax(logits)                                    (scipy.special)
    class indices y:  nll_i = -w[y_i] * logp[i, y_i],  smooth_i = -sum_c w_c logp[i, c]
                      loss_i = (1 - eps) nll_i + eps / C * smooth_i   (0 where y_i is ignored)
                      "mean" divides the sum by sum_i w[y_i] over the counted rows
    probabilities t:  t' = (1 - eps) t + eps / C,  loss_i = -sum_c w_c t'_c logp[i, c]
                      "mean" divides the sum by the number of rows
Gradients (for "none": of loss.sum()) by central finite differences in the tests."""

import numpy as np
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


def cross_entropy_grad_fd(logits, target, h=1e-6, **kw):
    """Central finite differences of cross_entropy_ref(...).sum() w.r.t. the logits."""
    x = np.array(logits, dtype=np.float64)
    g = np.empty_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        flat[i] = v + h
        up = np.sum(cross_entropy_ref(x, target, **kw))
        flat[i] = v - h
        dn = np.sum(cross_entropy_ref(x, target, **kw))
        flat[i] = v
        gf[i] = (up - dn) / (2 * h)
    return g
