"""The operation registry: one ``OpSpec`` per benchmarked operation.

An operation is benchmarked only when the fastsmce module has its function
(``hasattr(fastsmce, spec.function)``), so entries for functions that have
not landed yet appear by themselves once they do.

Every spec names its inputs, its textbook NumPy implementation (which is
both the ``numpy`` peer, run in the input dtype, and -- run on float64 copies
of the inputs -- the reference every candidate is checked against), how to
call fastsmce (as users call it, outputs allocated by the call, and with
preallocated ``out=`` / ``grad_out=`` buffers where the function has them),
its peers, how many bytes it must write (the bytes read are the inputs), and
whether it is a reduction (its %roof then counts the bytes read only, against
a read-only reference).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

#: Peer columns, in table order ("numpy" is always the spec's reference).
PEERS: tuple[str, ...] = ("numpy", "scipy", "torch")
_PEER_MODULES = {"numpy": "numpy", "scipy": "scipy.special", "torch": "torch"}

OK, WRONG, ERROR = "OK", "WRONG", "ERROR"
NOT_INSTALLED = "not installed"
NOT_AVAILABLE = "n/a"  # the peer has no such operation

#: Normwise relative error (max |result - ref| / max |ref|) allowed against the
#: float64 reference: a sanity check that catches wrong answers, not an
#: accuracy test (tests/ holds those, with the tight bounds of DESIGN.md).
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}

Factory = Callable[[tuple], Callable[[], Any]]


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------

def _logits(shape, dtype, rng) -> np.ndarray:
    x = rng.standard_normal(shape, dtype=np.dtype(dtype).type)
    x *= 2
    return x


def inputs_x(shape, dtype, rng) -> tuple:
    return (_logits(shape, dtype, rng),)


def inputs_class_target(shape, dtype, rng) -> tuple:
    """Logits and int64 class indices along the last axis."""
    return _logits(shape, dtype, rng), rng.integers(0, shape[-1], size=shape[:-1], dtype=np.int64)


def inputs_binary_target(shape, dtype, rng) -> tuple:
    """Logits and 0/1 targets of the same shape and dtype."""
    return _logits(shape, dtype, rng), (rng.random(shape) < 0.5).astype(dtype)


def inputs_sparse_positives(shape, dtype, rng, per_row: int = 5) -> tuple:
    """Logits and CSR positives (int64 indptr, indices): ``per_row`` distinct classes a row."""
    n, c = shape
    k = min(per_row, c)
    cols = np.argsort(rng.random((n, c)), axis=1)[:, :k] if c <= 64 else np.stack(
        [rng.choice(c, size=k, replace=False) for _ in range(n)]).reshape(n, k)
    cols.sort(axis=1)
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
    return _logits(shape, dtype, rng), indptr, cols.reshape(-1).astype(np.int64)


class Positives:
    """CSR positives as fastsmce accepts them without scipy: indptr, indices, shape."""

    def __init__(self, indptr, indices, shape):
        self.indptr, self.indices, self.shape = indptr, indices, tuple(shape)


def dense_from_positives(x, indptr, indices):
    z = np.zeros_like(x)
    z[np.repeat(np.arange(x.shape[0]), np.diff(indptr)), indices] = 1
    return z


# --------------------------------------------------------------------------
# textbook NumPy implementations (peer "numpy" and, in float64, the reference)
# --------------------------------------------------------------------------

def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def np_logsumexp(x):
    m = x.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]


def np_cross_entropy(x, target):
    picked = np.take_along_axis(np_log_softmax(x), target[..., None], axis=-1)
    return -picked.mean()


def np_cross_entropy_with_grad(x, target):
    idx = target[..., None]
    s = x - x.max(axis=-1, keepdims=True)
    e = np.exp(s)
    z = e.sum(axis=-1, keepdims=True)
    loss = (np.log(z) - np.take_along_axis(s, idx, axis=-1)).mean()
    grad = e / z
    np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis=-1) - 1, axis=-1)
    grad /= target.size
    return loss, grad


def np_sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def np_bce_with_logits_with_grad(x, z):
    loss = (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).mean()
    grad = (np_sigmoid(x) - z) / x.size
    return loss, grad


def np_log_sigmoid(x):
    return -np.logaddexp(0, -x)


def np_bce_with_logits(x, z):
    return (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).mean()


def np_sigmoid_focal_with_grad(x, z, alpha=0.25, gamma=2.0):
    """torchvision's sigmoid_focal_loss (mean) for 0/1 targets and its gradient:
    sign * a_t * q^gamma * (q + gamma * ce * p_t) / N, q = 1 - p_t, sign -1 where z = 1."""
    p = np_sigmoid(x)
    ce = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    p_t = p * z + (1 - p) * (1 - z)
    q = 1 - p_t
    a_t = alpha * z + (1 - alpha) * (1 - z)
    loss = (a_t * ce * q**gamma).mean()
    grad = (1 - 2 * z) * a_t * q**gamma * (q + gamma * ce * p_t) / x.size
    return loss, grad


def _positive_rows(indptr):
    return np.repeat(np.arange(indptr.size - 1), np.diff(indptr))


def np_bce_sparse(x, indptr, indices):
    """mean BCE with 0/1 targets given as CSR positives: softplus of every logit minus the
    positives' logits (softplus(x) - softplus(-x) = x)"""
    return (np.logaddexp(0, x).sum() - x[_positive_rows(indptr), indices].sum()) / x.size


