"""Shared test utilities (reached through conftest.py's sys.path insert; test modules never
import each other).  The references themselves are in tests/reference/.

    generic      SENTINEL, central_fd (the one finite-difference gradient), unaligned,
                 Positives (the one duck-typed CSR target), one_blas_thread, load_module
    SIMD paths   SIMD_COMPILED (derived from the build), simd_order, best_simd_path,
                 skip_unless_runnable, run_under_simd (the one subprocess harness) and
                 assert_battery_passes (runs a module's check battery under a forced path)
    per op       case builders and calls shared by several files of one op: the softmax
                 family (gen_inputs / check / compare), cross-entropy (xent_case, XENT_OPTIONS),
                 the binary losses (bce_case, sparse_case, BCE_OPTIONS), sampled softmax / NCE
                 (sampled_problem, sampled_call)
"""

import contextlib
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastsmce
from reference.softmax import (
    BWD_RTOL,
    assert_log_close,
    assert_probs_close,
    assert_scaled_close,
    log_softmax_backward_ref,
    log_softmax_backward_scale,
    log_softmax_ref,
    logsumexp_ref,
    result_dtype,
    softmax_backward_ref,
    softmax_backward_scale,
    softmax_ref,
)

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
SENTINEL = -12345.5
FLOATS = (np.float32, np.float64)
REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------------
# generic
# ---------------------------------------------------------------------------

def central_fd(f, x, h=1e-6, elementwise=False):
    """Central finite differences of ``f`` at the float64 array ``x``: an array of x's shape
    whose entry i is (f(x + h e_i) - f(x - h e_i)) / (2 h).  ``f`` returns a scalar, or with
    ``elementwise=True`` an array of x's shape of which entry i is taken (the derivative of an
    elementwise loss ``reduction="none"``, without summing the other entries)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xm = x.copy()
        xp[idx] += h
        xm[idx] -= h
        up, dn = f(xp), f(xm)
        if elementwise:
            up, dn = up[idx], dn[idx]
        grad[idx] = (up - dn) / (2 * h)
    return grad


def unaligned(a):
    """a copy of ``a`` at an odd byte offset (not aligned for its dtype)"""
    a = np.asarray(a)
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    u = np.ndarray(a.shape, dtype=a.dtype, buffer=buf, offset=1)
    u[...] = a
    assert not u.flags.aligned
    return u


class Positives:
    """duck-typed sparse (CSR) targets, as the BCE docs allow: indptr, indices, optional data
    and shape; the arrays are kept as given (np.asarray: no copy of an ndarray, so unaligned
    or int32 ones reach fastsmce as they are)"""

    def __init__(self, indptr, indices, data=None, shape=None):
        self.indptr, self.indices = np.asarray(indptr), np.asarray(indices)
        if data is not None:
            self.data = np.asarray(data)
        if shape is not None:
            self.shape = shape


def one_blas_thread():
    """SciPy's BLAS (the sampled products) held at one thread, where threadpoolctl exists"""
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpoolctl.threadpool_limits(limits=1, user_api="blas")


