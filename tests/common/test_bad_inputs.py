"""Bad input, table-driven, for every public function of ``fastsmce`` and ``fastsmce.sampling``.

Each row: a function, a change to a valid call, the exception class and a regex that must
NAME THE ARGUMENT at fault.  Every call is made with a sentinel-filled ``out`` / ``grad_out``
where the function has one (and once more without it); after the raise every array passed
(outputs and inputs alike) must be bit-for-bit what it was.  Zero-size inputs that are valid
are checked against float64 NumPy references; invalid ones are rows of the table.

The softmax family's ``out=`` and ``axis`` errors are in softmax/test_out_and_errors.py; here the
softmax family gets the rows that file lacks (non-array and unconvertible inputs, zero size).
"""

import copy

import numpy as np
import pytest
import scipy.sparse as sps
import scipy.special

import fastsmce as F
from fastsmce import sampling as S
from helpers import SENTINEL, Positives
from reference.xent import cross_entropy_ref
AxisError = np.exceptions.AxisError

SAMPLER_FUNCS = ("uniform_candidate_sampler", "log_uniform_candidate_sampler",
                 "fixed_unigram_candidate_sampler", "FixedUnigramSampler")
FORWARD = ("softmax", "log_softmax", "logsumexp")
BACKWARD = ("softmax_backward", "log_softmax_backward")
ELEMENTWISE = ("sigmoid", "log_sigmoid")
XENT = ("cross_entropy", "cross_entropy_with_grad")
BCE = ("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_with_grad")
FOCAL = ("sigmoid_focal_loss", "sigmoid_focal_loss_with_grad")
SAMPLED = ("sampled_softmax_loss", "sampled_softmax_loss_with_grad", "nce_loss",
           "nce_loss_with_grad")
LINEAR = ("linear_cross_entropy", "linear_cross_entropy_with_grad")
SHARDS = ("linear_cross_entropy_stats", "merge_shard_stats", "cross_entropy_from_stats")
WITH_GRAD = ("cross_entropy_with_grad", "binary_cross_entropy_with_logits_with_grad",
             "sigmoid_focal_loss_with_grad")

# the output keyword of each function that has one, and its shape for the (3, 4) base input
OUT_KW = {**{f: "out" for f in FORWARD + BACKWARD + ELEMENTWISE}, **{f: "grad_out" for f in WITH_GRAD}}


def _out_shape(fname):
    return (3,) if fname == "logsumexp" else (3, 4)


def base(fname):
    """keyword arguments of a valid call of ``fname`` (fresh arrays every time)"""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4))
    if fname in FORWARD + ELEMENTWISE:
        return {"x": x}
    if fname == "softmax_backward":
        return {"grad": x, "probs": rng.uniform(0.1, 1, (3, 4))}
    if fname == "log_softmax_backward":
        return {"grad": x, "log_probs": np.log(rng.uniform(0.1, 1, (3, 4)))}
    if fname in XENT:
        return {"logits": x, "target": np.array([0, 3, 1])}
    if fname in BCE + FOCAL:
        return {"logits": x, "target": rng.uniform(0, 1, (3, 4))}
    if fname in LINEAR + ("linear_cross_entropy_stats",):
        return {"input": rng.standard_normal((3, 2)), "linear_weight": rng.standard_normal((4, 2)),
                "target": np.array([0, 3, 1])}
    if fname in SHARDS:
        X, W, t = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), np.array([0, 3, 1])
        parts = [F.linear_cross_entropy_stats(X, W[:1], t),
                 F.linear_cross_entropy_stats(X, W[1:], t, class_start=1)]
        if fname == "merge_shard_stats":
            return {"stats": parts}
        return {"stats": F.merge_shard_stats(*parts), "target": t}
    if fname in SAMPLED:
        return {"weights": rng.standard_normal((6, 2)), "biases": rng.standard_normal(6),
                "labels": np.array([[0], [5], [2]]), "inputs": rng.standard_normal((3, 2)),
                "num_sampled": 3, "num_classes": 6, "seed": 0}
    if fname in SAMPLER_FUNCS:
        kw = {"true_classes": np.array([[0], [5], [2]]), "num_true": 1, "num_sampled": 3,
              "unique": True, "range_max": 6, "seed": 0}
        if fname in ("fixed_unigram_candidate_sampler", "FixedUnigramSampler"):
            kw["unigrams"] = np.arange(1.0, 7.0)
        return kw
    if fname == "set_num_threads":
        return {"n": 1}
    if fname == "show_config":
        return {"mode": "dicts"}
    raise KeyError(fname)


def call(fname, kw):
    if fname == "FixedUnigramSampler":
        kw = dict(kw)
        sampler = S.FixedUnigramSampler(kw.pop("unigrams"), **({"distortion": kw.pop("distortion")}
                                                             if "distortion" in kw else {}))
        return sampler(**kw)
    if fname == "merge_shard_stats":
        return F.merge_shard_stats(*kw["stats"])
    f = getattr(S, fname) if fname in SAMPLER_FUNCS else getattr(F, fname)
    return f(**kw)


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------

