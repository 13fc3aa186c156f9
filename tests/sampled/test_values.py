"""Sampled softmax and NCE: loss and gradients against the float64 references of TensorFlow's
formulas (reference.sampled) for num_true, accidental hits, log-q and unique draws; float32;
the reductions; the default samplers; NCE's own defaults (hits kept, labels of 1/num_true)."""

import numpy as np
import pytest

import fastsmce
from fastsmce import sampling
from helpers import SAMPLED_FUNCS, SAMPLED_MODES, sampled_call, sampled_problem
from reference import sampled as ref


@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("nt", [1, 3])
@pytest.mark.parametrize("rah", [True, False])
@pytest.mark.parametrize("slq", [True, False])
@pytest.mark.parametrize("unique", [True, False])
def test_loss_and_grads_match_float64_reference(rng, mode, nt, rah, slq, unique):
    W, b, lab, X, sv = sampled_problem(rng, nt=nt, unique=unique)
    kw = dict(remove_accidental_hits=rah, subtract_log_q=slq)
    want = ref.loss(mode, W, b, lab, X, sv, rah, slq)
    np.testing.assert_allclose(sampled_call(mode, False, W, b, lab, X, sv, reduction="none", **kw), want,
                               rtol=1e-13, atol=1e-13)
    loss, g = sampled_call(mode, True, W, b, lab, X, sv, reduction="sum", **kw)
    np.testing.assert_allclose(loss, want.sum(), rtol=1e-13)
    gx, gw, gb = ref.grads(mode, W, b, lab, X, sv, rah, slq)
    dw, db = ref.dense(g, W.shape[0])
    np.testing.assert_allclose(g.inputs, gx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dw, gw, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(db, gb, rtol=1e-12, atol=1e-13)
    # ids: every true and sampled class once
    assert set(g.ids.tolist()) == set(lab.ravel().tolist()) | set(sv[0].tolist())


@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("nt", [1, 3])
def test_float32_within_tolerance_of_float64_reference(rng, mode, nt):
    W, b, lab, X, sv = sampled_problem(rng, N=40, D=33, C=500, S=100, nt=nt, dtype=np.float32)
    want = ref.loss(mode, W, b, lab, X, sv)
    got = sampled_call(mode, False, W, b, lab, X, sv, reduction="none")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
    loss, g = sampled_call(mode, True, W, b, lab, X, sv)
    assert loss.dtype == np.float32 and g.inputs.dtype == np.float32 and g.weights.dtype == np.float32
    gx, gw, gb = ref.grads(mode, W, b, lab, X, sv)
    dw, db = ref.dense(g, W.shape[0])
    N = X.shape[0]
    np.testing.assert_allclose(g.inputs, gx / N, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dw, gw / N, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(db, gb / N, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mode", SAMPLED_MODES)
def test_none_mean_and_sum_reductions_agree(rng, mode):
    W, b, lab, X, sv = sampled_problem(rng, nt=2)
    none = sampled_call(mode, False, W, b, lab, X, sv, reduction="none")
    assert none.shape == (X.shape[0],)
    np.testing.assert_allclose(sampled_call(mode, False, W, b, lab, X, sv, reduction="sum"), none.sum(), rtol=1e-14)
    np.testing.assert_allclose(sampled_call(mode, False, W, b, lab, X, sv), none.mean(), rtol=1e-14)
    lm, gm = sampled_call(mode, True, W, b, lab, X, sv, reduction="mean")
    ls, gs = sampled_call(mode, True, W, b, lab, X, sv, reduction="sum")
    ln, gn = sampled_call(mode, True, W, b, lab, X, sv, reduction="none")
    np.testing.assert_allclose(ln, none, rtol=1e-15)
    np.testing.assert_array_equal(gm.ids, gs.ids)
    for name in ("inputs", "weights", "biases"):
        np.testing.assert_allclose(getattr(gm, name) * X.shape[0], getattr(gs, name), rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(getattr(gn, name), getattr(gs, name))


@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("sampler", ["log_uniform", "uniform", "counts", "callable", "object"])
def test_default_sampler_is_seeded_and_matches_explicit_values(rng, mode, sampler):
    W, b, lab, X, _ = sampled_problem(rng, N=6, C=50, nt=2)
    counts = rng.integers(1, 9, 50).astype(float)
    fns = {"log_uniform": sampling.log_uniform_candidate_sampler,
           "uniform": sampling.uniform_candidate_sampler}
    if sampler in fns:
        arg, draw = sampler, fns[sampler]
    elif sampler == "counts":
        arg = counts

        def draw(*a, seed):
            return sampling.fixed_unigram_candidate_sampler(*a, unigrams=counts, seed=seed)
    else:
        draw = arg = sampling.FixedUnigramSampler(counts) if sampler == "object" else (
            lambda *a, seed: sampling.uniform_candidate_sampler(*a, seed=seed))
    f = SAMPLED_FUNCS[mode][0]
    got = f(W, b, lab, X, 12, 50, num_true=2, sampler=arg, seed=5, reduction="none",
            remove_accidental_hits=True)
    sv = draw(lab, 2, 12, True, 50, seed=5)
    assert np.unique(sv[0]).size == 12
    np.testing.assert_array_equal(got, sampled_call(mode, False, W, b, lab, X, sv, reduction="none"))
    again = f(W, b, lab, X, 12, 50, num_true=2, sampler=arg, seed=5, reduction="none",
              remove_accidental_hits=True)
    np.testing.assert_array_equal(got, again)


def test_nce_keeps_accidental_hits_by_default(rng):
    W, b, lab, X, sv = sampled_problem(rng, nt=2)
    kw = dict(num_true=2, sampled_values=sv, reduction="none")
    default = fastsmce.nce_loss(W, b, lab, X, sv[0].size, 30, **kw)
    np.testing.assert_allclose(default, ref.loss("nce", W, b, lab, X, sv, False), rtol=1e-13)
    removed = fastsmce.nce_loss(W, b, lab, X, sv[0].size, 30, remove_accidental_hits=True, **kw)
    assert not np.allclose(default, removed)  # sampled_problem() plants a hit


def test_nce_true_labels_weigh_one_over_num_true(rng):
    # one true class repeated num_true times, nothing sampled: num_true terms of
    # max(x, 0) - x / num_true + log1p(exp(-|x|))
    W, b, lab, X, _ = sampled_problem(rng, nt=3)
    lab[:] = lab[:, :1]
    z = (np.zeros(0, np.int64), np.ones((lab.shape[0], 3)), np.zeros(0))
    got = fastsmce.nce_loss(W, b, lab, X, 0, 30, num_true=3, sampled_values=z, reduction="none")
    x = np.einsum("nd,nd->n", X, W[lab[:, 0]]) + b[lab[:, 0]]
    want = 3 * (np.maximum(x, 0) - x / 3 + np.log1p(np.exp(-np.abs(x))))
    np.testing.assert_allclose(got, want, rtol=1e-13)
