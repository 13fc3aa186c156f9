"""Run one case: make inputs, check every candidate against the float64
reference, time the correct ones (interleaved, with the memory references), and
return a JSON-ready dict.

References, timed in the same interleaved rounds with fastsmce's threads: an
allocating copy of the first input (``copy_alloc``: a fresh array, then the
parallel copy, the way an allocating call pays for fresh pages) for the
allocating calls, a copy into an existing array (``copy``) for ``out=``, and for
reductions a read of the first input (``read``, ``fastsmce._core._read``), whose
%roof counts the bytes read only, so it cannot pass 100% unless the kernel
reads faster than a plain read."""

from __future__ import annotations

import math
import traceback
from typing import Callable

import numpy as np

from .cases import Case
from .ops import (
    ERROR, NOT_AVAILABLE, NOT_INSTALLED, OK, PEERS, TOLERANCE, WRONG,
    OpSpec, float64_reference, peer_module, relative_error, to_numpy,
)
from .timing import TimingConfig, time_interleaved, timed_call

#: fastsmce as users call it (outputs allocated by the call), fastsmce with out= /
#: grad_out=, then the peers as they are normally called
CANDIDATES: tuple[str, ...] = ("fastsmce", "fastsmce_out") + PEERS
COPY = "copy"
COPY_ALLOC = "copy_alloc"
READ = "read"
REFERENCES: tuple[str, ...] = (COPY, COPY_ALLOC, READ)


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


def make_alloc_copy(module, x: np.ndarray) -> Callable[[], object]:
    """Allocating copy of ``x``: a new array, then the same parallel copy."""
    _, hook = copy_hook(module)
    if hook is not None:
        return lambda: hook(x, np.empty_like(x))
    return x.copy


def make_read(module, x: np.ndarray) -> Callable[[], object]:
    """Read of every byte of ``x`` (``fastsmce._core._read``, else NumPy's sum)."""
    hook = getattr(getattr(module, "_core", None), "_read", None)
    if hook is not None and x.flags.c_contiguous and x.nbytes % 8 == 0:
        return lambda: hook(x)
    return lambda: np.add.reduce(x, axis=None)


def candidate_factories(spec: OpSpec, module) -> dict:
    """name -> factory(args) -> callable, or a status string (n/a, not installed)."""
    out = {"fastsmce": lambda args: spec.fastsmce(module, args),
           "fastsmce_out": (NOT_AVAILABLE if spec.fastsmce_out is None
                            else lambda args: spec.fastsmce_out(module, args))}
    for peer in PEERS:
        factory = spec.peer_factory(peer)
        if factory is None:
            out[peer] = NOT_AVAILABLE
        elif peer_module(peer) is None:
            out[peer] = NOT_INSTALLED
        else:
            out[peer] = factory
    return out


def _check(factory, args, ref, dtype: str) -> tuple[dict, Callable | None, float]:
    """Build and run a candidate once; its check record, its callable if correct, and
    the seconds of that first call (the timing's warm-up)."""
    try:
        fn = factory(args)
        result, seconds = timed_call(fn)
        err = relative_error(to_numpy(result), ref)
    except Exception as exc:  # a failing candidate is reported, never fatal
        msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return {"check": ERROR, "message": msg}, None, 0.0
    record = {"check": OK if err <= TOLERANCE[dtype] else WRONG,
              "error": err if math.isfinite(err) else None}
    return record, (fn if record["check"] == OK else None), seconds


def run_case(spec: OpSpec, case: Case, module, threads: int, cfg: TimingConfig,
             seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    args = spec.inputs(case.shape, case.dtype, rng)
    ref = float64_reference(spec, args)

    records, fns, first = {}, {}, {}
    for name, factory in candidate_factories(spec, module).items():
        if isinstance(factory, str):
            records[name] = {"check": factory}
            continue
        records[name], fn, first[name] = _check(factory, args, ref, case.dtype)
        if fn is not None:
            fns[name] = fn
    del ref

    if spec.reduction:
        fns[READ] = make_read(module, args[0])
    else:
        fns[COPY] = make_copy(module, args[0])
        fns[COPY_ALLOC] = make_alloc_copy(module, args[0])
    timings = time_interleaved(fns, cfg, first, keep=("fastsmce", "fastsmce_out"))
    for name, timing in timings.items():
        rec = records.setdefault(name, {"check": OK})
        rec.update(time=timing.median, times=timing.samples,
                   calls_per_block=timing.calls_per_block)

    result = {
        "op": case.op, "shape": list(case.shape), "dtype": case.dtype, "threads": threads,
        "reduction": spec.reduction,
        "bytes": spec.bytes_read(args) if spec.reduction else spec.bytes_moved(args),
        "copy_bytes": (1 if spec.reduction else 2) * args[0].nbytes,
        "candidates": records,
    }
    result.update(_derived(result))
    return result


def _roof(result: dict, cand: str, ref: str) -> float | None:
    """bytes / (reference bandwidth) / time of ``cand`` (a fraction)"""
    cands = result["candidates"]
    t = cands.get(cand, {}).get("time")
    t_ref = cands.get(ref, {}).get("time")
    if not t or not t_ref:
        return None
    return result["bytes"] * t_ref / result["copy_bytes"] / t


def _derived(result: dict) -> dict:
    """Speed-ups over each peer (of the allocating call), reference bandwidth and %roof
    (as fractions): allocating call against the allocating copy, out= against the copy
    into an existing array, reductions (both calls) against the read."""
    cands = result["candidates"]
    t_fast = cands["fastsmce"].get("time")
    speedup = {peer: (cands[peer]["time"] / t_fast
                      if t_fast and cands[peer].get("time") else None)
               for peer in PEERS}
    red = result["reduction"]
    ref_alloc, ref_out = (READ, READ) if red else (COPY_ALLOC, COPY)
    t_ref = cands[ref_out]["time"]
    bandwidth = result["copy_bytes"] / t_ref if t_ref > 0 else None
    return {"speedup": speedup, "copy_bandwidth": bandwidth,
            "roof": _roof(result, "fastsmce", ref_alloc),
            "roof_out": _roof(result, "fastsmce_out", ref_out)}
