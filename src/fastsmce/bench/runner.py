"""Run one case: make inputs, check every candidate against the float64
reference, time the correct ones (interleaved, with the copy baseline), and
return a JSON-ready dict."""

from __future__ import annotations

import math
import traceback
from typing import Callable

import numpy as np

from .cases import Case
from .ops import (
    ERROR, NOT_AVAILABLE, NOT_INSTALLED, OK, PEERS, TOLERANCE, WRONG,
    OpSpec, as_float64, peer_module, relative_error, to_numpy,
)
from .timing import TimingConfig, time_interleaved

CANDIDATES: tuple[str, ...] = ("fastsmce",) + PEERS
COPY = "copy"


def copy_hook(module) -> tuple[str, Callable | None]:
    """fastsmce's parallel copy (``_core._copy``), or None for ``numpy.copyto``."""
    hook = getattr(getattr(module, "_core", None), "_copy", None)
    return ("fastsmce._core._copy", hook) if hook is not None else ("numpy.copyto", None)


def make_copy(module, x: np.ndarray) -> Callable[[], object]:
    """Read-once-write-once copy of ``x`` into a preallocated array."""
    dst = np.empty_like(x)
    _, hook = copy_hook(module)
    if hook is not None:
        return lambda: hook(x, dst)
    return lambda: np.copyto(dst, x)


def candidate_factories(spec: OpSpec, module) -> dict:
    """name -> factory(args) -> callable, or a status string (n/a, not installed)."""
    out = {"fastsmce": lambda args: spec.fastsmce(module, args)}
    for peer in PEERS:
        factory = spec.peer_factory(peer)
        if factory is None:
            out[peer] = NOT_AVAILABLE
        elif peer_module(peer) is None:
            out[peer] = NOT_INSTALLED
        else:
            out[peer] = factory
    return out


def _check(factory, args, ref, dtype: str) -> tuple[dict, Callable | None]:
    """Build and run a candidate once; its check record and, if correct, its callable."""
    try:
        fn = factory(args)
        err = relative_error(to_numpy(fn()), ref)
    except Exception as exc:  # a failing candidate is reported, never fatal
        msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return {"check": ERROR, "message": msg}, None
    record = {"check": OK if err <= TOLERANCE[dtype] else WRONG,
              "error": err if math.isfinite(err) else None}
    return record, (fn if record["check"] == OK else None)


def run_case(spec: OpSpec, case: Case, module, threads: int, cfg: TimingConfig,
             seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    args = spec.inputs(case.shape, case.dtype, rng)
    ref = spec.reference(*as_float64(args))

    records, fns = {}, {}
    for name, factory in candidate_factories(spec, module).items():
        if isinstance(factory, str):
            records[name] = {"check": factory}
            continue
        records[name], fn = _check(factory, args, ref, case.dtype)
        if fn is not None:
            fns[name] = fn
    del ref

    fns[COPY] = make_copy(module, args[0])
    timings = time_interleaved(fns, cfg)
    for name, timing in timings.items():
        rec = records.setdefault(name, {"check": OK})
        rec.update(time=timing.median, times=timing.samples,
                   calls_per_block=timing.calls_per_block)

    result = {
        "op": case.op, "shape": list(case.shape), "dtype": case.dtype, "threads": threads,
        "bytes": spec.bytes_moved(args), "copy_bytes": 2 * args[0].nbytes,
        "candidates": records,
    }
    result.update(_derived(result))
    return result


def _derived(result: dict) -> dict:
    """Speed-ups over each peer, copy bandwidth and %roof (as a fraction)."""
    cands = result["candidates"]
    t_fast = cands["fastsmce"].get("time")
    t_copy = cands[COPY]["time"]
    speedup = {peer: (cands[peer]["time"] / t_fast
                      if t_fast and cands[peer].get("time") else None)
               for peer in PEERS}
    bandwidth = result["copy_bytes"] / t_copy if t_copy > 0 else None
    roof = result["bytes"] / bandwidth / t_fast if t_fast and bandwidth else None
    return {"speedup": speedup, "copy_bandwidth": bandwidth, "roof": roof}
