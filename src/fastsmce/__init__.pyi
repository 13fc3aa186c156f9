from typing import Any, Literal, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

def softmax(x: ArrayLike, axis: int = -1, *, out: NDArray[np.floating[Any]] | None = None) -> NDArray[np.floating[Any]]: ...
def log_softmax(x: ArrayLike, axis: int = -1, *, out: NDArray[np.floating[Any]] | None = None) -> NDArray[np.floating[Any]]: ...
def logsumexp(
    x: ArrayLike, axis: int = -1, *, keepdims: bool = False, out: NDArray[np.floating[Any]] | None = None
) -> NDArray[np.floating[Any]] | np.floating[Any]: ...
def softmax_backward(
    grad: ArrayLike, probs: ArrayLike, axis: int = -1, *, out: NDArray[np.floating[Any]] | None = None
) -> NDArray[np.floating[Any]]: ...
def log_softmax_backward(
    grad: ArrayLike, log_probs: ArrayLike, axis: int = -1, *, out: NDArray[np.floating[Any]] | None = None
) -> NDArray[np.floating[Any]]: ...
def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Literal["none", "mean", "sum"] = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating[Any]] | np.floating[Any]: ...
def cross_entropy_with_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Literal["none", "mean", "sum"] = "mean",
    label_smoothing: float = 0.0,
    grad_out: NDArray[np.floating[Any]] | None = None,
) -> tuple[NDArray[np.floating[Any]] | np.floating[Any], NDArray[np.floating[Any]]]: ...
class LinearGrads(NamedTuple):
    input: NDArray[np.floating[Any]]
    linear_weight: NDArray[np.floating[Any]]
    linear_bias: NDArray[np.floating[Any]] | None

def linear_cross_entropy(
    input: ArrayLike,
    linear_weight: ArrayLike,
    target: ArrayLike,
    *,
    linear_bias: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Literal["none", "mean", "sum"] = "mean",
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
) -> Any: ...
def linear_cross_entropy_with_grad(
    input: ArrayLike,
    linear_weight: ArrayLike,
    target: ArrayLike,
    *,
    linear_bias: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Literal["none", "mean", "sum"] = "mean",
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    filter_eps: float | None = None,
) -> tuple[Any, LinearGrads]: ...

class ShardStats(NamedTuple):
    max: NDArray[np.float64]
    sumexp: NDArray[np.float64]
    target_logit: NDArray[np.float64]
    target_weight: NDArray[np.float64]
    target_count: NDArray[np.int64]
    logit_sum: NDArray[np.float64]
    num_classes: int
    weight_sum: float

def linear_cross_entropy_stats(
    input: ArrayLike,
    linear_weight: ArrayLike,
    target: ArrayLike,
    *,
    linear_bias: ArrayLike | None = None,
    class_start: int = 0,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    softcap: float | None = None,
) -> ShardStats: ...
def merge_shard_stats(*stats: ShardStats) -> ShardStats: ...
def cross_entropy_from_stats(
    stats: ShardStats,
    target: ArrayLike,
    *,
    ignore_index: int = -100,
    reduction: Literal["none", "mean", "sum"] = "mean",
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
) -> Any: ...
def set_num_threads(n: int | None) -> None: ...
def get_num_threads() -> int: ...
def threading_layer() -> str: ...
@overload
def show_config(mode: Literal["stdout"] = "stdout") -> None: ...
@overload
def show_config(mode: Literal["dicts"]) -> dict[str, Any]: ...

# ---- candidate sampling (sampled softmax / NCE) ----
from typing import Callable, NamedTuple, Union

from . import sampling as sampling

class SampledGrads(NamedTuple):
    inputs: NDArray[np.floating[Any]]
    ids: NDArray[np.int64]
    weights: NDArray[np.floating[Any]]
    biases: NDArray[np.floating[Any]]

_SampledValues = tuple[ArrayLike, ArrayLike, ArrayLike]
_Sampler = Union[Literal["log_uniform", "uniform"], Callable[..., _SampledValues], ArrayLike]
_Reduction = Literal["mean", "sum", "none"]

def sampled_softmax_loss(
    weights: ArrayLike, biases: ArrayLike, labels: ArrayLike, inputs: ArrayLike, num_sampled: int,
    num_classes: int, *, num_true: int = 1, sampled_values: _SampledValues | None = None,
    sampler: _Sampler = "log_uniform", remove_accidental_hits: bool = True, subtract_log_q: bool = True,
    seed: int | None = None, reduction: _Reduction = "mean",
) -> Any: ...
def sampled_softmax_loss_with_grad(
    weights: ArrayLike, biases: ArrayLike, labels: ArrayLike, inputs: ArrayLike, num_sampled: int,
    num_classes: int, *, num_true: int = 1, sampled_values: _SampledValues | None = None,
    sampler: _Sampler = "log_uniform", remove_accidental_hits: bool = True, subtract_log_q: bool = True,
    seed: int | None = None, reduction: _Reduction = "mean",
) -> tuple[Any, SampledGrads]: ...
def nce_loss(
    weights: ArrayLike, biases: ArrayLike, labels: ArrayLike, inputs: ArrayLike, num_sampled: int,
    num_classes: int, *, num_true: int = 1, sampled_values: _SampledValues | None = None,
    sampler: _Sampler = "log_uniform", remove_accidental_hits: bool = False, subtract_log_q: bool = True,
    seed: int | None = None, reduction: _Reduction = "mean",
) -> Any: ...
def nce_loss_with_grad(
    weights: ArrayLike, biases: ArrayLike, labels: ArrayLike, inputs: ArrayLike, num_sampled: int,
    num_classes: int, *, num_true: int = 1, sampled_values: _SampledValues | None = None,
    sampler: _Sampler = "log_uniform", remove_accidental_hits: bool = False, subtract_log_q: bool = True,
    seed: int | None = None, reduction: _Reduction = "mean",
) -> tuple[Any, SampledGrads]: ...
# multi-label sigmoid and binary cross-entropy
_Reduction = Literal["none", "mean", "sum"]
_Array = NDArray[np.floating[Any]]

def sigmoid(x: ArrayLike, *, out: _Array | None = None) -> _Array: ...
def log_sigmoid(x: ArrayLike, *, out: _Array | None = None) -> _Array: ...
def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: Any,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: _Reduction = "mean",
) -> _Array | np.floating[Any]: ...
def binary_cross_entropy_with_logits_with_grad(
    logits: ArrayLike,
    target: Any,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: _Reduction = "mean",
    grad_out: _Array | None = None,
) -> tuple[_Array | np.floating[Any], _Array]: ...
def sigmoid_focal_loss(
    logits: ArrayLike, target: ArrayLike, *, alpha: float = 0.25, gamma: float = 2.0, reduction: _Reduction = "mean"
) -> _Array | np.floating[Any]: ...
def sigmoid_focal_loss_with_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: _Reduction = "mean",
    grad_out: _Array | None = None,
) -> tuple[_Array | np.floating[Any], _Array]: ...