def set_(**changes):
    """a change: replace arguments (ndarray values copied, so rows never share buffers)"""
    return lambda kw: kw.update(copy.deepcopy(changes))


def like(name, fn):
    """a change: argument ``name`` replaced by fn(its valid value)"""
    return lambda kw: kw.__setitem__(name, fn(kw[name]))


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def objects_of_dicts(a):
    o = np.empty(np.shape(a), dtype=object)
    for i in np.ndindex(o.shape):
        o[i] = {}
    return o


def arg(name):
    """a regex that matches the argument's name as a word"""
    return rf"(?<![\w.]){name}(?!\w)"


CASES = []


def row(fname, change, exc, name, match=None, rid=""):
    CASES.append(pytest.param(fname, change, exc, match if match is not None else arg(name),
                              id=f"{fname}-{rid or name}"))


# 1. every array argument: not an array at all, or not convertible to a real one
ARRAY_ARGS = {
    **{f: ["x"] for f in FORWARD + ELEMENTWISE},
    "softmax_backward": ["grad", "probs"], "log_softmax_backward": ["grad", "log_probs"],
    **{f: ["logits", "target", "weight"] for f in XENT},
    **{f: ["logits", "target", "weight", "pos_weight"] for f in BCE},
    **{f: ["logits", "target"] for f in FOCAL},
    **{f: ["input", "linear_weight", "target", "linear_bias", "weight"]
       for f in LINEAR + ("linear_cross_entropy_stats",)},
    **{f: ["weights", "biases", "labels", "inputs"] for f in SAMPLED},
    **{f: ["true_classes"] for f in SAMPLER_FUNCS[:3]},
    "fixed_unigram_candidate_sampler": ["true_classes", "unigrams"],
    "FixedUnigramSampler": ["true_classes", "unigrams"],
}
OPTIONAL = {"weight", "pos_weight", "linear_bias"}          # None is valid for these
SHAPE_OF = {"weight": (4,), "pos_weight": (4,), "linear_bias": (4,)}

for fname, names in ARRAY_ARGS.items():
    for name in names:
        shape = SHAPE_OF.get(name)
        if name not in OPTIONAL:
            row(fname, set_(**{name: None}), TypeError, name, rid=f"{name}-None")
        row(fname, set_(**{name: {"a": 1}}), TypeError, name, rid=f"{name}-dict")
        row(fname, set_(**{name: [["a", "b"], ["c", "d"]]}), TypeError, name, rid=f"{name}-strings")
        row(fname, set_(**{name: [[1.0], [1.0, 2.0]]}), ValueError, name, rid=f"{name}-ragged")
        if shape is None:
            row(fname, like(name, lambda a: np.asarray(a).astype(np.complex128)), TypeError, name,
                rid=f"{name}-complex")
            row(fname, like(name, objects_of_dicts), TypeError, name, rid=f"{name}-objects")
        else:
            row(fname, set_(**{name: np.ones(shape, np.complex64)}), TypeError, name,
                rid=f"{name}-complex")
            row(fname, set_(**{name: objects_of_dicts(np.ones(shape))}), TypeError, name,
                rid=f"{name}-objects")
            row(fname, set_(**{name: np.zeros(shape, "datetime64[s]")}), TypeError, name,
                rid=f"{name}-datetime")

# 2. out / grad_out of the functions softmax/test_out_and_errors.py does not cover
for fname in ELEMENTWISE + WITH_GRAD:
    o = OUT_KW[fname]
    row(fname, set_(**{o: np.full((4, 3), SENTINEL)}), ValueError, o, rid=f"{o}-shape")
    row(fname, set_(**{o: np.full((3, 4, 1), SENTINEL)}), ValueError, o, rid=f"{o}-ndim")
    row(fname, set_(**{o: np.full((3, 4), SENTINEL, np.float32)}), TypeError, o, rid=f"{o}-float32")
    row(fname, set_(**{o: np.full((3, 4), -7, np.int64)}), TypeError, o, rid=f"{o}-int64")
    row(fname, set_(**{o: np.full((3, 4), SENTINEL, np.complex128)}), TypeError, o,
        rid=f"{o}-complex")
    row(fname, lambda kw, o=o: kw.__setitem__(o, read_only(np.full((3, 4), SENTINEL))),
        ValueError, o, rid=f"{o}-read-only")
    row(fname, lambda kw, o=o: kw.__setitem__(o, np.broadcast_to(np.full(4, SENTINEL), (3, 4))),
        ValueError, o, rid=f"{o}-broadcast")
    row(fname, set_(**{o: [[SENTINEL] * 4] * 3}), TypeError, o, rid=f"{o}-list")
    row(fname, set_(**{o: {}}), TypeError, o, rid=f"{o}-dict")
    row(fname, lambda kw, o=o: kw.update({"x" if "x" in kw else "logits": np.ones((3, 4), np.float32),
                                          o: np.full((3, 4), SENTINEL)}),
        TypeError, o, rid=f"{o}-float64-for-float32")

