from typing import Any, Literal, overload

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
def set_num_threads(n: int | None) -> None: ...
def get_num_threads() -> int: ...
@overload
def show_config(mode: Literal["stdout"] = "stdout") -> None: ...
@overload
def show_config(mode: Literal["dicts"]) -> dict[str, Any]: ...

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
