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
def set_num_threads(n: int | None) -> None: ...
def get_num_threads() -> int: ...
@overload
def show_config(mode: Literal["stdout"] = "stdout") -> None: ...
@overload
def show_config(mode: Literal["dicts"]) -> dict[str, Any]: ...
