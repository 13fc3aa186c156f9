"""Candidate samplers against TensorFlow: the same expected counts for the same draws
(tf.random.*_candidate_sampler); skipped when tensorflow is not installed."""

import numpy as np
import pytest

import fastsmce
from helpers import SAMPLERS, raw_sampler, sampler_distribution, sampler_draw, sampler_unigrams


def _tf_sampler(tf, kind, tc, nt, ns, unique, n, seed):
    tc = tf.constant(tc, dtype=tf.int64)
    if kind == "uniform":
        return tf.random.uniform_candidate_sampler(tc, nt, ns, unique, n, seed=seed)
    if kind == "log_uniform":
        return tf.random.log_uniform_candidate_sampler(tc, nt, ns, unique, n, seed=seed)
    return tf.random.fixed_unigram_candidate_sampler(tc, nt, ns, unique, n, unigrams=sampler_unigrams(n).tolist(),
                                                     seed=seed)


@pytest.mark.tensorflow
@pytest.mark.parametrize("kind", SAMPLERS)
@pytest.mark.parametrize("unique", [False, True])
def test_expected_counts_match_tensorflow(tf, kind, unique):
    n, ns = 40, 15
    tc = np.array([[1, 2, 3], [4, 5, 39], [7, 1, 30]])
    sm = raw_sampler(kind, n)
    for seed in range(5):
        s, tec, sec = (np.asarray(a) for a in _tf_sampler(tf, kind, tc, 3, ns, unique, n, seed + 1))
        if unique:
            assert np.unique(s).size == ns
        # TensorFlow does not report its number of draws: recover it from a count
        if unique and not np.allclose(sec, sampler_distribution(kind, n)[s] * ns, rtol=1e-5):
            p = sampler_distribution(kind, n)[s]
            tries = int(np.median(np.round(np.log1p(-sec.astype(np.float64)) / np.log1p(-p))))
        else:
            tries = ns
        np.testing.assert_allclose(sm.expected_count(tc, ns, tries), tec, rtol=2e-5)
        np.testing.assert_allclose(sm.expected_count(s, ns, tries), sec, rtol=2e-5)
        ours = sampler_draw(kind, tc, 3, ns, unique, n, seed)
        if not unique:  # with replacement the true counts do not depend on the draws
            np.testing.assert_allclose(ours[1], tec, rtol=2e-6)