# 3. unknown options, bad values, out of range
for fname in XENT + BCE + FOCAL + SAMPLED + LINEAR:
    for bad in ("avg", None, "MEAN", np.array(["mean", "sum"]), 0):
        row(fname, set_(reduction=bad), ValueError, "reduction", rid=f"reduction-{bad!r:.8}")

for fname in XENT:
    row(fname, set_(target=np.array([0, 4, 1])), IndexError, "target", rid="label-C")
    row(fname, set_(target=np.array([0, -1, 1])), IndexError, "target", rid="label-negative")
    row(fname, set_(target=np.array([0, -7, 1]), ignore_index=-100), IndexError, "target",
        rid="label-not-ignored")
    row(fname, set_(target=np.array([0, 2**62, 1])), IndexError, "target", rid="label-huge")
    row(fname, set_(target=np.array([0, 2**64 - 1, 1], np.uint64)), IndexError, "target",
        rid="label-uint64-max")
    row(fname, set_(target=np.array([0, 1])), ValueError, "target", rid="labels-short")
    row(fname, set_(target=np.zeros((3, 4), np.int64)), ValueError, "target", rid="int-probs")
    row(fname, set_(target=np.zeros(3)), TypeError, "target", rid="float-labels")
    row(fname, set_(target=np.zeros((3, 5))), ValueError, "target", rid="probs-shape")
    row(fname, set_(target=np.array([True, False, True])), TypeError, "target", rid="bool")
    row(fname, set_(weight=np.array([1.0, np.nan, 1.0, 1.0])), ValueError, "weight", rid="weight-nan")
    row(fname, set_(weight=np.array([1.0, np.inf, 1.0, 1.0])), ValueError, "weight", rid="weight-inf")
    row(fname, set_(weight=np.array([1.0, -0.5, 1.0, 1.0])), ValueError, "weight", rid="weight-neg")
    row(fname, set_(weight=np.ones(3)), ValueError, "weight", rid="weight-shape")
    row(fname, set_(weight=np.ones((1, 4))), ValueError, "weight", rid="weight-2d")
    row(fname, set_(weight=2.0), ValueError, "weight", rid="weight-scalar")
    row(fname, set_(label_smoothing=1.0000001), ValueError, "label_smoothing", rid="ls-above-1")
    row(fname, set_(label_smoothing=-1e-9), ValueError, "label_smoothing", rid="ls-negative")
    row(fname, set_(label_smoothing=np.nan), ValueError, "label_smoothing", rid="ls-nan")
    row(fname, set_(label_smoothing="0.1"), TypeError, "label_smoothing", rid="ls-str")
    row(fname, set_(label_smoothing=None), TypeError, "label_smoothing", rid="ls-None")
    row(fname, set_(ignore_index=1.5), TypeError, "ignore_index", rid="ignore-float")
    row(fname, set_(ignore_index=2**63), ValueError, "ignore_index", rid="ignore-huge")
    row(fname, set_(axis=2), AxisError, "axis", rid="axis-2")
    row(fname, set_(axis=-3), AxisError, "axis", rid="axis--3")
    row(fname, set_(axis=1.0), TypeError, "axis", rid="axis-float")
    row(fname, set_(axis=2**70), AxisError, "axis", rid="axis-2**70")
    row(fname, set_(logits=np.float64(1.0), target=0), ValueError, "logits", rid="logits-0d")
    row(fname, set_(logits=np.zeros((3, 0))), IndexError, "target", rid="no-classes")

