"""fastsmce: fast, stable softmax, cross-entropy, sigmoid / binary cross-entropy and
sampled softmax for NumPy arrays.

A SIMD C core (AVX-512, AVX2+FMA, NEON, SVE, portable scalar; chosen at import) bound
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
    threading_layer,
)

# cross-entropy (csrc/kernels/xent.inc, _xent.pxi)
from ._core import cross_entropy, cross_entropy_with_grad

# multi-label sigmoid and binary cross-entropy (csrc/kernels/sigmoid.inc, _sigmoid.pxi)
from ._core import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_with_grad,
    log_sigmoid,
    sigmoid,
    sigmoid_focal_loss,
    sigmoid_focal_loss_with_grad,
)

# fused linear + cross-entropy (_linear.pxi over csrc/kernels/xent.inc and BLAS)
from ._core import (
    LinearGrads,
    ShardStats,
    cross_entropy_from_stats,
    linear_cross_entropy,
    linear_cross_entropy_stats,
    linear_cross_entropy_with_grad,
    merge_shard_stats,
)

# candidate sampling (csrc/kernels/sampled.inc, _sampling.pxi, sampling.py)
from . import sampling
from ._core import (
    SampledGrads,
    nce_loss,
    nce_loss_with_grad,
    sampled_softmax_loss,
    sampled_softmax_loss_with_grad,
)

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "softmax_backward",
    "log_softmax_backward",
    "cross_entropy",
    "cross_entropy_with_grad",
    "linear_cross_entropy",
    "linear_cross_entropy_with_grad",
    "linear_cross_entropy_stats",
    "merge_shard_stats",
    "cross_entropy_from_stats",
    "ShardStats",
    "LinearGrads",
    "sigmoid",
    "log_sigmoid",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_with_grad",
    "sigmoid_focal_loss",
    "sigmoid_focal_loss_with_grad",
    "set_num_threads",
    "get_num_threads",
    "show_config",
    "threading_layer",
    "__version__",
    # candidate sampling
    "sampling",
    "sampled_softmax_loss",
    "sampled_softmax_loss_with_grad",
    "nce_loss",
    "nce_loss_with_grad",
    "SampledGrads",
]
