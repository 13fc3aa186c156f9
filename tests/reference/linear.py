"""Float64 NumPy reference of the fused linear + cross-entropy, written from its definition
(DESIGN.md section 2a), independent of the kernels' chunking:

    logits = input @ linear_weight.T + linear_bias;   softcap c: logits = c tanh(logits / c)
    loss   = cross_entropy(logits, target, weight, ignore_index, label_smoothing)   (reference.xent)
             + z_loss * lse**2 for every counted row ("mean": the unweighted mean over the
             counted rows, "sum": the sum, "none": each row's value)
Gradients (of loss.sum() for "none") by the chain rule through the logits:
    G = d loss / d logits  (reference.xent's analytic gradient, plus z_loss's
        2 z lse softmax / count),  times (1 - tanh^2) under softcap;
    d input = G @ W,  d W = G^T @ input,  d bias = G^T 1.
Checked against central finite differences in tests/linear/test_grad.py."""

import numpy as np
from scipy.special import logsumexp, softmax

from . import xent


def _logits(X, W, b, softcap):
    z = X @ W.T + (0.0 if b is None else b)
    t = None
    if softcap is not None:
        t = np.tanh(z / softcap)
        z = softcap * t
    return z, t


def linear_xent_ref(X, W, target, b=None, weight=None, ignore_index=-100, reduction="mean",
                    label_smoothing=0.0, z_loss=0.0, softcap=None):
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    b = None if b is None else np.asarray(b, np.float64)
    shape = X.shape[:-1]
    X2 = X.reshape(-1, X.shape[-1])
    t = np.asarray(target).reshape(-1)
    z, _ = _logits(X2, W, b, softcap)
    ce = xent.cross_entropy_ref(z, t, weight=weight, ignore_index=ignore_index, reduction="none",
                                label_smoothing=label_smoothing)
    keep = t != ignore_index
    lse = logsumexp(z, axis=-1) if z.shape[0] else np.zeros(0)
    zt = np.where(keep, z_loss * lse ** 2, 0.0)
    if reduction == "none":
        return (ce + zt).reshape(shape)
    if reduction == "sum":
        return ce.sum() + zt.sum()
    w = np.ones(W.shape[0]) if weight is None else np.asarray(weight, np.float64)
    denom = np.where(keep, w[np.where(keep, t, 0)], 0.0).sum()
    count = keep.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return ce.sum() / denom + (zt.sum() / count if z_loss else 0.0)


def linear_xent_grad_ref(X, W, target, b=None, weight=None, ignore_index=-100, reduction="mean",
                         label_smoothing=0.0, z_loss=0.0, softcap=None):
    """(d input, d weight, d bias or None), analytic, float64"""
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    bb = None if b is None else np.asarray(b, np.float64)
    X2 = X.reshape(-1, X.shape[-1])
    t = np.asarray(target).reshape(-1)
    z, th = _logits(X2, W, bb, softcap)
    G = xent.cross_entropy_grad_ref(z, t, weight=weight, ignore_index=ignore_index,
                                    reduction=reduction, label_smoothing=label_smoothing)
    if z_loss and z.shape[0]:
        keep = t != ignore_index
        count = keep.sum()
        scale = (1.0 / count if count else 0.0) if reduction == "mean" else 1.0
        lse = logsumexp(z, axis=-1)
        G = G + (2 * z_loss * scale * keep * lse)[:, None] * softmax(z, axis=-1)
    if softcap is not None:
        G = G * (1 - th ** 2)
    dX = (G @ W).reshape(X.shape)
    return dX, G.T @ X2, (None if b is None else G.sum(0))
