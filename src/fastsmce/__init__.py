"""fastsmce: fast, stable softmax / log-softmax / logsumexp for NumPy arrays.

A SIMD C core (AVX-512, AVX2+FMA, portable scalar; chosen at import) bound
through Cython with OpenMP threads.  See README.md for the full contract.
"""

from ._core import (
    __version__,
    get_num_threads,
    log_softmax,
    log_softmax_backward,
    logsumexp,
    set_num_threads,
    show_config,
    softmax,
    softmax_backward,
)

# cross-entropy (csrc/kernels/xent.inc, _xent.pxi)

# multi-label sigmoid and binary cross-entropy (csrc/kernels/sigmoid.inc, _sigmoid.pxi)
from ._core import (  # noqa: E402
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_with_grad,
    log_sigmoid,
    sigmoid,
    sigmoid_focal_loss,
    sigmoid_focal_loss_with_grad,
)

# candidate sampling (csrc/kernels/sampled.inc, _sampling.pxi, sampling.py)

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "softmax_backward",
    "log_softmax_backward",
    "sigmoid",
    "log_sigmoid",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_with_grad",
    "sigmoid_focal_loss",
    "sigmoid_focal_loss_with_grad",
    "set_num_threads",
    "get_num_threads",
    "show_config",
    "__version__",
]
