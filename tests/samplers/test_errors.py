"""Candidate samplers' bad input: each raises the documented exception with a clear message.
(Every argument of every sampler: common/test_bad_inputs.py.)"""

import numpy as np
import pytest

from fastsmce import sampling


@pytest.mark.parametrize("bad, exc, match", [
    (dict(num_sampled=11, unique=True), ValueError, "num_sampled=11"),
    (dict(true_classes=[[0, 10]]), ValueError, "true_classes must lie in"),
    (dict(true_classes=[[-1, 0]]), ValueError, "true_classes must lie in"),
    (dict(true_classes=[[0, 1, 2]]), ValueError, "true_classes has shape"),
    (dict(true_classes=[0, 1]), ValueError, "true_classes has shape"),
    (dict(true_classes=[[0.0, 1.0]]), TypeError, "integer"),
    (dict(num_sampled=-1), ValueError, "num_sampled"),
    (dict(range_max=0), ValueError, "range_max"),
    (dict(num_true=0), ValueError, "num_true"),
    (dict(seed="x"), TypeError, "seed"),
])
def test_bad_input_raises_with_a_clear_message(bad, exc, match):
    args = dict(true_classes=[[0, 1]], num_true=2, num_sampled=5, unique=False, range_max=10,
                seed=0)
    args.update(bad)
    seed = args.pop("seed")
    with pytest.raises(exc, match=match):
        sampling.uniform_candidate_sampler(**args, seed=seed)


@pytest.mark.parametrize("bad, match", [
    (dict(unigrams=[1.0, 2.0]), "unigrams has shape"),
    (dict(unigrams=[1.0, -1.0, 1.0]), "finite and >= 0"),
    (dict(unigrams=[1.0, np.nan, 1.0]), "finite and >= 0"),
    (dict(unigrams=[0.0, 0.0, 0.0]), "positive, finite sum"),
])
def test_bad_unigrams_raise_value_error(bad, match):
    with pytest.raises(ValueError, match=match):
        sampling.fixed_unigram_candidate_sampler([[0]], 1, 1, False, 3, **bad)