def np_bce_sparse_with_grad(x, indptr, indices):
    grad = np_sigmoid(x)
    grad[_positive_rows(indptr), indices] -= 1
    grad /= x.size
    return np_bce_sparse(x, indptr, indices), grad


# --------------------------------------------------------------------------
# candidate factories: each takes the input tuple, returns a zero-arg callable
# --------------------------------------------------------------------------

def fastsmce_call(function: str, buffer: str | None = None, rows: bool = False):
    """fastsmce.<function>(*args) as users call it, outputs allocated by the call;
    with ``buffer`` (``out`` / ``grad_out``) also a second factory that passes a
    preallocated buffer shaped like the input, or like its rows.  Returns
    (allocating factory, ``out=`` factory or None)."""

    def factory(module, args):
        f = getattr(module, function)
        return lambda: f(*args)

    def out_factory(module, args):
        f = getattr(module, function)
        x = args[0]
        kw = {buffer: np.empty(x.shape[:-1] if rows else x.shape, dtype=x.dtype)}
        return lambda: f(*args, **kw)

    return factory, (out_factory if buffer is not None else None)


def scipy_call(function: str, **kw) -> Factory:
    def factory(args):
        f = getattr(importlib.import_module("scipy.special"), function)
        return lambda: f(*args, **kw)

    return factory


def _torch_function(path: str):
    obj = importlib.import_module("torch")
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def torch_call(path: str, **kw) -> Factory:
    """torch.<path>(*tensors, **kw), forward only."""

    def factory(args):
        import torch

        f = _torch_function(path)
        tensors = [torch.from_numpy(a) for a in args]
        return lambda: f(*tensors, **kw)

    return factory


def torch_loss_and_grad(path: str) -> Factory:
    """torch.<path>(logits, *rest) forward + backward: returns (loss, d loss / d logits)."""

    def factory(args):
        import torch

        f = _torch_function(path)
        x = torch.from_numpy(args[0]).requires_grad_(True)
        rest = [torch.from_numpy(a) for a in args[1:]]

        def run():
            x.grad = None
            loss = f(x, *rest)
            loss.backward()
            return loss, x.grad

        return run

    return factory


def fastsmce_sparse_call(function: str, buffer: str | None = None):
    """fastsmce.<function>(logits, positives) with CSR positives, allocating, and (with
    ``buffer``) with a preallocated ``buffer=``: (factory, out factory or None)."""

    def factory(module, args):
        x, indptr, indices = args
        f = getattr(module, function)
        t = Positives(indptr, indices, x.shape)
        return lambda: f(x, t)

    def out_factory(module, args):
        x, indptr, indices = args
        f = getattr(module, function)
        t = Positives(indptr, indices, x.shape)
        kw = {buffer: np.empty_like(x)}
        return lambda: f(x, t, **kw)

    return factory, (out_factory if buffer is not None else None)


def torch_sparse_loss_and_grad(path: str) -> Factory:
    """torch.<path>(logits, dense target) forward + backward; the dense target is built
    from the positives before timing (torch has no sparse-target BCE)."""

    def factory(args):
        x, indptr, indices = args
        return torch_loss_and_grad(path)((x, dense_from_positives(x, indptr, indices)))

    return factory