def load_module(path):
    """import a file by path under a name of its own (for the SIMD subprocesses)"""
    name = "_loaded_" + os.path.relpath(os.path.abspath(path), TESTS_DIR).replace(os.sep, "_")[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------------------
# SIMD paths: derived from the build, forced with FASTSMCE_SIMD in a subprocess
# ---------------------------------------------------------------------------

def simd_config():
    return fastsmce.show_config(mode="dicts")


def simd_order(cfg=None):
    """every ISA fastsmce knows, in preference order (scalar first, least preferred): the C
    table's list where show_config gives it ("simd_known"), else the paths compiled in"""
    cfg = simd_config() if cfg is None else cfg
    return list(cfg.get("simd_known", cfg["simd_compiled"]))


#: every path compiled into this build (scalar first): the parameters of the per-path tests
SIMD_COMPILED = list(simd_config()["simd_compiled"])


def best_simd_path(cfg=None):
    """the path fastsmce must pick by default: the most preferred one compiled and supported"""
    cfg = simd_config() if cfg is None else cfg
    usable = set(cfg["simd_supported"]) & set(cfg["simd_compiled"])
    order = simd_order(cfg)
    return max(usable, key=order.index)


def skip_unless_runnable(path):
    cfg = simd_config()
    if path not in cfg["simd_compiled"]:
        pytest.skip(f"{path} not compiled into this build")
    if path not in cfg["simd_supported"]:
        pytest.skip(f"CPU lacks {path}")


_PRELUDE = """\
import json, sys, warnings
sys.path.insert(0, %(tests)r)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fastsmce
cfg = fastsmce.show_config(mode="dicts")
cfg["import_warnings"] = ["%%s: %%s" %% (w.category.__name__, w.message) for w in caught]
print("CONFIG " + json.dumps(cfg), flush=True)
"""

_BATTERY = """\
if cfg["simd"] != %(path)r:
    print("FAIL: requested %%r, active path is %%r" %% (%(path)r, cfg["simd"]))
    sys.exit(2)
import helpers
fails = list(getattr(helpers.load_module(%(file)r), %(func)r)() or [])
for f in fails[:60]:
    print("FAIL: " + f)
print("%%d failures on path %%r" %% (len(fails), cfg["simd"]) if fails else "OK")
sys.exit(1 if fails else 0)
"""


def run_under_simd(simd, code="", timeout=300):
    """Run ``code`` in a fresh interpreter with FASTSMCE_SIMD=simd (None: unset) and tests/ on
    its path, after a prelude that imports fastsmce recording its warnings and prints
    ``CONFIG {show_config(mode="dicts") + import_warnings}``.  Returns (process, that dict or
    None)."""
    env = dict(os.environ)
    env.pop("FASTSMCE_SIMD", None)
    if simd is not None:
        env["FASTSMCE_SIMD"] = simd
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(
        [pkg_root, TESTS_DIR] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-c", _PRELUDE % {"tests": TESTS_DIR} + code],
                          env=env, capture_output=True, text=True, timeout=timeout)
    cfg = None
    for line in proc.stdout.splitlines():
        if line.startswith("CONFIG "):
            cfg = json.loads(line[len("CONFIG "):])
            break
    return proc, cfg


def assert_battery_passes(path, module_file, func="simd_battery", timeout=600):
    """Force ``path`` in a subprocess and run ``func()`` of ``module_file`` there (a battery:
    it returns a list of failure lines, or raises); the path must really be active, import
    without a RuntimeWarning, and the battery must print OK."""
    __tracebackhide__ = True
    skip_unless_runnable(path)
    proc, sub = run_under_simd(path, _BATTERY % {"path": path, "file": module_file,
                                                 "func": func}, timeout=timeout)
    assert sub is not None, proc.stdout + proc.stderr
    assert sub["simd"] == path, sub
    assert not [w for w in sub["import_warnings"] if w.startswith("RuntimeWarning")], sub
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), \
        f"path {path}:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"


# ---------------------------------------------------------------------------
# the softmax family: call any of the five functions and check it against reference.softmax
# ---------------------------------------------------------------------------

FORWARD = ("softmax", "log_softmax", "logsumexp")
BACKWARD = ("softmax_backward", "log_softmax_backward")
FUNCS = FORWARD + BACKWARD


def gen_inputs(name, rng, dtype, scale=1.5):
    """A list of generators ``shape -> array`` for the arguments of ``name``: (x,) for the
    forward functions (normal * scale: |x - rowmax| stays under 16 for any size used here,
    so float32 rounding of x - max leaves room for the 1e-6 bound), (grad, probs) or
    (grad, log_probs) for the backward ones."""
    def x(shape):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def probs(shape):
        return rng.uniform(0.001, 1.0, shape).astype(dtype)

    def log_probs(shape):
        return np.log(rng.uniform(0.001, 1.0, shape)).astype(dtype)

    if name == "softmax_backward":
        return [x, probs]
    if name == "log_softmax_backward":
        return [x, log_probs]
    return [x]


def compare(name, got, args, axis=-1, keepdims=False, dtype=None):
    """Assert ``got`` (the result of ``name(*args, axis)``) is within tolerance of the reference."""
    dtype = np.dtype(dtype) if dtype is not None else result_dtype(args[0])
    what = f"{name}(axis={axis})"
    if name == "softmax":
        assert_probs_close(got, softmax_ref(args[0], axis), dtype, what)
    elif name == "log_softmax":
        assert_log_close(got, log_softmax_ref(args[0], axis), dtype, what)
    elif name == "logsumexp":
        assert_log_close(got, logsumexp_ref(args[0], axis, keepdims=keepdims), dtype, what)
    elif name == "softmax_backward":
        assert_scaled_close(got, softmax_backward_ref(args[0], args[1], axis),
                            softmax_backward_scale(args[0], args[1], axis), BWD_RTOL[dtype], what)
    elif name == "log_softmax_backward":
        assert_scaled_close(got, log_softmax_backward_ref(args[0], args[1], axis),
                            log_softmax_backward_scale(args[0], args[1], axis), BWD_RTOL[dtype],
                            what)
    else:
        raise ValueError(name)


