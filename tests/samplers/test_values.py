"""Candidate samplers (fastsmce.sampling): TensorFlow's shapes and expected-count formulas,
the distributions (chi-square), uniqueness, determinism under a seed (and the same draws on
every machine), the FixedUnigramSampler object."""

import numpy as np
import pytest
from scipy import stats

import fastsmce
from fastsmce import sampling
from helpers import SAMPLERS, raw_sampler, sampler_distribution, sampler_draw, sampler_unigrams
from reference.samplers import expected_counts


@pytest.mark.parametrize("kind", SAMPLERS)
@pytest.mark.parametrize("unique", [False, True])
def test_returns_tensorflow_shapes_and_dtypes(kind, unique):
    tc = np.array([[2, 5, 7], [9, 3, 2]])
    s, tec, sec = sampler_draw(kind, tc, 3, 6, unique, 40, 1)
    assert s.dtype == np.int64 and s.shape == (6,)
    assert tec.dtype == np.float32 and tec.shape == (2, 3)
    assert sec.dtype == np.float32 and sec.shape == (6,)
    assert ((s >= 0) & (s < 40)).all()


@pytest.mark.parametrize("kind", SAMPLERS)
def test_expected_counts_with_replacement_are_p_times_num_sampled(kind):
    n, ns = 30, 7
    tc = np.arange(12).reshape(4, 3) + 1
    s, tec, sec = sampler_draw(kind, tc, 3, ns, False, n, 5)
    p = sampler_distribution(kind, n)
    np.testing.assert_allclose(tec, (p[tc] * ns).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(sec, (p[s] * ns).astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("kind", SAMPLERS)
def test_unique_expected_counts_follow_the_num_tries_formula(kind):
    n, ns = 30, 12
    tc = np.arange(1, 13).reshape(6, 2)
    sm = raw_sampler(kind, n)
    s, tec, sec, tries = sm.sample(tc, 2, ns, True, 11)
    assert tries >= ns
    p = sampler_distribution(kind, n)

    def ec(v):
        return expected_counts(p[v], ns, tries)

    np.testing.assert_allclose(tec, ec(tc).astype(np.float32), rtol=2e-6)
    np.testing.assert_allclose(sec, ec(s).astype(np.float32), rtol=2e-6)


@pytest.mark.parametrize("kind", SAMPLERS)
def test_unique_draws_are_distinct(kind):
    for seed in range(20):
        s, _, _ = sampler_draw(kind, [[1]], 1, 25, True, 40, seed)
        assert np.unique(s).size == 25


@pytest.mark.parametrize("kind", ["uniform", "log_uniform"])
def test_unique_with_num_sampled_equal_to_range_is_a_permutation(kind):
    s, _, _ = sampler_draw(kind, [[0]], 1, 50, True, 50, 9)
    assert sorted(s.tolist()) == list(range(50))


@pytest.mark.parametrize("kind, distortion", [("uniform", 1.0), ("log_uniform", 1.0),
                                               ("unigram", 1.0), ("unigram", 0.75)])
def test_draws_follow_the_distribution_chi_square(kind, distortion):
    n, draws = 60, 300_000
    s, _, _ = sampler_draw(kind, [[0]], 1, draws, False, n, 1234, distortion)
    p = sampler_distribution(kind, n, distortion)
    counts = np.bincount(s, minlength=n)
    assert counts[p == 0].sum() == 0
    keep = p > 0
    res = stats.chisquare(counts[keep], p[keep] * draws / p[keep].sum())
    assert res.pvalue > 1e-4, res


def test_log_uniform_large_range_has_the_zipf_tail_mass():
    # Zipf over a million classes: the mass of [0, 1000) is log(1001) / log(1e6 + 1)
    n, draws = 1_000_000, 200_000
    s, _, _ = sampling.log_uniform_candidate_sampler([[0]], 1, draws, False, n, seed=5)
    frac = np.mean(s < 1000)
    expect = np.log(1001) / np.log(n + 1)
    assert abs(frac - expect) < 4 * np.sqrt(expect * (1 - expect) / draws)
    assert s.max() < n


def test_unique_expected_counts_are_probabilities_increasing_with_p():
    # -expm1(tries * log1p(-p)): the chance of a class in `tries` draws, in (0, 1]
    sm = raw_sampler("log_uniform", 100)
    allc = np.arange(100).reshape(1, 100)
    s, tec, sec, tries = sm.sample(allc, 100, 30, True, 3)
    assert tries > 30
    assert (tec > 0).all() and (tec <= 1).all()
    assert (np.diff(tec[0]) <= 0).all()  # p decreases with the class id


@pytest.mark.parametrize("kind", SAMPLERS)
@pytest.mark.parametrize("unique", [False, True])
def test_same_seed_same_draws_any_thread_count(kind, unique):
    fastsmce.set_num_threads(1)
    a = sampler_draw(kind, [[1, 2]], 2, 100, unique, 500, 77)
    fastsmce.set_num_threads(2)
    b = sampler_draw(kind, [[1, 2]], 2, 100, unique, 500, 77)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = sampler_draw(kind, [[1, 2]], 2, 100, unique, 500, 78)
    assert not np.array_equal(a[0], c[0])


def test_seed_none_draws_fresh_values():
    a = sampling.uniform_candidate_sampler([[0]], 1, 50, False, 10**9)[0]
    b = sampling.uniform_candidate_sampler([[0]], 1, 50, False, 10**9)[0]
    assert not np.array_equal(a, b)


def test_draws_are_fixed_for_a_seed_on_every_machine():
    # the generator is integer arithmetic only (SplitMix64, Lemire): these are
    # the draws of seed 2024 everywhere
    u = sampling.uniform_candidate_sampler([[0]], 1, 8, False, 1000, seed=2024)[0]
    g = sampling.fixed_unigram_candidate_sampler([[0]], 1, 8, False, 5, unigrams=[1, 2, 3, 4, 5],
                                                 seed=2024)[0]
    lu = sampling.log_uniform_candidate_sampler([[0]], 1, 8, False, 1000, seed=2024)[0]
    assert u.tolist() == GOLDEN_UNIFORM
    assert g.tolist() == GOLDEN_UNIGRAM
    assert lu.tolist() == GOLDEN_LOG_UNIFORM


GOLDEN_UNIFORM = [622, 97, 298, 116, 830, 552, 136, 596]


GOLDEN_UNIGRAM = [3, 1, 4, 4, 4, 2, 4, 4]


GOLDEN_LOG_UNIFORM = [72, 0, 6, 1, 309, 44, 1, 60]


def test_fixed_unigram_sampler_object_matches_function():
    w = sampler_unigrams(40)
    obj = sampling.FixedUnigramSampler(w, distortion=0.5)
    np.testing.assert_allclose(obj.probabilities, w ** 0.5 / (w ** 0.5).sum(), rtol=1e-14)
    a = obj([[3]], 1, 10, True, 40, seed=4)
    b = sampling.fixed_unigram_candidate_sampler([[3]], 1, 10, True, 40, unigrams=w,
                                                 distortion=0.5, seed=4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="range_max"):
        obj([[3]], 1, 10, True, 41)


def test_unigram_zero_classes_never_drawn_and_unique_limit():
    w = np.array([0.0, 1.0, 0.0, 2.0, 3.0])
    s = sampling.fixed_unigram_candidate_sampler([[1]], 1, 3, True, 5, unigrams=w, seed=0)[0]
    assert sorted(s.tolist()) == [1, 3, 4]
    with pytest.raises(ValueError, match="num_sampled=4"):
        sampling.fixed_unigram_candidate_sampler([[1]], 1, 4, True, 5, unigrams=w, seed=0)