def torch_sparse_call(path: str) -> Factory:
    def factory(args):
        x, indptr, indices = args
        return torch_call(path)((x, dense_from_positives(x, indptr, indices)))

    return factory


def torch_focal_loss_and_grad(alpha: float = 0.25, gamma: float = 2.0) -> Factory:
    """torchvision's sigmoid_focal_loss formula (mean) in torch, forward + backward."""

    def factory(args):
        import torch

        x = torch.from_numpy(args[0]).requires_grad_(True)
        z = torch.from_numpy(args[1])

        def run():
            x.grad = None
            p = torch.sigmoid(x)
            ce = torch.nn.functional.binary_cross_entropy_with_logits(x, z, reduction="none")
            p_t = p * z + (1 - p) * (1 - z)
            loss = ((alpha * z + (1 - alpha) * (1 - z)) * ce * (1 - p_t) ** gamma).mean()
            loss.backward()
            return loss, x.grad

        return run

    return factory


# --------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------

def _same(x):
    return x.nbytes


def _rows(x):
    return x.nbytes // max(1, x.shape[-1])


def _scalar(x):
    return x.itemsize


def _scalar_and_same(x):
    return x.itemsize + x.nbytes


@dataclass(frozen=True)
class OpSpec:
    name: str  #: op name in tables, JSON and --ops
    function: str  #: fastsmce attribute the op needs
    inputs: Callable  #: (shape, dtype, rng) -> tuple of arrays
    reference: Callable  #: textbook NumPy: the "numpy" peer and the float64 reference
    calls: tuple  #: (allocating factory, out= factory or None): (module, args) -> callable
    written: Callable  #: first input -> bytes the op writes (it reads all inputs)
    note: str  #: how fastsmce is called / what is counted, for the table header
    peers: Mapping[str, Factory] = field(default_factory=dict)  #: besides numpy
    reduction: bool = False  #: writes next to nothing: %roof on bytes read, vs a read
    #: how the reference may run on blocks of rows (float64_reference): "map" (an array
    #: a row or an element), "mean" (a mean loss, or it and its gradient), None: whole
    by_rows: str | None = None

    @property
    def fastsmce(self) -> Callable:
        return self.calls[0]

    @property
    def fastsmce_out(self) -> Callable | None:
        return self.calls[1]

    def peer_factory(self, peer: str) -> Factory | None:
        if peer == "numpy":
            return lambda args: (lambda: self.reference(*args))
        return self.peers.get(peer)

    def bytes_read(self, args) -> int:
        return sum(a.nbytes for a in args)

    def bytes_moved(self, args) -> int:
        return self.bytes_read(args) + self.written(args[0])


