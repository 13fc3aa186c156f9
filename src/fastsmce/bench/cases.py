"""Benchmark cases: the standard shapes and dtypes, the --quick subset, and
the parsers for --shapes / --dtypes.  Shared by the runner and by the
pytest-benchmark suite in ``benchmarks/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

#: Standard shapes (rows x classes), smallest to largest; 32768x1000 is out of cache.
SHAPES: tuple[tuple[int, int], ...] = (
    (64, 10),
    (4096, 10),
    (4096, 1000),
    (256, 32000),
    (16, 262144),
    (1024, 50257),
    (32768, 1000),
)

DTYPES: tuple[str, ...] = ("float32", "float64")

#: The default run (the headline cases, a few minutes on 2 cores): every op at these
#: shapes in float32; ``--full`` runs every standard shape in both dtypes.
HEADLINE_CASES: tuple[tuple[tuple[int, int], str], ...] = (
    ((64, 10), "float32"),
    ((4096, 1000), "float32"),
    ((1024, 50257), "float32"),
)

#: The ``--quick`` subset: small to mid shapes in float32, plus one float64.
QUICK_CASES: tuple[tuple[tuple[int, int], str], ...] = (
    ((64, 10), "float32"),
    ((4096, 10), "float32"),
    ((4096, 1000), "float32"),
    ((4096, 1000), "float64"),
)


@dataclass(frozen=True)
class Case:
    """One benchmark case: an operation on one input shape and dtype."""

    op: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def shape_str(self) -> str:
        return format_shape(self.shape)

    @property
    def label(self) -> str:
        return f"{self.op} {self.shape_str} {self.dtype}"


def format_shape(shape: Sequence[int]) -> str:
    return "x".join(str(n) for n in shape)


def parse_shape(text: str) -> tuple[int, int]:
    """``"4096x1000"`` -> ``(4096, 1000)``: rows x classes, both >= 1."""
    parts = text.strip().lower().split("x")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"bad shape {text!r}: expected ROWSxCLASSES, e.g. 4096x1000") from None
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"bad shape {text!r}: expected ROWSxCLASSES with both >= 1")
    return shape  # type: ignore[return-value]


def parse_list(text: str | None) -> list[str] | None:
    """Comma-separated list -> list of stripped, non-empty items (None stays None)."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_shapes(text: str | None) -> list[tuple[int, int]] | None:
    items = parse_list(text)
    return None if items is None else [parse_shape(s) for s in items]


def parse_dtypes(text: str | None) -> list[str] | None:
    items = parse_list(text)
    if items is None:
        return None
    bad = [d for d in items if d not in DTYPES]
    if bad:
        raise ValueError(f"unknown dtype(s) {', '.join(bad)}; choose from {', '.join(DTYPES)}")
    return items


def select_cases(
    ops: Iterable[str],
    shapes: Sequence[tuple[int, int]] | None = None,
    dtypes: Sequence[str] | None = None,
    quick: bool = False,
    full: bool = True,
) -> list[Case]:
    """Cases for ``ops`` (op-major order).

    Explicit ``shapes`` are used as given (crossed with ``dtypes``, default both
    under ``full``, else float32).  Without shapes: ``QUICK_CASES`` under ``quick``,
    all standard shapes x dtypes under ``full``, else ``HEADLINE_CASES`` (the default
    run of ``python -m fastsmce.bench``); those lists filtered by ``dtypes``.
    """
    if shapes is not None:
        dts = list(dtypes) if dtypes is not None else (list(DTYPES) if full and not quick
                                                       else ["float32"])
        pairs = [(tuple(s), d) for s in shapes for d in dts]
    elif quick:
        pairs = [(s, d) for s, d in QUICK_CASES if dtypes is None or d in dtypes]
    elif not full:
        if dtypes is not None and list(dtypes) != ["float32"]:
            pairs = [(s, d) for s, _ in HEADLINE_CASES for d in dtypes]
        else:
            pairs = list(HEADLINE_CASES)
    else:
        dts = list(dtypes) if dtypes is not None else list(DTYPES)
        pairs = [(s, d) for s in SHAPES for d in dts]
    return [Case(op, shape, dtype) for op in ops for shape, dtype in pairs]
