"""Sampled softmax and NCE against TensorFlow (tf.nn.sampled_softmax_loss / tf.nn.nce_loss and
their gradients) on the same sampled values; skipped when tensorflow is not installed."""

import numpy as np
import pytest

import fastsmce
from helpers import SAMPLED_MODES, sampled_call, sampled_problem
from reference import sampled as ref


def tf_loss_and_grads(tf, mode, W, b, lab, X, sv, rah, slq):
    dt = W.dtype
    sampled, tec, sec = sv
    if not slq:  # TensorFlow always subtracts log Q: counts of 1 subtract nothing
        tec, sec = np.ones_like(tec), np.ones_like(sec)
    tsv = (tf.constant(sampled), tf.constant(np.asarray(tec, dtype=dt)),
           tf.constant(np.asarray(sec, dtype=dt)))
    Wt, bt, Xt = tf.Variable(W), tf.Variable(b), tf.Variable(X)
    f = tf.nn.sampled_softmax_loss if mode == "softmax" else tf.nn.nce_loss
    with tf.GradientTape() as tape:
        per = f(Wt, bt, tf.constant(lab, dtype=tf.int64), Xt, sampled.size, W.shape[0],
                num_true=lab.shape[1], sampled_values=tsv, remove_accidental_hits=rah)
        total = tf.reduce_sum(per)
    gw, gb, gx = tape.gradient(total, [Wt, bt, Xt])
    return (per.numpy(), gx.numpy(), tf.convert_to_tensor(gw).numpy(),
            tf.convert_to_tensor(gb).numpy())


@pytest.mark.tensorflow
@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("nt", [1, 3])
@pytest.mark.parametrize("rah", [True, False])
@pytest.mark.parametrize("slq", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_tensorflow(tf, rng, mode, nt, rah, slq, dtype):
    W, b, lab, X, sv = sampled_problem(rng, N=16, D=24, C=300, S=40, nt=nt, dtype=dtype)
    per, gx, gw, gb = tf_loss_and_grads(tf, mode, W, b, lab, X, sv, rah, slq)
    kw = dict(remove_accidental_hits=rah, subtract_log_q=slq)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sampled_call(mode, False, W, b, lab, X, sv, reduction="none", **kw), per, **tol)
    loss, g = sampled_call(mode, True, W, b, lab, X, sv, reduction="sum", **kw)
    np.testing.assert_allclose(loss, per.sum(), **tol)
    dw, db = ref.dense(g, W.shape[0])
    np.testing.assert_allclose(g.inputs, gx, **tol)
    np.testing.assert_allclose(dw, gw, **tol)
    np.testing.assert_allclose(db, gb, **tol)


@pytest.mark.tensorflow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nce_defaults_match_tensorflow_nce_loss(rng, dtype, tf):
    W, b, lab, X, sv = sampled_problem(rng, N=12, D=16, C=200, S=30, nt=1, dtype=dtype)
    tsv = tuple(tf.constant(np.asarray(a, dtype=dtype if i else np.int64)) for i, a in enumerate(sv))
    per = tf.nn.nce_loss(W, b, tf.constant(lab, dtype=tf.int64), X, 30, 200, sampled_values=tsv).numpy()
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(fastsmce.nce_loss(W, b, lab, X, 30, 200, sampled_values=sv,
                                                 reduction="none"), per, **tol)
    np.testing.assert_allclose(fastsmce.nce_loss(W, b, lab, X, 30, 200, sampled_values=sv),
                               per.mean(), **tol)