REGISTRY: tuple[OpSpec, ...] = (
    OpSpec(
        "softmax", "softmax", inputs_x, np_softmax,
        fastsmce_call("softmax", "out"), _same,
        "fastsmce.softmax(x) / (x, out=buf); bytes = read x + write out",
        {"scipy": scipy_call("softmax", axis=-1), "torch": torch_call("softmax", dim=-1)},
        by_rows="map",
    ),
    OpSpec(
        "log_softmax", "log_softmax", inputs_x, np_log_softmax,
        fastsmce_call("log_softmax", "out"), _same,
        "fastsmce.log_softmax(x) / (x, out=buf); bytes = read x + write out",
        {"scipy": scipy_call("log_softmax", axis=-1), "torch": torch_call("log_softmax", dim=-1)},
        by_rows="map",
    ),
    OpSpec(
        "logsumexp", "logsumexp", inputs_x, np_logsumexp,
        fastsmce_call("logsumexp", "out", rows=True), _rows,
        "fastsmce.logsumexp(x) / (x, out=buf); a reduction: bytes = read x",
        {"scipy": scipy_call("logsumexp", axis=-1), "torch": torch_call("logsumexp", dim=-1)},
        reduction=True,
        by_rows="map",
    ),
    OpSpec(
        "cross_entropy", "cross_entropy", inputs_class_target, np_cross_entropy,
        fastsmce_call("cross_entropy"), _scalar,
        "fastsmce.cross_entropy(logits, target) mean loss; a reduction: bytes = read logits + "
        "int64 targets",
        {"torch": torch_call("nn.functional.cross_entropy")},
        reduction=True,
        by_rows="mean",
    ),
    OpSpec(
        "cross_entropy_with_grad", "cross_entropy_with_grad", inputs_class_target,
        np_cross_entropy_with_grad,
        fastsmce_call("cross_entropy_with_grad", "grad_out"), _scalar_and_same,
        "fastsmce.cross_entropy_with_grad(logits, target[, grad_out=buf]) -> (loss, grad); "
        "torch: forward + backward; bytes = read logits + targets + write grad",
        {"torch": torch_loss_and_grad("nn.functional.cross_entropy")},
        by_rows="mean",
    ),
    OpSpec(
        "sigmoid", "sigmoid", inputs_x, np_sigmoid,
        fastsmce_call("sigmoid", "out"), _same,
        "fastsmce.sigmoid(x) / (x, out=buf); bytes = read x + write out",
        {"scipy": scipy_call("expit"), "torch": torch_call("sigmoid")},
        by_rows="map",
    ),
    OpSpec(
        "binary_cross_entropy_with_logits_with_grad",
        "binary_cross_entropy_with_logits_with_grad", inputs_binary_target,
        np_bce_with_logits_with_grad,
        fastsmce_call("binary_cross_entropy_with_logits_with_grad", "grad_out"), _scalar_and_same,
        "fastsmce.binary_cross_entropy_with_logits_with_grad(logits, target[, grad_out=buf]) "
        "-> (loss, grad); torch: forward + backward; bytes = read logits + targets + write grad",
        {"torch": torch_loss_and_grad("nn.functional.binary_cross_entropy_with_logits")},
        by_rows="mean",
    ),
    OpSpec(
        "log_sigmoid", "log_sigmoid", inputs_x, np_log_sigmoid,
        fastsmce_call("log_sigmoid", "out"), _same,
        "fastsmce.log_sigmoid(x) / (x, out=buf); bytes = read x + write out",
        {"scipy": scipy_call("log_expit"), "torch": torch_call("nn.functional.logsigmoid")},
        by_rows="map",
    ),
    OpSpec(
        "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits",
        inputs_binary_target, np_bce_with_logits,
        fastsmce_call("binary_cross_entropy_with_logits"), _scalar,
        "fastsmce.binary_cross_entropy_with_logits(logits, target) mean loss; "
        "a reduction: bytes = read logits + targets",
        {"torch": torch_call("nn.functional.binary_cross_entropy_with_logits")},
        reduction=True,
        by_rows="mean",
    ),
    OpSpec(
        "bce_sparse_targets", "binary_cross_entropy_with_logits",
        inputs_sparse_positives, np_bce_sparse,
        fastsmce_sparse_call("binary_cross_entropy_with_logits"), _scalar,
        "fastsmce.binary_cross_entropy_with_logits(logits, csr_positives) mean loss, 5 positives "
        "a row; torch: dense target; a reduction: bytes = read logits + CSR",
        {"torch": torch_sparse_call("nn.functional.binary_cross_entropy_with_logits")},
        reduction=True,
    ),
    OpSpec(
        "bce_sparse_targets_with_grad", "binary_cross_entropy_with_logits_with_grad",
        inputs_sparse_positives, np_bce_sparse_with_grad,
        fastsmce_sparse_call("binary_cross_entropy_with_logits_with_grad", "grad_out"),
        _scalar_and_same,
        "fastsmce.binary_cross_entropy_with_logits_with_grad(logits, csr_positives[, grad_out=buf]), "
        "5 positives a row; torch: dense target, forward + backward; bytes = read logits + CSR "
        "+ write grad",
        {"torch": torch_sparse_loss_and_grad("nn.functional.binary_cross_entropy_with_logits")},
    ),
    OpSpec(
        "sigmoid_focal_loss_with_grad", "sigmoid_focal_loss_with_grad", inputs_binary_target,
        np_sigmoid_focal_with_grad,
        fastsmce_call("sigmoid_focal_loss_with_grad", "grad_out"), _scalar_and_same,
        "fastsmce.sigmoid_focal_loss_with_grad(logits, target[, grad_out=buf]) -> (loss, grad); "
        "torch: torchvision's formula, forward + backward; bytes = read logits + targets + "
        "write grad",
        {"torch": torch_focal_loss_and_grad()},
        by_rows="mean",
    ),
)

_BY_NAME = {spec.name: spec for spec in REGISTRY}


