"""float64 NumPy references of sampled softmax / NCE (TensorFlow's
_compute_sampled_logits followed by softmax or sigmoid cross-entropy), used by
tests/sampled/ and the fuzzer.  Problems to feed them: helpers.sampled_problem."""

import numpy as np

FLT_MAX = float(np.finfo(np.float32).max)


def sampled_logits(W, b, labels, X, sampled_values, remove_accidental_hits, subtract_log_q):
    """(logits (N, num_true + S), targets) exactly as TensorFlow builds them, in float64"""
    W, b, X = (np.asarray(a, dtype=np.float64) for a in (W, b, X))
    labels = np.asarray(labels).reshape(X.shape[0], -1)
    sampled, tec, sec = (np.asarray(a) for a in sampled_values)
    nt = labels.shape[1]
    tl = np.einsum("nd,ntd->nt", X, W[labels]) + b[labels]
    sl = X @ W[sampled].T + b[sampled]
    if remove_accidental_hits:
        hit = (labels[:, :, None] == sampled[None, None, :]).any(axis=1)
        sl = sl + np.where(hit, -FLT_MAX, 0.0)
    if subtract_log_q:
        tl = tl - np.log(np.asarray(tec, dtype=np.float64).reshape(tl.shape))
        sl = sl - np.log(np.asarray(sec, dtype=np.float64))
    logits = np.concatenate([tl, sl], axis=1)
    targets = np.concatenate([np.full(tl.shape, 1.0 / nt), np.zeros(sl.shape)], axis=1)
    return logits, targets


def softmax_xent(logits, targets):
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return lse - (targets * logits).sum(axis=1)


def sigmoid_xent(logits, targets):
    x, z = logits, targets
    return (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).sum(axis=1)


def loss(mode, W, b, labels, X, sampled_values, remove_accidental_hits=True, subtract_log_q=True):
    """per-example losses, float64"""
    logits, targets = sampled_logits(W, b, labels, X, sampled_values, remove_accidental_hits,
                                     subtract_log_q)
    return (softmax_xent if mode == "softmax" else sigmoid_xent)(logits, targets)


def grads(mode, W, b, labels, X, sampled_values, remove_accidental_hits=True, subtract_log_q=True):
    """d sum(loss) / d (X, W, b), dense, float64, by the chain rule through the logits"""
    W, b, X = (np.asarray(a, dtype=np.float64) for a in (W, b, X))
    labels = np.asarray(labels).reshape(X.shape[0], -1)
    sampled = np.asarray(sampled_values[0])
    logits, targets = sampled_logits(W, b, labels, X, sampled_values, remove_accidental_hits,
                                     subtract_log_q)
    if mode == "softmax":
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        g = p / p.sum(axis=1, keepdims=True) - targets
    else:
        g = 0.5 * (1.0 + np.tanh(0.5 * logits)) - targets  # sigmoid, no overflow
    nt = labels.shape[1]
    ids = np.concatenate([labels, np.broadcast_to(sampled, (X.shape[0], sampled.size))], axis=1)
    gx = np.einsum("nk,nkd->nd", g, W[ids])
    gw = np.zeros_like(W)
    gb = np.zeros_like(b)
    np.add.at(gw, ids.ravel(), (g[:, :, None] * X[:, None, :]).reshape(-1, X.shape[1]))
    np.add.at(gb, ids.ravel(), g.ravel())
    del nt
    return gx, gw, gb


def dense(grads, num_classes):
    """(weights, biases) gradients of a SampledGrads scattered into dense arrays"""
    gw = np.zeros((num_classes, grads.weights.shape[1]), dtype=np.float64)
    gb = np.zeros(num_classes, dtype=np.float64)
    assert np.unique(grads.ids).size == grads.ids.size, "ids must be unique"
    gw[grads.ids] = grads.weights
    gb[grads.ids] = grads.biases
    return gw, gb
