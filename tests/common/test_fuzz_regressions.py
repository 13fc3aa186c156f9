"""Regression tests for what the fuzzer (fuzz/fuzz_fastsmce.py) and the sanitizer run
(tools/sanitize.sh) found; each test names the symptom it guards against."""

import numpy as np
import pytest

import fastsmce
from fastsmce import sampling
from helpers import Positives, unaligned
from reference.binary import bce_ref

HUGE = [2 ** 63, 2 ** 70, -2 ** 70, 10 ** 400]


# ---- integers beyond int64 gave OverflowError (not a documented exception) ----

@pytest.mark.parametrize("axis", [2 ** 63, 2 ** 70, -2 ** 64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_axis_beyond_int64_raises_axis_error(name, axis):
    with pytest.raises(np.exceptions.AxisError):
        getattr(fastsmce, name)(np.zeros((2, 3)), axis=axis)


@pytest.mark.parametrize("axis", [2 ** 63, 2 ** 70])
def test_axis_beyond_int64_raises_axis_error_for_backward_and_xent(axis):
    x = np.zeros((2, 3))
    with pytest.raises(np.exceptions.AxisError):
        fastsmce.softmax_backward(x, x, axis=axis)
    with pytest.raises(np.exceptions.AxisError):
        fastsmce.cross_entropy(x, np.zeros(2, np.int64), axis=axis)


@pytest.mark.parametrize("n", [2 ** 31, 2 ** 63, 2 ** 70])
def test_set_num_threads_beyond_int_raises_value_error(n):
    with pytest.raises(ValueError, match="set_num_threads"):
        fastsmce.set_num_threads(n)
    assert fastsmce.get_num_threads() >= 1


@pytest.mark.parametrize("value", [2 ** 63, 2 ** 70])
@pytest.mark.parametrize("arg", [1, 2, 4])       # num_true, num_sampled, range_max
def test_sampler_integer_arguments_beyond_int64_raise_value_error(arg, value):
    args = [np.zeros((2, 1), np.int64), 1, 3, False, 10]
    args[arg] = value
    with pytest.raises(ValueError):
        sampling.uniform_candidate_sampler(*args, seed=0)


@pytest.mark.parametrize("kw", ["num_sampled", "num_classes", "num_true"])
def test_sampled_softmax_integer_arguments_beyond_int64_raise_value_error(kw):
    W, b, X = np.ones((5, 2)), np.zeros(5), np.ones((3, 2))
    lab = np.zeros(3, np.int64)
    args = dict(num_sampled=2, num_classes=5, num_true=1)
    args[kw] = 2 ** 64
    for fn in (fastsmce.sampled_softmax_loss, fastsmce.nce_loss):
        with pytest.raises(ValueError):
            fn(W, b, lab, X, args["num_sampled"], args["num_classes"], num_true=args["num_true"], seed=0)


# ---- floats given as integers beyond the float range gave OverflowError ----

def test_label_smoothing_beyond_float_range_raises_value_error():
    with pytest.raises(ValueError, match="label_smoothing"):
        fastsmce.cross_entropy(np.zeros((2, 3)), np.zeros(2, np.int64), label_smoothing=10 ** 400)


@pytest.mark.parametrize("kw", ["alpha", "gamma"])
def test_focal_parameters_beyond_float_range_raise_value_error(kw):
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=kw):
        fastsmce.sigmoid_focal_loss(x, x, **{kw: 10 ** 400})
    with pytest.raises(ValueError, match=kw):
        fastsmce.sigmoid_focal_loss_with_grad(x, x, **{kw: -10 ** 400})


def test_distortion_beyond_float_range_raises_value_error():
    with pytest.raises(ValueError, match="distortion"):
        sampling.fixed_unigram_candidate_sampler(np.zeros((1, 1), np.int64), 1, 1, False, 3,
                                                 unigrams=np.ones(3), distortion=10 ** 400)


# ---- complex or string counts were converted silently (ComplexWarning, parsed text) ----

@pytest.mark.parametrize("bad", [np.ones(4) + 1j, np.array(["1", "2", "3", "4"]),
                                 np.array([1.0, 2.0, 3.0, 4.0], dtype=object)])
def test_unigrams_must_be_real_numbers(bad):
    with pytest.raises(TypeError, match="unigrams"):
        sampling.fixed_unigram_candidate_sampler(np.zeros((1, 1), np.int64), 1, 2, False, 4,
                                                 unigrams=bad, seed=0)
    with pytest.raises(TypeError, match="unigrams"):
        sampling.FixedUnigramSampler(bad)
    with pytest.raises(TypeError, match="unigrams"):
        fastsmce.sampled_softmax_loss(np.ones((4, 2)), np.zeros(4), np.zeros(3, np.int64),
                                      np.ones((3, 2)), 2, 4, sampler=bad, seed=0)


@pytest.mark.parametrize("which", [1, 2])
@pytest.mark.parametrize("conv", [lambda a: a + 0.5j, lambda a: a.astype("U8"),
                                  lambda a: a.astype(object)], ids=["complex", "str", "object"])
def test_expected_counts_must_be_real_numbers(which, conv):
    W, b, X = np.ones((6, 2)), np.zeros(6), np.ones((3, 2))
    lab = np.array([0, 1, 2])
    sv = list(sampling.uniform_candidate_sampler(lab[:, None], 1, 2, True, 6, seed=1))
    sv[which] = conv(np.asarray(sv[which], dtype=np.float64))
    for fn in (fastsmce.sampled_softmax_loss, fastsmce.nce_loss_with_grad):
        with pytest.raises(TypeError, match="expected_count"):
            fn(W, b, lab, X, 2, 6, sampled_values=tuple(sv))


def test_real_expected_counts_in_lists_still_work():
    W, b, X = np.ones((6, 2)), np.zeros(6), np.ones((3, 2))
    lab = np.array([0, 1, 2])
    s, tec, sec = sampling.uniform_candidate_sampler(lab[:, None], 1, 2, True, 6, seed=1)
    a = fastsmce.sampled_softmax_loss(W, b, lab, X, 2, 6, sampled_values=(s, tec, sec))
    b_ = fastsmce.sampled_softmax_loss(W, b, lab, X, 2, 6,
                                       sampled_values=(s.tolist(), tec.tolist(), sec.tolist()))
    np.testing.assert_allclose(a, b_, rtol=1e-6)


# ---- cross_entropy_with_grad(grad_out=<the probability targets>) gave a wrong gradient ----
# (short rows keep their exps in grad and read the targets again: the targets were
# overwritten before that second read; so were class weights that overlap grad_out)

@pytest.mark.parametrize("shape,axis", [((6, 9), -1), ((1, 100), -2), ((8,), -1), ((4, 5, 3), 1),
                                        ((3, 70000), -1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_out_may_be_the_probability_targets(shape, axis, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    t = rng.random(shape).astype(dtype)
    want_loss, want_grad = fastsmce.cross_entropy_with_grad(x, t.copy(), axis=axis, label_smoothing=0.1)
    loss, grad = fastsmce.cross_entropy_with_grad(x, t, axis=axis, label_smoothing=0.1, grad_out=t)
    assert grad is t
    np.testing.assert_array_equal(grad, want_grad)
    assert loss == want_loss


def test_grad_out_may_overlap_the_class_weights():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    g = np.empty((5, 4))
    g[0] = [0.5, 1.0, 2.0, 1.5]
    w = g[0]                                          # the weights live in grad_out's first row
    want = fastsmce.cross_entropy_with_grad(x, y, weight=w.copy(), label_smoothing=0.2)
    loss, grad = fastsmce.cross_entropy_with_grad(x, y, weight=w, label_smoothing=0.2, grad_out=g)
    np.testing.assert_array_equal(grad, want[1])
    assert loss == want[0]


# ---- sparse BCE: the summed loss cancelled against a huge positive logit ----
# (every column was summed as a zero target, then each positive corrected by
# -x: softplus(1e30) - 1e30 lost the rest of the row, and float64 lost
# |x| * 2**-53 of it for any large positive logit)

@pytest.mark.parametrize("big", [30.0, 1e4, 1e8, 1e30])
@pytest.mark.parametrize("with_grad", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_sum_is_exact_with_huge_positive_logits(big, with_grad, dtype):
    import scipy.sparse as sps
    rng = np.random.default_rng(7)
    n, c = 64, 300
    x = (rng.standard_normal((n, c)) - 3).astype(dtype)
    z = np.zeros((n, c))
    cols = rng.integers(0, c, (n, 3))
    z[np.arange(n)[:, None], cols] = 1
    x[np.arange(n), cols[:, 0]] = big
    fn = (fastsmce.binary_cross_entropy_with_logits_with_grad if with_grad
          else fastsmce.binary_cross_entropy_with_logits)
    pw = np.linspace(0.0, 2.0, c)
    for target in (sps.csr_matrix(z), z.astype(dtype)):
        got = fn(x, target, reduction="sum", pos_weight=pw.astype(dtype))
        got = got[0] if with_grad else got
        ref = float(bce_ref(x, z, pos_weight=pw.astype(dtype).astype(np.float64),
                            reduction="sum")[0])
        np.testing.assert_allclose(got, ref, rtol=2e-6 if dtype == np.float32 else 1e-13)


def test_sparse_sum_with_unsorted_columns_and_weights():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 50)) * 40
    indptr = np.array([0, 3, 3, 5])
    indices = np.array([40, 2, 17, 9, 1])             # unsorted within rows
    data = np.array([1.0, 0.5, 1.0, 0.25, 1.0])
    t = Positives(indptr, indices, data, shape=(3, 50))
    z = np.zeros((3, 50))
    for r in range(3):
        z[r, indices[indptr[r]:indptr[r + 1]]] = data[indptr[r]:indptr[r + 1]]
    w = rng.random((3, 50)) + 0.5
    for fn in (fastsmce.binary_cross_entropy_with_logits,
               lambda *a, **k: fastsmce.binary_cross_entropy_with_logits_with_grad(*a, **k)[0]):
        np.testing.assert_allclose(fn(x, t, weight=w, reduction="sum"),
                                   fn(x, z, weight=w, reduction="sum"), rtol=1e-13)


# ---- sampled softmax with num_sampled=0 and the default sampler blamed sampled_values ----

def test_num_sampled_zero_with_log_q_says_what_is_wrong():
    W, b, X = np.ones((5, 2)), np.zeros(5), np.ones((3, 2))
    with pytest.raises(ValueError, match="num_sampled=0"):
        fastsmce.sampled_softmax_loss(W, b, np.zeros(3, np.int64), X, 0, 5, seed=0)
    # without the log-q correction a step with no sampled class is well defined
    loss = fastsmce.sampled_softmax_loss(W, b, np.zeros(3, np.int64), X, 0, 5, seed=0,
                                         subtract_log_q=False)
    assert loss == 0.0


# ---- BCE with grad_out = a contiguous weight / pos_weight array gave a wrong loss and
# gradient (the "copy" of an overlapping weight was np.ascontiguousarray: no copy) ----

@pytest.mark.parametrize("which", ["weight", "pos_weight"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_bce_grad_out_may_be_a_weight_array(which, sparse, reduction):
    import scipy.sparse as sps
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 100)).astype(np.float32)
    z = (rng.random((4, 100)) < 0.5).astype(np.float32)
    w = (rng.random((4, 100)) + 0.5).astype(np.float32)
    t = sps.csr_matrix(z) if sparse else z
    want = fastsmce.binary_cross_entropy_with_logits_with_grad(x, t, reduction=reduction, **{which: w.copy()})
    loss, grad = fastsmce.binary_cross_entropy_with_logits_with_grad(x, t, reduction=reduction,
                                                                     grad_out=w, **{which: w})
    assert grad is w
    np.testing.assert_array_equal(grad, want[1])
    np.testing.assert_array_equal(loss, want[0])


# ---- unaligned int64 / float64 arrays reached the C core as they were ----
# (np.ascontiguousarray keeps an unaligned contiguous array: the samplers' classes,
# sampled ids, class labels, CSR indptr / indices / data and class weights were read
# through misaligned pointers; UBSan under tools/sanitize.sh stops on that)

def test_unaligned_integer_and_float_inputs_give_the_aligned_results():
    import scipy.sparse as sps
    rng = np.random.default_rng(10)
    tc = rng.integers(0, 20, (4, 2))
    for fn in (sampling.uniform_candidate_sampler, sampling.log_uniform_candidate_sampler):
        want = fn(tc, 2, 5, True, 20, seed=3)
        got = fn(unaligned(tc), 2, 5, True, 20, seed=3)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    w = rng.random(5) + 0.5
    np.testing.assert_array_equal(
        fastsmce.cross_entropy_with_grad(x, unaligned(y), weight=unaligned(w))[1],
        fastsmce.cross_entropy_with_grad(x, y, weight=w)[1])
    z = sps.csr_matrix((rng.random((6, 5)) < 0.4) * rng.random((6, 5)))
    t = Positives(unaligned(z.indptr.astype(np.int64)), unaligned(z.indices.astype(np.int64)),
                  unaligned(z.data), shape=z.shape)
    np.testing.assert_array_equal(fastsmce.binary_cross_entropy_with_logits(x, t, reduction="none"),
                                  fastsmce.binary_cross_entropy_with_logits(x, z, reduction="none"))
    W, b, X = rng.standard_normal((20, 3)), rng.standard_normal(20), rng.standard_normal((4, 3))
    sv = sampling.uniform_candidate_sampler(tc, 2, 5, True, 20, seed=4)
    usv = (unaligned(sv[0]), sv[1], sv[2])
    np.testing.assert_array_equal(
        fastsmce.sampled_softmax_loss(W, b, unaligned(tc), X, 5, 20, num_true=2, sampled_values=usv,
                                      reduction="none"),
        fastsmce.sampled_softmax_loss(W, b, tc, X, 5, 20, num_true=2, sampled_values=sv, reduction="none"))


# ---- cross-entropy "mean": the class-weight total and the loss sum were plain running
# sums (up to n * eps relative: 3e-12 over 262144 rows in float64) ----

def test_weighted_mean_over_many_rows_is_accurate():
    import math
    rng = np.random.default_rng(11)
    n = 1 << 20
    x = rng.standard_normal((n, 2))
    y = rng.integers(0, 2, n)
    w = np.array([0.1, 0.7])
    loss, grad = fastsmce.cross_entropy_with_grad(x, y, weight=w)
    per = fastsmce.cross_entropy(x, y, weight=w, reduction="none")
    denom = math.fsum(w[y])
    assert abs(loss - math.fsum(per) / denom) <= 4e-16 * abs(loss)
    p = np.exp(x - np.logaddexp(x[:, :1], x[:, 1:]))
    u = np.zeros_like(x)
    u[np.arange(n), y] = w[y]
    want = (p * u.sum(1, keepdims=True) - u) / denom
    terms = (p * u.sum(1, keepdims=True) + u) / denom          # the two terms' size
    assert np.all(np.abs(grad - want) <= 1e-14 * terms)
