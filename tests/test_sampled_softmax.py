"""Sampled softmax (and, where the machinery is shared, NCE): float64 NumPy
references of TensorFlow's formulas, central finite differences of every
gradient, TensorFlow parity, layouts, threads, SIMD paths, bad input."""

import functools
import json
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import fastsmce
from fastsmce import _core, sampling

import _sampled_ref as ref
from _sampled_ref import problem

FUNCS = {"softmax": (fastsmce.sampled_softmax_loss, fastsmce.sampled_softmax_loss_with_grad),
         "nce": (fastsmce.nce_loss, fastsmce.nce_loss_with_grad)}
MODES = list(FUNCS)


def call(mode, grad, W, b, lab, X, sv, **kw):
    """the loss (grad: and its gradients) for explicit sampled values; accidental
    hits are removed unless told (as the references' default, for both modes)"""
    kw.setdefault("remove_accidental_hits", True)
    f = FUNCS[mode][1 if grad else 0]
    return f(W, b, lab, X, sv[0].size, W.shape[0], num_true=lab.shape[1], sampled_values=sv, **kw)


# ---- float64 references -------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nt", [1, 3])
@pytest.mark.parametrize("rah", [True, False])
@pytest.mark.parametrize("slq", [True, False])
@pytest.mark.parametrize("unique", [True, False])
def test_loss_and_grads_match_float64_reference(rng, mode, nt, rah, slq, unique):
    W, b, lab, X, sv = problem(rng, nt=nt, unique=unique)
    kw = dict(remove_accidental_hits=rah, subtract_log_q=slq)
    want = ref.loss(mode, W, b, lab, X, sv, rah, slq)
    np.testing.assert_allclose(call(mode, False, W, b, lab, X, sv, reduction="none", **kw), want,
                               rtol=1e-13, atol=1e-13)
    loss, g = call(mode, True, W, b, lab, X, sv, reduction="sum", **kw)
    np.testing.assert_allclose(loss, want.sum(), rtol=1e-13)
    gx, gw, gb = ref.grads(mode, W, b, lab, X, sv, rah, slq)
    dw, db = ref.dense(g, W.shape[0])
    np.testing.assert_allclose(g.inputs, gx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dw, gw, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(db, gb, rtol=1e-12, atol=1e-13)
    # ids: every true and sampled class once
    assert set(g.ids.tolist()) == set(lab.ravel().tolist()) | set(sv[0].tolist())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nt", [1, 3])
def test_float32_within_tolerance_of_float64_reference(rng, mode, nt):
    W, b, lab, X, sv = problem(rng, N=40, D=33, C=500, S=100, nt=nt, dtype=np.float32)
    want = ref.loss(mode, W, b, lab, X, sv)
    got = call(mode, False, W, b, lab, X, sv, reduction="none")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
    loss, g = call(mode, True, W, b, lab, X, sv)
    assert loss.dtype == np.float32 and g.inputs.dtype == np.float32 and g.weights.dtype == np.float32
    gx, gw, gb = ref.grads(mode, W, b, lab, X, sv)
    dw, db = ref.dense(g, W.shape[0])
    N = X.shape[0]
    np.testing.assert_allclose(g.inputs, gx / N, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dw, gw / N, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(db, gb / N, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_reductions_agree(rng, mode):
    W, b, lab, X, sv = problem(rng, nt=2)
    none = call(mode, False, W, b, lab, X, sv, reduction="none")
    assert none.shape == (X.shape[0],)
    np.testing.assert_allclose(call(mode, False, W, b, lab, X, sv, reduction="sum"), none.sum(), rtol=1e-14)
    np.testing.assert_allclose(call(mode, False, W, b, lab, X, sv), none.mean(), rtol=1e-14)
    lm, gm = call(mode, True, W, b, lab, X, sv, reduction="mean")
    ls, gs = call(mode, True, W, b, lab, X, sv, reduction="sum")
    ln, gn = call(mode, True, W, b, lab, X, sv, reduction="none")
    np.testing.assert_allclose(ln, none, rtol=1e-15)
    np.testing.assert_array_equal(gm.ids, gs.ids)
    for name in ("inputs", "weights", "biases"):
        np.testing.assert_allclose(getattr(gm, name) * X.shape[0], getattr(gs, name), rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(getattr(gn, name), getattr(gs, name))


# ---- finite differences ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nt", [1, 3])
@pytest.mark.parametrize("rah", [True, False])
@pytest.mark.parametrize("unique", [True, False])
def test_grads_match_central_finite_differences(rng, mode, nt, rah, unique):
    W, b, lab, X, sv = problem(rng, N=4, D=3, C=12, S=5, nt=nt, unique=unique)
    kw = dict(remove_accidental_hits=rah, reduction="mean")

    def f(W_, b_, X_):
        return float(call(mode, False, W_, b_, lab, X_, sv, **kw))

    _, g = call(mode, True, W, b, lab, X, sv, **kw)
    dw, db = ref.dense(g, W.shape[0])
    h = 1e-6
    for arr, grad in ((X, g.inputs), (W, dw), (b, db)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            fp = f(W, b, X)
            arr[idx] = old - h
            fm = f(W, b, X)
            arr[idx] = old
            num[idx] = (fp - fm) / (2 * h)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


# ---- TensorFlow parity ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return pytest.importorskip("tensorflow")


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
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nt", [1, 3])
@pytest.mark.parametrize("rah", [True, False])
@pytest.mark.parametrize("slq", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_tensorflow(tf, rng, mode, nt, rah, slq, dtype):
    W, b, lab, X, sv = problem(rng, N=16, D=24, C=300, S=40, nt=nt, dtype=dtype)
    per, gx, gw, gb = tf_loss_and_grads(tf, mode, W, b, lab, X, sv, rah, slq)
    kw = dict(remove_accidental_hits=rah, subtract_log_q=slq)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(call(mode, False, W, b, lab, X, sv, reduction="none", **kw), per, **tol)
    loss, g = call(mode, True, W, b, lab, X, sv, reduction="sum", **kw)
    np.testing.assert_allclose(loss, per.sum(), **tol)
    dw, db = ref.dense(g, W.shape[0])
    np.testing.assert_allclose(g.inputs, gx, **tol)
    np.testing.assert_allclose(dw, gw, **tol)
    np.testing.assert_allclose(db, gb, **tol)


# ---- default samplers -----------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sampler", ["log_uniform", "uniform", "counts", "callable", "object"])
def test_default_sampler_is_seeded_and_matches_explicit_values(rng, mode, sampler):
    W, b, lab, X, _ = problem(rng, N=6, C=50, nt=2)
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
    f = FUNCS[mode][0]
    got = f(W, b, lab, X, 12, 50, num_true=2, sampler=arg, seed=5, reduction="none",
            remove_accidental_hits=True)
    sv = draw(lab, 2, 12, True, 50, seed=5)
    assert np.unique(sv[0]).size == 12
    np.testing.assert_array_equal(got, call(mode, False, W, b, lab, X, sv, reduction="none"))
    again = f(W, b, lab, X, 12, 50, num_true=2, sampler=arg, seed=5, reduction="none",
              remove_accidental_hits=True)
    np.testing.assert_array_equal(got, again)


# ---- layouts, dtypes, sizes -----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_any_strides_and_dtypes(rng, mode):
    W, b, lab, X, sv = problem(rng, N=6, D=4, C=20, S=7, nt=2)
    want = call(mode, True, W, b, lab, X, sv)
    big = np.zeros((20, 12))
    big[:, ::3] = W
    Wf = np.asfortranarray(W)
    Wneg = W[::-1][::-1] if False else np.flipud(np.flipud(W).copy())  # negative row stride view
    assert Wneg.strides[0] < 0
    for W2, b2, X2, lab2 in [(big[:, ::3], b, X, lab), (Wf, b[::-1].copy()[::-1], np.asfortranarray(X), lab.T.copy().T),
                             (Wneg, b, X[::-1].copy()[::-1], lab.astype(np.int32))]:
        got = call(mode, True, W2, b2, lab2, X2, sv)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
        for name in ("inputs", "weights", "biases", "ids"):
            np.testing.assert_allclose(getattr(got[1], name), getattr(want[1], name), rtol=1e-13, atol=1e-15)
    # float16 / integers compute in float64; a float32 weight with float64 inputs: float64
    got16 = call(mode, False, W.astype(np.float16), b.astype(np.float16), lab, X.astype(np.float16), sv)
    assert got16.dtype == np.float64
    mixed = call(mode, False, W.astype(np.float32), b, lab, X, sv)
    assert mixed.dtype == np.float64
    ro = W.copy()
    ro.flags.writeable = False
    np.testing.assert_allclose(call(mode, False, ro, b, lab, X, sv), want[0], rtol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_one_dimensional_labels_with_num_true_one(rng, mode):
    W, b, lab, X, sv = problem(rng, nt=1)
    a = call(mode, False, W, b, lab, X, sv, reduction="none")
    f = FUNCS[mode][0]
    c = f(W, b, lab[:, 0], X, sv[0].size, W.shape[0], sampled_values=(sv[0], sv[1][:, 0], sv[2]),
          reduction="none", remove_accidental_hits=True)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("mode", MODES)
def test_zero_sizes(rng, mode):
    W, b, lab, X, sv = problem(rng, nt=2)
    f, fg = (functools.partial(g, remove_accidental_hits=True) for g in FUNCS[mode])
    # empty batch
    e = (sv[0], np.zeros((0, 2), np.float32), sv[2])
    assert np.isnan(f(W, b, lab[:0], X[:0], sv[0].size, 30, num_true=2, sampled_values=e))
    assert f(W, b, lab[:0], X[:0], sv[0].size, 30, num_true=2, sampled_values=e, reduction="sum") == 0
    loss, g = fg(W, b, lab[:0], X[:0], sv[0].size, 30, num_true=2, sampled_values=e, reduction="sum")
    assert g.inputs.shape == (0, 5) and g.weights.shape == (g.ids.size, 5)
    np.testing.assert_array_equal(g.weights, 0)
    # no samples: only the true classes
    z = (np.zeros(0, np.int64), sv[1], np.zeros(0, np.float32))
    loss, g = fg(W, b, lab, X, 0, 30, num_true=2, sampled_values=z, reduction="none")
    np.testing.assert_allclose(loss, ref.loss(mode, W, b, lab, X, z), rtol=1e-13)
    gx, gw, gb = ref.grads(mode, W, b, lab, X, z)
    np.testing.assert_allclose(g.inputs, gx, rtol=1e-12, atol=1e-14)
    # dim 0
    loss, g = fg(W[:, :0], b, lab, X[:, :0], sv[0].size, 30, num_true=2, sampled_values=sv,
                 reduction="none")
    np.testing.assert_allclose(loss, ref.loss(mode, W[:, :0], b, lab, X[:, :0], sv), rtol=1e-13)
    assert g.weights.shape == (g.ids.size, 0)


@pytest.mark.parametrize("mode", MODES)
def test_nan_input_gives_nan_loss_of_that_example_only(rng, mode):
    W, b, lab, X, sv = problem(rng)
    X[2, 1] = np.nan
    loss = call(mode, False, W, b, lab, X, sv, reduction="none")
    assert np.isnan(loss[2]) and np.isfinite(np.delete(loss, 2)).all()


@pytest.mark.parametrize("mode", MODES)
def test_no_num_classes_sized_buffer(rng, mode):
    C, D = 400_000, 16
    W = np.zeros((C, D), np.float32)
    b = np.zeros(C, np.float32)
    X = rng.standard_normal((8, D)).astype(np.float32)
    lab = rng.integers(0, C, (8, 1))
    f = FUNCS[mode][1]
    f(W, b, lab, X, 64, C, seed=1)  # warm-up (BLAS loading)
    tracemalloc.start()
    f(W, b, lab, X, 64, C, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < C * 4 // 4, peak  # far below one float per class


# ---- threads and SIMD paths -----------------------------------------------------------------

@pytest.mark.threads
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("unique", [True, False])
def test_one_and_two_threads_bit_identical(rng, mode, unique):
    W, b, lab, X, sv = problem(rng, N=300, D=40, C=5000, S=700, nt=2, dtype=np.float32, unique=unique)
    out = []
    old = _core._set_sampled_parallel_min(0)  # split even this small problem
    try:
        for n in (1, 2, 3):
            fastsmce.set_num_threads(n)
            out.append(call(mode, True, W, b, lab, X, sv, reduction="none"))
    finally:
        _core._set_sampled_parallel_min(old)
    for o in out[1:]:
        np.testing.assert_array_equal(out[0][0], o[0])
        for name in ("inputs", "ids", "weights", "biases"):
            np.testing.assert_array_equal(getattr(out[0][1], name), getattr(o[1], name))


@pytest.mark.threads
def test_blas_thread_count_changes_only_rounding(rng):
    # the products run in SciPy's BLAS with its own threads (threadpoolctl "blas"): their
    # split may change the last bits, as for any NumPy matmul; fastsmce's own thread
    # count never does (test above)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    W, b, lab, X, sv = problem(rng, N=256, D=64, C=5000, S=512, nt=1, dtype=np.float32)
    out = []
    for n in (1, 2, 2):
        with threadpoolctl.threadpool_limits(limits=n, user_api="blas"):
            out.append(call("softmax", True, W, b, lab, X, sv))
    for name in ("inputs", "weights", "biases"):
        np.testing.assert_allclose(getattr(out[0][1], name), getattr(out[1][1], name), rtol=1e-4,
                                   atol=1e-7)
        np.testing.assert_array_equal(getattr(out[1][1], name), getattr(out[2][1], name))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6)


SIMD_SCRIPT = r"""
import json, sys
import numpy as np
import fastsmce
from fastsmce import sampling
rng = np.random.default_rng(3)
res = {"simd": fastsmce.show_config(mode="dicts")["simd"]}
for dt in ("float32", "float64"):
    # sizes off the vector widths: D = 37, S = 45, ks = 45
    W = rng.standard_normal((200, 37)).astype(dt); b = rng.standard_normal(200).astype(dt)
    X = rng.standard_normal((19, 37)).astype(dt); lab = rng.integers(0, 200, (19, 2))
    for uq in (True, False):
        sv = sampling.log_uniform_candidate_sampler(lab, 2, 45, uq, 200, seed=1)
        for name, f in (("softmax", fastsmce.sampled_softmax_loss_with_grad),
                        ("nce", fastsmce.nce_loss_with_grad)):
            loss, g = f(W, b, lab, X, 45, 200, num_true=2, sampled_values=sv, reduction="none",
                        remove_accidental_hits=True)
            res[f"{dt}-{uq}-{name}"] = [loss.tolist(), g.inputs.tolist(), g.weights.tolist(),
                                        g.biases.tolist(), g.ids.tolist(),
                                        [a.tolist() for a in sv]]
print("RESULT " + json.dumps(res))
"""


@pytest.mark.simd
@pytest.mark.parametrize("path", ["scalar", "avx2", "avx512"])
def test_every_simd_path_matches_reference(path):
    cfg = fastsmce.show_config(mode="dicts")
    if path not in cfg["simd_supported"]:
        pytest.skip(f"{path} cannot run on this CPU / build")
    env = dict(os.environ, FASTSMCE_SIMD=path)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-c", SIMD_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][0]
    res = json.loads(line[len("RESULT "):])
    assert res.pop("simd") == path
    rng = np.random.default_rng(3)
    for key, (loss, gx, gw, gb, ids, sv) in res.items():
        dt, uq, mode = key.split("-")
        # regenerate the same inputs (same order of draws as the script)
        del uq
        loss, gx = np.array(loss), np.array(gx)
        sv = (np.array(sv[0]), np.array(sv[1]), np.array(sv[2]))
        if key.endswith("True-softmax"):
            W = rng.standard_normal((200, 37)).astype(dt)
            b = rng.standard_normal(200).astype(dt)
            X = rng.standard_normal((19, 37)).astype(dt)
            lab = rng.integers(0, 200, (19, 2))
        tol = dict(rtol=1e-5, atol=1e-5) if dt == "float32" else dict(rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(loss, ref.loss(mode, W, b, lab, X, sv), **tol)
        rx, rw, rb = ref.grads(mode, W, b, lab, X, sv)
        np.testing.assert_allclose(gx, rx, **tol)
        ids = np.array(ids)
        np.testing.assert_allclose(np.array(gw).reshape(ids.size, -1), rw[ids], **tol)
        np.testing.assert_allclose(np.array(gb), rb[ids], **tol)


# ---- bad input ------------------------------------------------------------------------------

def _args(rng):
    W, b, lab, X, sv = problem(rng, nt=2)
    return dict(weights=W, biases=b, labels=lab, inputs=X, num_sampled=sv[0].size, num_classes=30,
                num_true=2, sampled_values=sv)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change, exc, match", [
    (lambda a: a.update(sampled_values=None, num_sampled=31), ValueError, "num_sampled=31 exceeds"),
    (lambda a: a["labels"].__setitem__((0, 0), 30), ValueError, r"labels must lie in \[0, 30\)"),
    (lambda a: a["labels"].__setitem__((0, 0), -1), ValueError, "labels must lie in"),
    (lambda a: a.update(num_true=3), ValueError, "labels has shape"),
    (lambda a: a.update(labels=a["labels"][:-1]), ValueError, "labels has shape"),
    (lambda a: a.update(labels=a["labels"].astype(float)), TypeError, "labels must be an integer"),
    (lambda a: a.update(inputs=a["inputs"][:, :-1]), ValueError, "inputs has shape"),
    (lambda a: a.update(biases=a["biases"][:-1]), ValueError, "biases has shape"),
    (lambda a: a.update(num_classes=31), ValueError, "weights has shape"),
    (lambda a: a.update(num_sampled=8), ValueError, "sampled.* has shape"),
    (lambda a: a.update(sampled_values=a["sampled_values"][:2]), ValueError, "triple"),
    (lambda a: a.update(sampled_values=(a["sampled_values"][0] + 30,) + a["sampled_values"][1:]),
     ValueError, "sampled.*must lie in"),
    (lambda a: a.update(sampled_values=a["sampled_values"][:1] + (a["sampled_values"][1][:, :1],
                                                                 a["sampled_values"][2])),
     ValueError, "true_expected_count.*shape"),
    (lambda a: a.update(sampled_values=a["sampled_values"][:2] + (a["sampled_values"][2] * 0,)),
     ValueError, "must be > 0"),
    (lambda a: a.update(reduction="avg"), ValueError, "reduction"),
    (lambda a: a.update(sampled_values=None, sampler="zipf"), ValueError, "sampler must be"),
    (lambda a: a.update(weights=a["weights"].astype(complex)), TypeError, "weights must be a real"),
])
def test_bad_input_raises(rng, mode, change, exc, match):
    a = _args(rng)
    change(a)
    f = FUNCS[mode][1]
    with pytest.raises(exc, match=match):
        f(a.pop("weights"), a.pop("biases"), a.pop("labels"), a.pop("inputs"), a.pop("num_sampled"),
          a.pop("num_classes"), **a)


# ---- the benchmark of a step runs and checks its candidates ------------------------------------

def test_sampled_bench_runs_small(capsys):
    from fastsmce.bench import sampled

    med = sampled.main(["--batch", "16", "--dim", "8", "--classes", "500", "--sampled", "32",
                        "--full-batch", "4", "--no-tf", "--time", "0.01"])
    out = capsys.readouterr().out
    assert "fastsmce / gemms" in out and "full / fastsmce" in out
    assert {"gemms", "full", "sampler"} <= set(med)