for fname in LINEAR:
    row(fname, set_(target=np.array([0, 4, 1])), IndexError, "target", rid="label-C")
    row(fname, set_(target=np.array([0, -1, 1])), IndexError, "target", rid="label-negative")
    row(fname, set_(target=np.array([0, 2**62, 1])), IndexError, "target", rid="label-huge")
    row(fname, set_(target=np.array([0, 2**64 - 1, 1], np.uint64)), IndexError, "target",
        rid="label-uint64-max")
    row(fname, set_(target=np.array([0, 1])), ValueError, "target", rid="labels-short")
    row(fname, set_(target=np.zeros(3)), TypeError, "target", rid="float-labels")
    row(fname, set_(target=np.full((3, 4), 0.25)), TypeError, "target", rid="probabilities")
    row(fname, set_(target=np.array([True, False, True])), TypeError, "target", rid="bool")
    row(fname, set_(weight=np.array([1.0, np.nan, 1.0, 1.0])), ValueError, "weight", rid="weight-nan")
    row(fname, set_(weight=np.array([1.0, -0.5, 1.0, 1.0])), ValueError, "weight", rid="weight-neg")
    row(fname, set_(weight=np.ones(3)), ValueError, "weight", rid="weight-shape")
    row(fname, set_(linear_weight=np.ones((4, 3))), ValueError, "linear_weight", rid="weight-dim")
    row(fname, set_(linear_weight=np.ones(4)), ValueError, "linear_weight", rid="weight-1d")
    row(fname, set_(linear_bias=np.ones(3)), ValueError, "linear_bias", rid="bias-shape")
    row(fname, set_(input=np.float64(1.0), target=0), ValueError, "input", rid="input-0d")
    row(fname, set_(label_smoothing=1.5), ValueError, "label_smoothing", rid="ls-above-1")
    row(fname, set_(label_smoothing=None), TypeError, "label_smoothing", rid="ls-None")
    row(fname, set_(ignore_index=1.5), TypeError, "ignore_index", rid="ignore-float")
    row(fname, set_(ignore_index=2**63), ValueError, "ignore_index", rid="ignore-huge")
    for bad, exc in ((-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError),
                     ("0.1", TypeError), (None, TypeError)):
        row(fname, set_(z_loss=bad), exc, "z_loss", rid=f"z_loss-{bad!r:.6}")
    for bad, exc in ((0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError),
                     (np.inf, ValueError), ("30", TypeError)):
        row(fname, set_(softcap=bad), exc, "softcap", rid=f"softcap-{bad!r:.6}")

for bad, exc in ((-1e-3, ValueError), (np.nan, ValueError), (np.inf, ValueError),
                 ("0.1", TypeError)):
    row("linear_cross_entropy_with_grad", set_(filter_eps=bad), exc, "filter_eps",
        rid=f"filter_eps-{bad!r:.6}")

fname = "linear_cross_entropy_stats"
row(fname, set_(class_start=-1), ValueError, "class_start", rid="class_start-negative")
row(fname, set_(class_start=1.5), TypeError, "class_start", rid="class_start-float")
row(fname, set_(class_start=None), TypeError, "class_start", rid="class_start-None")
row(fname, set_(target=np.array([0, -1, 1])), IndexError, "target", rid="label-negative")
row(fname, set_(target=np.array([0, 1])), ValueError, "target", rid="labels-short")
row(fname, set_(target=np.zeros(3)), TypeError, "target", rid="float-labels")
row(fname, set_(weight=np.ones(3)), ValueError, "weight", rid="weight-shape")
row(fname, set_(weight=np.array([1.0, np.nan, 1.0, 1.0])), ValueError, "weight", rid="weight-nan")
row(fname, set_(linear_bias=np.ones(3)), ValueError, "linear_bias", rid="bias-shape")
row(fname, set_(linear_weight=np.ones((4, 3))), ValueError, "linear_weight", rid="weight-dim")
row(fname, set_(softcap=-1.0), ValueError, "softcap", rid="softcap-negative")
row(fname, set_(ignore_index=1.5), TypeError, "ignore_index", rid="ignore-float")

row("merge_shard_stats", set_(stats=[]), ValueError, "stats", rid="empty")
row("merge_shard_stats", like("stats", lambda p: [p[0], tuple(p[1])]), TypeError, "stats",
    rid="tuple")
row("merge_shard_stats", like("stats", lambda p: [p[0], None]), TypeError, "stats", rid="None")
row("merge_shard_stats", like("stats", lambda p: [p[0], F.linear_cross_entropy_stats(
    np.ones((2, 2)), np.ones((3, 2)), np.array([0, 1]), class_start=1)]), ValueError, "stats",
    rid="shapes")

fname = "cross_entropy_from_stats"
row(fname, like("stats", tuple), TypeError, "stats", rid="tuple")
row(fname, set_(stats=None), TypeError, "stats", rid="None")
row(fname, set_(target=np.array([0, 1])), ValueError, "target", rid="target-shape")
row(fname, set_(target=np.array([0, 4, 1])), IndexError, "target", rid="label-C")
row(fname, set_(target=np.array([0, -3, 1])), IndexError, "target", rid="label-negative")
row(fname, set_(target=np.zeros(3)), TypeError, "target", rid="float-labels")
row(fname, set_(target=None), TypeError, "target", rid="target-None")
row(fname, set_(reduction="avg"), ValueError, "reduction", rid="reduction")
row(fname, set_(z_loss=-1.0), ValueError, "z_loss", rid="z_loss-negative")
row(fname, set_(label_smoothing=1.5), ValueError, "label_smoothing", rid="ls-above-1")
row(fname, set_(ignore_index=1.5), TypeError, "ignore_index", rid="ignore-float")

