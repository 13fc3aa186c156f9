"""Interleaved timing of several zero-argument callables.

Each callable gets a calls-per-block count ``k`` chosen so that one timed
block lasts at least ``block_time`` (small shapes run in ~1 us per call, far
below the clock's useful resolution).  Then blocks are timed round-robin --
one block of every candidate per round, the order rotated each round -- so
machine noise hits all candidates alike.  Rounds go on until every candidate
has had ``budget`` seconds on average (and at least ``min_repeats`` rounds).

A candidate whose one call takes ``slow_call`` seconds or more (a peer that needs a second
where fastsmce needs milliseconds) is timed in its first ``slow_repeats`` rounds only: more
calls would not change a ratio that large, and such peers took most of the main job's
default run; the callables named in ``keep`` (fastsmce) are never cut short.  A call
already made to check a result (``first_call``) that lasted a block or more is the
callable's warm-up and calibration (one call a block).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
from dataclasses import dataclass, replace
from time import perf_counter_ns
from typing import Callable, Collection, Mapping


@dataclass(frozen=True)
class TimingConfig:
    block_time: float = 2e-3  #: seconds one timed block lasts at least
    budget: float = 0.5  #: seconds of timing per candidate and case
    min_repeats: int = 5
    max_repeats: int = 1000
    slow_call: float | None = None  #: seconds a call from which a candidate counts as slow
    slow_repeats: int = 1  #: rounds a slow candidate is timed in (at least 1)

    @classmethod
    def for_run(cls, quick: bool, budget: float | None = None,
                block_time: float | None = None, full: bool = True) -> "TimingConfig":
        """Defaults for a run (quick: 0.1 s a candidate; the default run 0.1 s and at
        least 3 rounds; full 0.5 s and 5; quick and default: a peer slower than 0.3 s a
        call is timed once, full: as often as the rest); FASTSMCE_BENCH_FAST=1 (used by
        the tests) shrinks everything, explicit arguments win over both."""
        if os.environ.get("FASTSMCE_BENCH_FAST", "") not in ("", "0"):
            base = cls(block_time=1e-4, budget=0.005, min_repeats=3)
        elif quick:
            base = cls(budget=0.1, slow_call=0.3)
        elif not full:
            base = cls(budget=0.1, min_repeats=3, slow_call=0.3)
        else:
            base = cls()
        return replace(base, block_time=base.block_time if block_time is None else block_time,
                       budget=base.budget if budget is None else budget)


def timed_call(fn: Callable[[], object]) -> tuple[object, float]:
    """One call: its result and its seconds (a check's call: time_interleaved's
    first_call)."""
    t0 = perf_counter_ns()
    result = fn()
    return result, (perf_counter_ns() - t0) / 1e9


def time_block(fn: Callable[[], object], k: int) -> int:
    """Nanoseconds for ``k`` back-to-back calls of ``fn``."""
    calls = range(k)
    t0 = perf_counter_ns()
    for _ in calls:
        fn()
    return perf_counter_ns() - t0


def _fastest_block(fn: Callable[[], object], k: int, block_ns: int, trials: int = 3) -> int:
    """Fastest of up to ``trials`` blocks of ``k`` calls: one noise spike (a
    descheduled thread) must not pass for a slow call.  Stops early once a
    block is under ``block_ns`` or far over it (a slow call needs no more)."""
    best = time_block(fn, k)
    for _ in range(trials - 1):
        if best < block_ns or best >= 50 * block_ns:
            break
        best = min(best, time_block(fn, k))
    return best


def calibrate(fn: Callable[[], object], block_ns: int) -> int:
    """Smallest convenient ``k`` with one block of ``k`` calls >= ``block_ns``
    (doubles as warm-up)."""
    k = 1
    while True:
        elapsed = _fastest_block(fn, k, block_ns)
        if elapsed >= block_ns:
            return k
        # aim 20% past the target, grow at least 2x and at most 100x per step
        want = int(k * 1.2 * block_ns / max(elapsed, 1)) + 1
        k = max(2 * k, min(100 * k, want))


@dataclass
class Timing:
    calls_per_block: int
    samples: list  #: seconds per call, one per round

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def time_interleaved(fns: Mapping[str, Callable[[], object]], cfg: TimingConfig,
                     first_call: Mapping[str, float] | None = None,
                     keep: Collection[str] = ()) -> dict:
    """Time every callable; returns name -> Timing (seconds per call).  first_call: the
    seconds of a call already made (a check of its result), the warm-up and calibration
    of a callable that took a block_time or more.  keep: the callables timed in every
    round however slow (fastsmce, the subject of the comparison)."""
    if not fns:
        return {}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        block_ns = int(cfg.block_time * 1e9)
        slow_ns = math.inf if cfg.slow_call is None else cfg.slow_call * 1e9
        # a first call of a block or more: warm-up and calibration (k = 1) at once
        first = dict(first_call or {})
        warm = {name for name, t in first.items() if t * 1e9 >= block_ns and name in fns}
        ks = {name: 1 if name in warm else calibrate(fn, block_ns) for name, fn in fns.items()}
        timings = {name: Timing(k, []) for name, k in ks.items()}
        names = list(fns)
        slow: set = set()
        total_ns = cfg.budget * 1e9 * len(names)
        spent = 0
        rounds = 0
        while rounds < cfg.min_repeats or (spent < total_ns and rounds < cfg.max_repeats):
            if rounds == 1:
                # slow: the first round's call and a first call both slow.  One-time costs
                # (tracing) inflate a first call, and at 1024x50257 NumPy's and SciPy's
                # first calls after others' big allocations took up to 0.8 s where the
                # steady call takes 0.13 s (huge-page faults; measured)
                for name in warm:       # a first call's one-time costs hid a fast call
                    if timings[name].samples[0] * 1e9 < block_ns:
                        ks[name] = calibrate(fns[name], block_ns)
                        timings[name] = Timing(ks[name], [])
                slow = {name for name in names if ks[name] == 1 and name not in keep
                        and timings[name].samples
                        and min(timings[name].samples[0], first.get(name, math.inf)) * 1e9
                        >= slow_ns}
            if rounds >= max(cfg.slow_repeats, 1):
                names = [name for name in names if name not in slow]
                if not names:
                    break
            shift = rounds % len(names)
            for name in names[shift:] + names[:shift]:
                elapsed = time_block(fns[name], ks[name])
                timings[name].samples.append(elapsed / ks[name] / 1e9)
                spent += elapsed
            rounds += 1
        return timings
    finally:
        if gc_was_enabled:
            gc.enable()


def compare_to_reference(cases: Mapping, subject: str, cfg: TimingConfig, check,
                         scale: float = 1e6, unit: str = "us", width: int = 48) -> dict:
    """The adapters' tables (bench.torch, bench.special): for each case ``name -> (target or
    None, reference name, {candidate: callable})``, ``check(name, reference, fns)`` first,
    then the interleaved medians, one printed line a case with reference / subject against
    the target; returns ``name -> {seconds, reference, speed_vs_reference, target}``."""
    results = {}
    for name, (target, ref, fns) in cases.items():
        check(name, ref, fns)
        med = {k: v.median for k, v in time_interleaved(fns, cfg).items()}
        ratio = med[ref] / med[subject]
        results[name] = {"seconds": med, "reference": ref, "speed_vs_reference": ratio,
                         "target": target}
        cols = "  ".join(f"{k} {v * scale:9.3f} {unit}" for k, v in med.items())
        goal = "(no target)" if target is None else \
            f"(target >= {target:.3g}x) " + ("ok" if ratio >= target else "BELOW TARGET")
        print(f"  {name:{width}s} {cols}   {ref}/{subject} = {ratio:.2f}x {goal}")
    return results
