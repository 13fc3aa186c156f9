"""Interleaved timing of several zero-argument callables.

Each callable gets a calls-per-block count ``k`` chosen so that one timed
block lasts at least ``block_time`` (small shapes run in ~1 us per call, far
below the clock's useful resolution).  Then blocks are timed round-robin --
one block of every candidate per round, the order rotated each round -- so
machine noise hits all candidates alike.  Rounds go on until every candidate
has had ``budget`` seconds on average (and at least ``min_repeats`` rounds).
"""

from __future__ import annotations

import gc
import os
import statistics
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Callable, Mapping


@dataclass(frozen=True)
class TimingConfig:
    block_time: float = 2e-3  #: seconds one timed block lasts at least
    budget: float = 0.5  #: seconds of timing per candidate and case
    min_repeats: int = 5
    max_repeats: int = 1000

    @classmethod
    def for_run(cls, quick: bool, budget: float | None = None,
                block_time: float | None = None, full: bool = True) -> "TimingConfig":
        """Defaults for a run (quick: 0.1 s a candidate, the default run 0.2 s, full
        0.5 s); FASTSMCE_BENCH_FAST=1 (used by the tests) shrinks everything, explicit
        arguments win over both."""
        if os.environ.get("FASTSMCE_BENCH_FAST", "") not in ("", "0"):
            base = cls(block_time=1e-4, budget=0.005, min_repeats=3)
        elif quick:
            base = cls(budget=0.1)
        elif not full:
            base = cls(budget=0.2)
        else:
            base = cls()
        return cls(
            block_time=base.block_time if block_time is None else block_time,
            budget=base.budget if budget is None else budget,
            min_repeats=base.min_repeats,
            max_repeats=base.max_repeats,
        )


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


def time_interleaved(fns: Mapping[str, Callable[[], object]], cfg: TimingConfig) -> dict:
    """Time every callable; returns name -> Timing (seconds per call)."""
    if not fns:
        return {}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        block_ns = int(cfg.block_time * 1e9)
        ks = {name: calibrate(fn, block_ns) for name, fn in fns.items()}
        timings = {name: Timing(k, []) for name, k in ks.items()}
        names = list(fns)
        total_ns = cfg.budget * 1e9 * len(names)
        spent = 0
        rounds = 0
        while rounds < cfg.min_repeats or (spent < total_ns and rounds < cfg.max_repeats):
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