def get_op(name: str) -> OpSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown op {name!r}; known ops: {', '.join(_BY_NAME)}"
        ) from None


def available_ops(module) -> list[OpSpec]:
    """The registry entries whose fastsmce function exists in ``module``."""
    return [spec for spec in REGISTRY if hasattr(module, spec.function)]


# --------------------------------------------------------------------------
# peers and checks
# --------------------------------------------------------------------------

_peer_cache: dict[str, Any] = {}


def peer_module(peer: str):
    """The peer's module, or None when it cannot be imported (cached)."""
    if peer not in _peer_cache:
        try:
            _peer_cache[peer] = importlib.import_module(_PEER_MODULES[peer])
        except Exception:  # ImportError, or a broken install raising anything else
            _peer_cache[peer] = None
    return _peer_cache[peer]


def peer_version(peer: str) -> str | None:
    if peer_module(peer) is None:
        return None
    top = importlib.import_module(_PEER_MODULES[peer].split(".")[0])
    return str(getattr(top, "__version__", "?"))


def to_numpy(result):
    """Candidate result -> NumPy (tuples element-wise; torch tensors detached)."""
    if isinstance(result, (tuple, list)):
        return tuple(to_numpy(r) for r in result)
    if hasattr(result, "detach"):
        result = result.detach().cpu().numpy()
    return np.asarray(result)


def as_float64(args: tuple) -> tuple:
    """Float inputs promoted to float64 (others, like integer targets, as they are)."""
    return tuple(a.astype(np.float64) if a.dtype.kind == "f" else a for a in args)


#: elements of a block of rows of float64_reference (8 MiB of float64): the reference on
#: whole 1024x50257 arrays spent most of its time on their temporaries' fresh pages
#: (focal loss: 6.1 s whole, 1.4 s by blocks, measured)
REFERENCE_BLOCK = 1 << 20


def float64_reference(spec: OpSpec, args: tuple, block: int = REFERENCE_BLOCK):
    """spec.reference on float64 copies of args: whole, or for an input over `block`
    elements and a spec with by_rows, block of rows by block: "map" outputs joined, "mean"
    losses summed and gradients joined, each weighted by its block's share of the rows."""
    x = args[0]
    if spec.by_rows is None or x.ndim < 2 or x.size <= block:
        return spec.reference(*as_float64(args))
    n = x.shape[0]
    step = max(1, block // max(1, x.size // n))
    parts = [(spec.reference(*as_float64(tuple(a[lo:lo + step] for a in args))),
              min(step, n - lo) / n) for lo in range(0, n, step)]
    return _join(parts, spec.by_rows == "mean")


def _join(parts: list, mean: bool):
    """[(a block's output, its share of the rows)] -> the whole's output"""
    first = parts[0][0]
    if isinstance(first, tuple):
        return tuple(_join([(out[i], w) for out, w in parts], mean) for i in range(len(first)))
    if np.ndim(first) == 0:
        return sum(w * out for out, w in parts)
    return np.concatenate([w * out if mean else out for out, w in parts])


def relative_error(result, ref) -> float:
    """Normwise relative error max|result - ref| / max|ref|; inf for a shape,
    structure or NaN mismatch."""
    if isinstance(ref, tuple):
        if not isinstance(result, tuple) or len(result) != len(ref):
            return math.inf
        return max((relative_error(r, f) for r, f in zip(result, ref)), default=0.0)
    if isinstance(result, tuple):
        return math.inf
    res, ref = np.asarray(result), np.asarray(ref, dtype=np.float64)
    if res.shape != ref.shape:
        return math.inf
    if ref.size == 0:
        return 0.0
    res, ref = res.reshape(-1), ref.reshape(-1)
    worst = 0.0
    for i in range(0, ref.size, _ERROR_BLOCK):   # cache-sized blocks: no array-sized temporaries
        diff = res[i:i + _ERROR_BLOCK].astype(np.float64)
        diff -= ref[i:i + _ERROR_BLOCK]
        block = float(np.abs(diff, out=diff).max())
        if math.isnan(block):
            return math.inf
        worst = max(worst, block)
    scale = max(float(ref.max()), -float(ref.min()))
    return worst / scale if scale > 0 else worst


#: elements a block of relative_error (1 MiB of float64)
_ERROR_BLOCK = 1 << 17
