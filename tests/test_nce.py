"""NCE specifics (the shared machinery is tested in test_sampled_softmax.py with
both losses): TensorFlow's defaults, labels of 1/num_true, hits kept."""

import os

import numpy as np
import pytest

import fastsmce

import _sampled_ref as ref
from _sampled_ref import problem


def test_accidental_hits_kept_by_default(rng):
    W, b, lab, X, sv = problem(rng, nt=2)
    kw = dict(num_true=2, sampled_values=sv, reduction="none")
    default = fastsmce.nce_loss(W, b, lab, X, sv[0].size, 30, **kw)
    np.testing.assert_allclose(default, ref.loss("nce", W, b, lab, X, sv, False), rtol=1e-13)
    removed = fastsmce.nce_loss(W, b, lab, X, sv[0].size, 30, remove_accidental_hits=True, **kw)
    assert not np.allclose(default, removed)  # problem() plants a hit


def test_true_labels_weigh_one_over_num_true(rng):
    # one true class repeated num_true times, nothing sampled: num_true terms of
    # max(x, 0) - x / num_true + log1p(exp(-|x|))
    W, b, lab, X, _ = problem(rng, nt=3)
    lab[:] = lab[:, :1]
    z = (np.zeros(0, np.int64), np.ones((lab.shape[0], 3)), np.zeros(0))
    got = fastsmce.nce_loss(W, b, lab, X, 0, 30, num_true=3, sampled_values=z, reduction="none")
    x = np.einsum("nd,nd->n", X, W[lab[:, 0]]) + b[lab[:, 0]]
    want = 3 * (np.maximum(x, 0) - x / 3 + np.log1p(np.exp(-np.abs(x))))
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_large_logits_stay_finite(rng):
    W, b, lab, X, sv = problem(rng)
    loss, g = fastsmce.nce_loss_with_grad(W * 1e3, b, lab, X, sv[0].size, 30, sampled_values=sv)
    assert np.isfinite(loss) and np.isfinite(g.inputs).all() and np.isfinite(g.weights).all()


@pytest.mark.tensorflow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_defaults_match_tensorflow_nce_loss(rng, dtype):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = pytest.importorskip("tensorflow")
    W, b, lab, X, sv = problem(rng, N=12, D=16, C=200, S=30, nt=1, dtype=dtype)
    tsv = tuple(tf.constant(np.asarray(a, dtype=dtype if i else np.int64)) for i, a in enumerate(sv))
    per = tf.nn.nce_loss(W, b, tf.constant(lab, dtype=tf.int64), X, 30, 200, sampled_values=tsv).numpy()
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(fastsmce.nce_loss(W, b, lab, X, 30, 200, sampled_values=sv,
                                                 reduction="none"), per, **tol)
    np.testing.assert_allclose(fastsmce.nce_loss(W, b, lab, X, 30, 200, sampled_values=sv),
                               per.mean(), **tol)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 3e-7), (np.float64, 2e-15)])
def test_sigmoid_terms_accurate_over_the_whole_range(dtype, rtol):
    # one example, dim 1, input 1: each sampled logit is its class's weight, so every
    # weight-row gradient is sigmoid(logit) (NCE's label 0), computed in the vector path
    xs = np.concatenate([np.linspace(-90, 90, 4001), [-1e-30, 0.0, 1e-30, 1e4, -1e4]])
    C = xs.size + 1
    W = np.concatenate([[0.5], xs]).astype(dtype)[:, None]
    b = np.zeros(C, dtype)
    sampled = np.arange(1, C)
    sv = (sampled, np.ones((1, 1)), np.ones(C - 1))
    loss, g = fastsmce.nce_loss_with_grad(W, b, [[0]], np.ones((1, 1), dtype), C - 1, C,
                                          sampled_values=sv, subtract_log_q=False, reduction="sum")
    x = W[1:, 0].astype(np.float64)
    sig = np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))
    rows = dict(zip(g.ids.tolist(), g.weights[:, 0].astype(np.float64)))
    got = np.array([rows[k] for k in sampled])
    # below the normal range exp is flushed to 0 (DESIGN.md section 3): so is sigmoid
    np.testing.assert_allclose(got, sig, rtol=rtol, atol=np.finfo(dtype).tiny)
    want = (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).sum()
    x0 = float(W[0, 0])
    want += max(x0, 0) - x0 + np.log1p(np.exp(-abs(x0)))
    np.testing.assert_allclose(float(loss), want, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_infinite_logits(rng):
    W, b, lab, X, sv = problem(rng, N=2, nt=1)
    b = b.copy()
    b[sv[0][3]] = np.inf  # a sampled class with +inf logit: infinite loss, gradient 1
    loss = fastsmce.nce_loss(W, b, lab, X, sv[0].size, 30, sampled_values=sv, reduction="none")
    assert np.isposinf(loss).all()