def expected_shape(name, shape, axis, keepdims=False):
    if name != "logsumexp":
        return tuple(shape)
    axis = axis % len(shape)
    if keepdims:
        return tuple(1 if i == axis else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i != axis)


def call(name, args, axis=-1, **kw):
    return getattr(fastsmce, name)(*args, axis=axis, **kw)


def check(name, args, axis=-1, **kw):
    """Call ``name`` and check type, dtype, shape and values; return the result."""
    got = call(name, args, axis, **kw)
    dtype = result_dtype(args[0])
    shape = expected_shape(name, np.shape(args[0]), axis, kw.get("keepdims", False))
    if name == "logsumexp" and not shape and kw.get("out") is None:
        assert isinstance(got, (np.ndarray, np.generic)), type(got)
    else:
        assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == dtype, (got.dtype, dtype)
    assert got.dtype.isnative
    assert got.shape == shape, (got.shape, shape)
    if kw.get("out") is not None:
        assert got is kw["out"]
    compare(name, got, args, axis, kw.get("keepdims", False), dtype)
    return got


# ---------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------

XENT_RTOL = {np.float32: 2e-5, np.float64: 1e-12}
XENT_ATOL = {np.float32: 2e-6, np.float64: 1e-13}

XENT_OPTIONS = [
    dict(),
    dict(weight=True),
    dict(label_smoothing=0.1),
    dict(weight=True, label_smoothing=0.25),
    dict(ignore_every=3),
    dict(weight=True, ignore_every=4, label_smoothing=0.05),
]
# ignore_index applies to class indices only: no probability-target cases with it
XENT_KIND_OPTS = [(k, o) for k in ("int", "prob") for o in range(len(XENT_OPTIONS))
                  if k == "int" or not XENT_OPTIONS[o].get("ignore_every")]


def xent_case(shape, axis=-1, dtype=np.float64, kind="int", seed=0, ignore_every=0, scale=3.0):
    """(logits, target, class weights): class indices (every ``ignore_every``-th -100) or
    probability rows along ``axis``"""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    C = shape[axis]
    bshape = tuple(s for d, s in enumerate(shape) if d != axis % len(shape))
    if kind == "int":
        t = rng.integers(0, C, size=bshape)
        if ignore_every:
            t.reshape(-1)[::ignore_every] = -100
    else:
        t = rng.random(shape).astype(dtype)
        t /= t.sum(axis=axis, keepdims=True)
    w = (rng.random(C) + 0.25).astype(dtype)
    return x, t, w


def xent_call(fn, x, t, w, opt, red, **more):
    """fn(x, t, reduction=red, the options of XENT_OPTIONS entry ``opt``); returns (result, kw)"""
    kw = dict(reduction=red, **more)
    if opt.get("weight"):
        kw["weight"] = w
    if "label_smoothing" in opt:
        kw["label_smoothing"] = opt["label_smoothing"]
    return fn(x, t, **kw), kw


def xent_close(a, b, dtype, scale=1.0):
    np.testing.assert_allclose(np.asarray(a, np.float64), b, rtol=XENT_RTOL[dtype],
                               atol=XENT_ATOL[dtype] * scale)


# ---------------------------------------------------------------------------
# the binary losses (BCE with logits, focal)
# ---------------------------------------------------------------------------

BCE_RTOL = {np.float32: 2e-6, np.float64: 1e-13}
FOCAL_PARAMS = [(0.25, 2.0), (-1.0, 2.0), (0.5, 0.0), (0.9, 0.5), (0.25, 3.7)]  # (alpha, gamma)
BCE_OPTIONS = [{}, {"weight": "w"}, {"pos_weight": "pw"}, {"weight": "wrow", "pos_weight": "pw"},
               {"weight": "wfull", "pos_weight": "pwfull"}]


def bce_case(rng, shape, dtype, soft=True, scale=4.0):
    """(logits, targets): soft targets in [0, 1), or hard ones (30 % ones)"""
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    z = (rng.random(shape) if soft else (rng.random(shape) < 0.3)).astype(dtype)
    return x, z


def bce_options(opt, rng, shape, dtype):
    """the weight / pos_weight arrays an entry of BCE_OPTIONS names, for logits of ``shape``"""
    n, c = shape[0], shape[-1]
    table = {"w": rng.random(c) + 0.5, "pw": rng.random(c) * 3, "wrow": rng.random((n, 1)) + 0.5,
             "wfull": rng.random(shape), "pwfull": rng.random(shape) * 2}
    return {k: table[v].astype(dtype) for k, v in opt.items()}


