"""Output: the text tables, the JSON file and the PNG plot."""

from __future__ import annotations

import json
import math
from itertools import groupby

from .cases import format_shape
from .ops import OK, PEERS, get_op
from .runner import CANDIDATES, REFERENCES

#: column titles of the candidates
TITLES = {"fastsmce": "fastsmce", "fastsmce_out": "out="}

_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))


def format_time(seconds: float) -> str:
    for scale, unit in _TIME_UNITS:
        if seconds >= scale:
            break
    value = seconds / scale
    digits = 3 - len(str(int(value))) if value < 1000 else 0
    return f"{value:.{max(digits, 0)}f} {unit}"


def format_speedup(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.0f}x" if x >= 100 else f"{x:.3g}x"


def time_cell(record: dict) -> str:
    return format_time(record["time"]) if record["check"] == OK and "time" in record \
        else record["check"]


def table_rows(results: list) -> list:
    header = ["shape", "dtype", *(TITLES.get(c, c) for c in CANDIDATES),
              *(f"x {p}" for p in PEERS), "%roof", "%roof out="]
    rows = [header]
    for r in results:
        cands = r["candidates"]
        roofs = ["-" if r.get(k) is None else f"{100 * r[k]:.0f}%" for k in ("roof", "roof_out")]
        rows.append([
            format_shape(r["shape"]), r["dtype"],
            *(time_cell(cands[name]) for name in CANDIDATES),
            *(format_speedup(r["speedup"][p]) for p in PEERS),
            *roofs,
        ])
    return rows


def render_table(rows: list) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_header(info: dict, cfg) -> str:
    fs = info["fastsmce"]
    yesno = {True: "yes", False: "no"}
    simd = fs.get("simd", "?")
    supported = fs.get("simd_supported")
    if supported:
        simd += f" (supported: {', '.join(supported)})"
    peers = ", ".join(f"{p} {v}" if v else f"{p} not installed" for p, v in info["peers"].items())
    return "\n".join([
        f"fastsmce {fs.get('version', '?')} | SIMD {simd} | "
        f"OpenMP {yesno.get(fs.get('openmp'), '?')} | threads {info['threads']} | "
        f"{fs.get('compiler', '?')}",
        f"CPU: {info['cpu']} | {info['logical_cpus']} logical CPUs "
        f"({info['usable_cpus']} usable) | {info['platform']} | Python {info['python']}",
        f"peers: {peers} (numpy/scipy run single-threaded; "
        f"torch set to {info['threads']} threads)",
        f"time per call: median of interleaved repeats, each >= {format_time(cfg.block_time)}, "
        f"~{cfg.budget:g} s per candidate and case"
        + (f" (a peer slower than {cfg.slow_call:g} s a call: {cfg.slow_repeats} "
           f"round{'s' * (cfg.slow_repeats != 1)})" if cfg.slow_call is not None else "")
        + "; speed-up x peer = peer time / fastsmce time",
        "fastsmce: as users call it, outputs allocated by the call; out=: with preallocated "
        "out= / grad_out= buffers; peers as they are normally called",
        f"%roof: reference time of the op's bytes (read + written) / fastsmce time; references "
        f"timed per case with {info['copy']} ({info['threads']} threads): an allocating copy "
        f"(new array + copy) for fastsmce, a copy into an existing array for out=; "
        f"reductions (one value a row or less): bytes read only, against a parallel read of "
        f"the input (fastsmce._core._read)",
    ])


def render_report(info: dict, cfg, results: list) -> str:
    parts = [machine_header(info, cfg)]
    for op, group in groupby(results, key=lambda r: r["op"]):
        parts.append(f"\n== {op} ==  {get_op(op).note}\n{render_table(table_rows(list(group)))}")
    return "\n".join(parts)


def failed_cases(results: list) -> list:
    """Cases where fastsmce itself gave a wrong answer or raised."""
    return [r for r in results if r["candidates"]["fastsmce"]["check"] != OK]


def _clean(obj):
    """JSON-safe: non-finite floats become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: str, info: dict, cfg, results: list, extra: dict | None = None) -> None:
    doc = {
        "machine": info,
        "settings": {"block_time": cfg.block_time, "budget": cfg.budget,
                     "min_repeats": cfg.min_repeats, "max_repeats": cfg.max_repeats,
                     "slow_call": cfg.slow_call, "slow_repeats": cfg.slow_repeats,
                     "candidates": list(CANDIDATES), "references": list(REFERENCES),
                     "units": {"time": "seconds per call", "bytes": "bytes",
                               "copy_bandwidth": "bytes per second",
                               "roof": "fraction of the reference's bandwidth "
                                       "(allocating call vs copy_alloc, reductions vs read)",
                               "roof_out": "out= call vs copy (reductions vs read)"}},
        "results": results,
    }
    doc.update(extra or {})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_clean(doc), f, indent=1)
        f.write("\n")


def write_plot(path: str, info: dict, results: list) -> bool:
    """Speed-up bars (log scale) over each peer, one panel per op.  False
    (and nothing written) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    groups = [(op, list(g)) for op, g in groupby(results, key=lambda r: r["op"])]
    fig, axes = plt.subplots(len(groups), 1, squeeze=False,
                             figsize=(max(6.0, 1.1 * max(len(g) for _, g in groups) + 2),
                                      3.2 * len(groups)))
    width = 0.8 / len(PEERS)
    for ax, (op, group) in zip(axes[:, 0], groups):
        for i, peer in enumerate(PEERS):
            xs = [j + (i - (len(PEERS) - 1) / 2) * width for j in range(len(group))]
            ys = [r["speedup"][peer] or math.nan for r in group]  # no bar when missing
            ax.bar(xs, ys, width, label=f"x {peer}")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(len(group)))
        ax.set_xticklabels([f"{format_shape(r['shape'])}\n{r['dtype']}" for r in group],
                           fontsize=8)
        ax.set_ylabel("speed-up")
        ax.set_title(op, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    fs = info["fastsmce"]
    fig.suptitle(f"fastsmce {fs.get('version', '?')} speed-up ({fs.get('simd', '?')}, "
                 f"{info['threads']} threads) - {info['cpu']}", fontsize=10)
    # leave the top 0.4 inch to the title so it does not cover the first panel's
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