for fname in BCE + FOCAL:
    row(fname, set_(target=np.zeros((3, 5))), ValueError, "target", rid="target-shape")
    row(fname, set_(target=np.zeros(4)), ValueError, "target", rid="target-broadcast")
    row(fname, set_(target=np.full((3, 4), 1.5)), ValueError, "target", rid="target-above-1")
    row(fname, set_(target=np.full((3, 4), -0.5)), ValueError, "target", rid="target-negative")
    row(fname, set_(target=np.full((3, 4), np.nan)), ValueError, "target", rid="target-nan")
    row(fname, set_(target=np.full((3, 4), np.inf)), ValueError, "target", rid="target-inf")

for fname in BCE:
    for w in ("weight", "pos_weight"):
        row(fname, set_(**{w: np.ones(3)}), ValueError, w, rid=f"{w}-broadcast")
        row(fname, set_(**{w: np.ones((2, 3, 4))}), ValueError, w, rid=f"{w}-3d")
        row(fname, set_(**{w: np.array([1.0, np.nan, 1.0, 1.0])}), ValueError, w, rid=f"{w}-nan")
        row(fname, set_(**{w: np.array([1.0, np.inf, 1.0, 1.0])}), ValueError, w, rid=f"{w}-inf")
        row(fname, set_(**{w: np.array([1.0, -1.0, 1.0, 1.0])}), ValueError, w, rid=f"{w}-neg")
        row(fname, set_(**{w: -np.inf}), ValueError, w, rid=f"{w}-scalar-ninf")
    row(fname, set_(target=sps.csr_array(np.eye(3, 5))), ValueError, "target", rid="csr-shape")
    row(fname, set_(target=sps.csc_array(np.eye(3, 4))), TypeError, "target", rid="csc")
    row(fname, set_(target=Positives([0, 1, 1, 1], [4])), IndexError, "target", rid="csr-col-range")
    row(fname, set_(target=Positives([0, 2, 1, 1], [1, 2])), ValueError, "target", rid="csr-indptr")
    row(fname, set_(target=Positives([0, 1, 1, 1], [1], [1.5])), ValueError, "target",
        rid="csr-data-range")
    row(fname, set_(target=Positives([0, 1, 1, 1], [1], ["a"])), TypeError, "target",
        rid="csr-data-strings")
    row(fname, set_(logits=np.zeros((2, 3, 4)), target=sps.csr_array(np.eye(3, 4))), ValueError,
        "target", rid="csr-3d-logits")

for fname in FOCAL:
    row(fname, set_(target=sps.csr_array(np.eye(3, 4))), TypeError, "target", rid="sparse")
    row(fname, set_(alpha=np.nan), ValueError, "alpha", rid="alpha-nan")
    row(fname, set_(alpha=np.inf), ValueError, "alpha", rid="alpha-inf")
    row(fname, set_(alpha="0.25"), TypeError, "alpha", rid="alpha-str")
    row(fname, set_(alpha=None), TypeError, "alpha", rid="alpha-None")
    row(fname, set_(alpha=[0.25, 0.5]), TypeError, "alpha", rid="alpha-list")
    row(fname, set_(gamma=-1.0), ValueError, "gamma", rid="gamma-neg")
    row(fname, set_(gamma=np.nan), ValueError, "gamma", rid="gamma-nan")
    row(fname, set_(gamma=np.inf), ValueError, "gamma", rid="gamma-inf")
    row(fname, set_(gamma=1j), TypeError, "gamma", rid="gamma-complex")

def class_id_rows(fname, name):
    """class ids (labels of the losses, true_classes of the samplers): 6 classes, num_true 1"""
    row(fname, set_(**{name: np.array([[0], [6], [2]])}), ValueError, name, rid=f"{name}-C")
    row(fname, set_(**{name: np.array([[0], [-1], [2]])}), ValueError, name, rid=f"{name}-neg")
    row(fname, set_(**{name: np.array([[0.0], [1.0], [2.0]])}), TypeError, name,
        rid=f"{name}-float")
    row(fname, set_(num_true=2), ValueError, name, rid="num_true-mismatch")
    row(fname, set_(num_true=0), ValueError, "num_true", rid="num_true-0")
    row(fname, set_(num_true=1.0), TypeError, "num_true", rid="num_true-float")
    row(fname, set_(num_sampled=7), ValueError, "num_sampled", rid="num_sampled-above-C")
    row(fname, set_(num_sampled=-1), ValueError, "num_sampled", rid="num_sampled-neg")
    row(fname, set_(num_sampled="3"), TypeError, "num_sampled", rid="num_sampled-str")
    row(fname, set_(num_sampled=2**63), ValueError, "num_sampled", rid="num_sampled-2**63")
    row(fname, set_(num_true=2**64), ValueError, "num_true", rid="num_true-2**64")