def bce_close(got, ref, dtype, what=""):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    scale = max(np.abs(ref).max(), 1e-300) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=BCE_RTOL[dtype], atol=BCE_RTOL[dtype] * scale,
                               err_msg=what)


def sparse_case(rng, n, c, k, dtype):
    """(logits, dense 0/1 targets with up to k positives per row), to be given as CSR"""
    x = (rng.standard_normal((n, c)) * 4).astype(dtype)
    z = np.zeros((n, c), dtype)
    for r in range(n):
        z[r, rng.choice(c, size=rng.integers(0, min(k, c) + 1), replace=False)] = 1
    return x, z


def sigmoid_wide_inputs(dtype, rng, n=200_000):
    """sigmoid inputs over the whole interesting range of dtype, and signed zeros / tiny values"""
    lim = 90 if dtype == np.float32 else 720
    x = np.concatenate([rng.uniform(-lim, lim, n), rng.standard_normal(n) * 4,
                        np.linspace(-30, 30, 6001), [0.0, -0.0, 1e-30, -1e-30]])
    return x.astype(dtype)


# ---------------------------------------------------------------------------
# sampled softmax / NCE
# ---------------------------------------------------------------------------

SAMPLED_FUNCS = {"softmax": (fastsmce.sampled_softmax_loss, fastsmce.sampled_softmax_loss_with_grad),
                 "nce": (fastsmce.nce_loss, fastsmce.nce_loss_with_grad)}
SAMPLED_MODES = list(SAMPLED_FUNCS)


def sampled_problem(rng, N=7, D=5, C=30, S=9, nt=1, dtype=np.float64, unique=True, hits=True):
    """(W, b, labels, X, sampled_values): a small problem whose sampled classes include true
    labels (accidental hits); unique=False gives repeated sampled classes"""
    from fastsmce import sampling
    W = rng.standard_normal((C, D)).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    X = rng.standard_normal((N, D)).astype(dtype)
    lab = rng.integers(0, C, (N, nt))
    if nt > 1:
        lab[0, 1] = lab[0, 0]  # a repeated label
    sv = sampling.log_uniform_candidate_sampler(lab, nt, S, unique, C, seed=7)
    if hits:
        s = sv[0].copy()
        s[0] = lab[1, 0]
        if not unique:
            s[1] = s[0]
        sv = (s, sv[1], sv[2])
    return W, b, lab, X, sv


def sampled_call(mode, grad, W, b, lab, X, sv, **kw):
    """the loss (grad: and its gradients) for explicit sampled values; accidental
    hits are removed unless told (as the references' default, for both modes)"""
    kw.setdefault("remove_accidental_hits", True)
    f = SAMPLED_FUNCS[mode][1 if grad else 0]
    return f(W, b, lab, X, sv[0].size, W.shape[0], num_true=lab.shape[1], sampled_values=sv, **kw)


# ---------------------------------------------------------------------------
# candidate samplers
# ---------------------------------------------------------------------------

SAMPLERS = ["uniform", "log_uniform", "unigram"]


def sampler_unigrams(n, seed=3):
    """unigram counts of n classes: class 0 never drawn, class 1 much more likely"""
    w = np.random.default_rng(seed).integers(0, 50, n).astype(np.float64)
    w[0] = 0.0  # a class that must never be drawn
    w[1] = 200.0
    return w


def sampler_draw(kind, true_classes, num_true, num_sampled, unique, n, seed, distortion=1.0):
    """(sampled, true_expected_count, sampled_expected_count) of the public sampler ``kind``
    (unigram: over sampler_unigrams(n))"""
    from fastsmce import sampling
    if kind == "uniform":
        return sampling.uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, n,
                                                  seed=seed)
    if kind == "log_uniform":
        return sampling.log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique,
                                                      n, seed=seed)
    return sampling.fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, n,
                                                    unigrams=sampler_unigrams(n),
                                                    distortion=distortion, seed=seed)


def raw_sampler(kind, n, distortion=1.0):
    """the C sampler behind ``kind`` (its sample() also returns the number of draws made)"""
    from fastsmce import _core
    kinds = {"uniform": 0, "log_uniform": 1, "unigram": 2}
    if kind == "unigram":
        return _core._Sampler(2, n, sampler_unigrams(n), distortion)
    return _core._Sampler(kinds[kind], n)


def sampler_distribution(kind, n, distortion=1.0):
    """the distribution of sampler ``kind`` over n classes (unigram: sampler_unigrams(n))"""
    from reference.samplers import sampler_probs
    return sampler_probs(kind, n, sampler_unigrams(n) if kind == "unigram" else None, distortion)
