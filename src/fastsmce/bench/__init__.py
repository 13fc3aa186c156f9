"""fastsmce's benchmark runner (``python -m fastsmce.bench``, ``fastsmce-bench``).

The case definitions and the operation registry live here so that the
pytest-benchmark suite in ``benchmarks/`` times exactly the same cases.
"""

from .cases import (
    DTYPES, HEADLINE_CASES, QUICK_CASES, SHAPES, Case, format_shape, parse_dtypes, parse_list,
    parse_shapes, select_cases,
)
from .machine import set_threads
from .ops import (
    PEERS, REGISTRY, TOLERANCE, OpSpec, as_float64, available_ops, float64_reference, get_op,
    peer_module, relative_error, to_numpy,
)
from .runner import CANDIDATES, candidate_factories, make_copy, run_case
from .timing import TimingConfig, time_interleaved

__all__ = [
    "CANDIDATES", "DTYPES", "HEADLINE_CASES", "PEERS", "QUICK_CASES", "REGISTRY", "SHAPES", "TOLERANCE",
    "Case", "OpSpec", "TimingConfig", "as_float64", "available_ops", "candidate_factories",
    "float64_reference", "format_shape", "get_op", "make_copy", "parse_dtypes", "parse_list", "parse_shapes",
    "peer_module", "relative_error", "run_case", "select_cases", "set_threads",
    "time_interleaved", "to_numpy",
]
