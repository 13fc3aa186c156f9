"""The candidate samplers' distributions and TensorFlow's expected-count formulas, float64."""

import numpy as np


def sampler_probs(kind, n, unigrams=None, distortion=1.0):
    """the probability of each of the n classes: "uniform", "log_uniform" (Zipf,
    (log(k + 2) - log(k + 1)) / log(n + 1)) or "unigram" (unigrams ** distortion, normalised)"""
    if kind == "uniform":
        return np.full(n, 1.0 / n)
    if kind == "log_uniform":
        k = np.arange(n, dtype=np.float64)
        return (np.log(k + 2) - np.log(k + 1)) / np.log(n + 1)
    w = np.asarray(unigrams, np.float64) ** distortion
    return w / w.sum()


def expected_counts(p, num_sampled, tries):
    """TensorFlow's expected count of a class of probability p: p * num_sampled when every draw
    was kept (with replacement, or no repeats), else the chance it came up in ``tries`` draws,
    -expm1(tries * log1p(-p))"""
    p = np.asarray(p, np.float64)
    if tries == num_sampled:
        return p * num_sampled
    return -np.expm1(tries * np.log1p(-p))