for fname in SAMPLED:
    class_id_rows(fname, "labels")
    row(fname, set_(labels=np.array([[0], [1]])), ValueError, "labels", rid="labels-short")
    row(fname, set_(num_sampled=0), ValueError, "num_sampled", rid="num_sampled-0")
    row(fname, set_(num_classes=0), ValueError, "num_classes", rid="num_classes-0")
    row(fname, set_(num_classes=None), TypeError, "num_classes", rid="num_classes-None")
    row(fname, set_(num_classes=2**64), ValueError, "num_classes", rid="num_classes-2**64")
    row(fname, set_(num_classes=7), ValueError, "weights", rid="num_classes-mismatch")
    row(fname, set_(weights=np.ones(6)), ValueError, "weights", rid="weights-1d")
    row(fname, set_(biases=np.ones(5)), ValueError, "biases", rid="biases-shape")
    row(fname, set_(inputs=np.ones((3, 3))), ValueError, "inputs", rid="inputs-dim")
    row(fname, set_(inputs=np.ones(2)), ValueError, "inputs", rid="inputs-1d")
    row(fname, set_(sampler="zipf"), ValueError, "sampler", rid="sampler-name")
    row(fname, set_(sampler=None), TypeError, "sampler", rid="sampler-None")
    row(fname, set_(sampler={"a": 1}), TypeError, "sampler", rid="sampler-dict")
    row(fname, set_(sampler=np.ones(6) + 1j), TypeError, "sampler", rid="sampler-complex")
    row(fname, set_(sampler=np.ones(5)), ValueError, "sampler", rid="sampler-unigram-length")
    row(fname, set_(sampler=-np.ones(6)), ValueError, "sampler", rid="sampler-unigram-neg")
    row(fname, set_(seed="x"), TypeError, "seed", rid="seed-str")
    for flag in ("remove_accidental_hits", "subtract_log_q"):
        row(fname, set_(**{flag: np.array([1, 0])}), TypeError, flag, rid=flag)
    row(fname, set_(seed=1.5), TypeError, "seed", rid="seed-float")
    sv = S.uniform_candidate_sampler(np.array([[0], [5], [2]]), 1, 3, True, 6, seed=0)
    row(fname, set_(sampled_values={}), ValueError, "sampled_values", rid="sv-dict")
    row(fname, set_(sampled_values=sv[:2]), ValueError, "sampled_values", rid="sv-pair")
    row(fname, set_(sampled_values=(sv[0] + 6,) + sv[1:]), ValueError, "sampled_values",
        rid="sv-class-range")
    row(fname, set_(sampled_values=(sv[0].astype(float),) + sv[1:]), TypeError, "sampled_values",
        rid="sv-float-classes")
    for i, what in ((1, "true_expected_count"), (2, "sampled_expected_count")):
        for bad, exc, rid in ((np.nan, ValueError, "nan"), (np.inf, ValueError, "inf"),
                              (-1.0, ValueError, "neg"), (0.0, ValueError, "zero"),
                              (1j, TypeError, "complex")):
            vals = list(sv)
            vals[i] = np.asarray(vals[i]) * 0 + bad
            row(fname, set_(sampled_values=tuple(vals)), exc, what, rid=f"{what}-{rid}")
        vals = list(sv)
        vals[i] = [["a"]] * np.size(vals[i])
        row(fname, set_(sampled_values=tuple(vals)), TypeError, what, rid=f"{what}-strings")

for fname in SAMPLER_FUNCS:
    class_id_rows(fname, "true_classes")      # num_sampled=7 of 6 classes with unique=True
    row(fname, set_(true_classes=np.array([0, 5, 2])), ValueError, "true_classes", rid="1d")
    row(fname, set_(unique=np.array([True, True])), TypeError, "unique", rid="unique-array")
    row(fname, set_(seed="0"), TypeError, "seed", rid="seed-str")
    if fname != "FixedUnigramSampler":   # its range_max is that of its unigrams
        row(fname, set_(range_max=0), ValueError, "range_max", rid="range_max-0")
        row(fname, set_(range_max=6.0), TypeError, "range_max", rid="range_max-float")
        row(fname, set_(range_max=2**63), ValueError, "range_max", rid="range_max-2**63")
    else:
        row(fname, set_(range_max=7), ValueError, "range_max", rid="range_max-mismatch")

for fname in ("fixed_unigram_candidate_sampler", "FixedUnigramSampler"):
    row(fname, set_(unigrams=np.ones(5)), ValueError, "unigrams", rid="unigrams-short")
    row(fname, set_(unigrams=np.ones((6, 1))), ValueError, "unigrams", rid="unigrams-2d")
    row(fname, set_(unigrams=np.array([1, np.nan, 1, 1, 1, 1])), ValueError, "unigrams", rid="nan")
    row(fname, set_(unigrams=np.array([1, np.inf, 1, 1, 1, 1])), ValueError, "unigrams", rid="inf")
    row(fname, set_(unigrams=np.array([1, -1.0, 1, 1, 1, 1])), ValueError, "unigrams", rid="neg")
    row(fname, set_(unigrams=np.zeros(6)), ValueError, "unigrams", rid="all-zero")
    row(fname, set_(unigrams=np.ones(6) + 1j), TypeError, "unigrams", rid="complex-6")
    row(fname, set_(distortion="1"), TypeError, "distortion", rid="distortion-str")
    row(fname, set_(distortion=np.nan), ValueError, "distortion", rid="distortion-nan")
    row(fname, set_(distortion=None), TypeError, "distortion", rid="distortion-None")

row("logsumexp", set_(x=np.float64(3.0)), AxisError, "axis", rid="0d-input")
row("logsumexp", set_(keepdims=np.array([True, False])), TypeError, "keepdims", rid="keepdims")
for fname in FORWARD + BACKWARD:
    row(fname, set_(axis=-2**70), AxisError, "axis", rid="axis-beyond-ssize_t")
row("softmax_backward", set_(probs=np.ones((3, 5))), ValueError, "probs", rid="shape")
row("log_softmax_backward", set_(log_probs=np.ones((2, 4))), ValueError, "log_probs", rid="shape")

row("set_num_threads", set_(n=0), ValueError, "n", rid="zero")
row("set_num_threads", set_(n=-3), ValueError, "n", rid="negative")
row("set_num_threads", set_(n=2**31), ValueError, "n", rid="huge")
row("set_num_threads", set_(n=2**64), ValueError, "n", rid="huger")
row("set_num_threads", set_(n=1.5), TypeError, "n", rid="float")
row("set_num_threads", set_(n="2"), TypeError, "n", rid="str")
row("set_num_threads", set_(n=[2]), TypeError, "n", rid="list")
row("show_config", set_(mode="json"), ValueError, "mode", rid="mode")


# ---------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------

def _arrays(obj):
    """every ndarray inside obj (dicts, lists, tuples, CSR targets)"""
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _arrays(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _arrays(v)
    elif sps.issparse(obj):
        yield from (obj.data, obj.indices, obj.indptr)


def _expect_raise(fname, kw, exc, match):
    snap = [(a, a.tobytes()) for a in _arrays(kw)]
    threads = F.get_num_threads()
    with pytest.raises(exc, match=match) as info:
        call(fname, kw)
    assert isinstance(info.value, exc)
    for a, before in snap:
        assert a.tobytes() == before, f"{fname}: an array passed in was written to before the raise"
    assert F.get_num_threads() == threads, "a failing call changed the thread count"


@pytest.mark.parametrize("fname,change,exc,match", CASES)
def test_bad_input_raises_naming_the_argument(fname, change, exc, match):
    kw = base(fname)
    change(kw)
    o = OUT_KW.get(fname)
    if o is not None and o not in kw:
        _expect_raise(fname, kw, exc, match)          # without an output buffer
        kw[o] = np.full(_out_shape(fname), SENTINEL)   # and with one, left untouched
    _expect_raise(fname, kw, exc, match)


def test_every_public_function_has_rows():
    public = {n for n in F.__all__ if callable(getattr(F, n)) and n != "SampledGrads"}
    public |= set(S.__all__)
    public -= {"get_num_threads", "threading_layer", "LinearGrads", "ShardStats"}   # no arguments; tuple types
    covered = {p.values[0] for p in CASES}
    assert public <= covered, sorted(public - covered)
    assert covered <= public | {"FixedUnigramSampler"}


@pytest.mark.parametrize("fname", sorted(set(p.values[0] for p in CASES)))
def test_base_call_is_valid(fname):
    """the valid call every row starts from really is valid (so each row tests one fault)"""
    kw = base(fname)
    if fname in OUT_KW:
        kw[OUT_KW[fname]] = np.full(_out_shape(fname), SENTINEL)
    call(fname, kw)


def test_bad_call_keeps_threads_and_a_good_call_still_works():
    F.set_num_threads(2)
    with pytest.raises(ValueError, match="n must be"):
        F.set_num_threads(0)
    assert F.get_num_threads() == 2
    x = np.arange(12.0).reshape(3, 4)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(F.softmax(x), e / e.sum(1, keepdims=True), rtol=1e-14)


# ---------------------------------------------------------------------------
# valid edge values next to the invalid ones: they must work
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("eps", [0.0, 1.0])
def test_label_smoothing_bounds_are_valid(eps):
    kw = base("cross_entropy")
    got = F.cross_entropy(**kw, label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(got, cross_entropy_ref(kw["logits"], kw["target"], label_smoothing=eps,
                                                     reduction="none"), rtol=1e-13)


def test_zero_weight_and_ignore_index_are_valid():
    kw = base("cross_entropy")
    w = np.array([0.0, 1.0, 2.0, 0.5])
    got = F.cross_entropy(kw["logits"], np.array([0, -100, 1]), weight=w, reduction="none")
    ref = cross_entropy_ref(kw["logits"], np.array([0, 0, 1]), weight=w, reduction="none")
    np.testing.assert_allclose(got, [ref[0], 0.0, ref[2]], rtol=1e-13)
    # a weighted mean with all counted weights 0: 0 / 0, NaN (as PyTorch)
    assert np.isnan(F.cross_entropy(kw["logits"], np.array([0, 0, 0]), weight=w))


def test_bce_zero_weights_are_valid():
    kw = base("binary_cross_entropy_with_logits")
    got = F.binary_cross_entropy_with_logits(**kw, weight=0.0, pos_weight=np.zeros(4), reduction="sum")
    assert got == 0.0


# ---------------------------------------------------------------------------
# zero-size inputs: valid ones work (checked against references), invalid ones raise (above)
# ---------------------------------------------------------------------------

ZERO_SHAPES = [(0,), (0, 4), (3, 0), (2, 0, 5), (0, 0)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", ZERO_SHAPES, ids=str)
@pytest.mark.parametrize("fname", FORWARD + BACKWARD + ELEMENTWISE)
def test_zero_size_elementwise_and_softmax_family(fname, shape, dtype):
    x = np.zeros(shape, dtype)
    args = [x, x] if fname in BACKWARD else [x]
    got = getattr(F, fname)(*args)
    if fname == "logsumexp":
        # log(sum over nothing) = -inf for every remaining position, as scipy.special
        ref = scipy.special.logsumexp(x.astype(np.float64), axis=-1)
        assert got.shape == ref.shape and got.dtype == dtype
        np.testing.assert_array_equal(got, ref)
        out = np.full(shape[:-1], SENTINEL, dtype)
        assert F.logsumexp(x, out=out) is out
        np.testing.assert_array_equal(out, ref)
        red = F.logsumexp(x, axis=0)
        np.testing.assert_array_equal(red, scipy.special.logsumexp(x.astype(np.float64), axis=0))
    else:
        assert got.shape == shape and got.dtype == dtype
        out = np.empty(shape, dtype)
        assert getattr(F, fname)(*args, out=out) is out


@pytest.mark.parametrize("fname", XENT)
def test_zero_size_cross_entropy(fname):
    g = fname.endswith("_grad")
    f = getattr(F, fname)

    def loss(*a, **k):
        r = f(*a, **k)
        return r[0] if g else r

    x = np.zeros((0, 4))
    t = np.zeros(0, np.int64)
    assert np.isnan(loss(x, t))                     # mean over nothing, as torch
    assert loss(x, t, reduction="sum") == 0
    assert loss(x, t, reduction="none").shape == (0,)
    assert loss(x, np.zeros((0, 4)), reduction="none").shape == (0,)    # probabilities
    # an empty batch axis next to the class axis
    assert loss(np.zeros((2, 3, 0)), np.zeros((2, 0), np.int64), axis=1,
                reduction="none").shape == (2, 0)
    # no classes: every label must be ignore_index; probabilities over no classes add nothing
    np.testing.assert_array_equal(
        loss(np.zeros((2, 0, 4)), np.full((2, 4), -100), axis=1, reduction="none"), np.zeros((2, 4)))
    got = loss(np.zeros((3, 0)), np.full(3, -100), reduction="none")
    np.testing.assert_array_equal(got, np.zeros(3))
    assert np.isnan(loss(np.zeros((3, 0)), np.full(3, -100)))  # all ignored: NaN mean
    np.testing.assert_array_equal(loss(np.zeros((3, 0)), np.zeros((3, 0)), reduction="none"),
                                  np.zeros(3))
    if g:
        out = np.full((0, 4), SENTINEL)
        lo, gr = f(x, t, grad_out=out)
        assert gr is out


@pytest.mark.parametrize("fname", BCE + FOCAL)
@pytest.mark.parametrize("shape", [(0,), (0, 4), (3, 0)], ids=str)
def test_zero_size_binary_losses(fname, shape):
    g = fname.endswith("_grad")
    f = getattr(F, fname)
    x = np.zeros(shape)
    r = f(x, x)
    assert np.isnan(r[0] if g else r)              # mean over no elements
    r = f(x, x, reduction="sum")
    assert (r[0] if g else r) == 0
    r = f(x, x, reduction="none")
    assert (r[0] if g else r).shape == shape
    if g:
        out = np.full(shape, SENTINEL)
        assert f(x, x, grad_out=out)[1] is out
    if fname in BCE and len(shape) == 2:
        r = f(x, sps.csr_array(shape), reduction="sum")
        assert (r[0] if g else r) == 0


@pytest.mark.parametrize("fname", SAMPLER_FUNCS[:3])
def test_zero_size_samplers(fname):
    kw = base(fname)
    kw.update(true_classes=np.zeros((0, 1), np.int64), num_sampled=0)
    sampled, tec, sec = getattr(S, fname)(**kw)
    assert sampled.shape == (0,) and sampled.dtype == np.int64
    assert tec.shape == (0, 1) and sec.shape == (0,)
