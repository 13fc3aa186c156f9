"""``python -m fastsmce.bench`` / ``fastsmce-bench``: time fastsmce against
NumPy, SciPy and PyTorch and print one table per operation.

The default run takes the headline cases (every op at 64x10, 4096x1000 and 1024x50257
float32, the CSR-vs-dense BCE rows, the sampled-softmax step, a small fused linear
cross-entropy and the fastsmce.torch table), under 3 minutes on 2 cores (143 s measured),
with shorter timing: a peer slower than 0.3 s a call is timed once (TimingConfig.for_run);
``--full`` the whole sweep (every standard shape in both dtypes, the linear cross-entropy
at its full sizes, every candidate timed alike); ``--quick`` a small subset (CI)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import fastsmce

from . import csr
from .cases import parse_dtypes, parse_list, parse_shapes, select_cases
from .machine import machine_info, set_threads
from .ops import REGISTRY, available_ops, get_op
from .progress import progress_bar
from .report import failed_cases, render_report, write_json, write_plot
from .runner import copy_hook, run_case
from .timing import TimingConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fastsmce.bench",
        description="Benchmark fastsmce against NumPy, SciPy and PyTorch (when installed). "
                    "Every result is first checked against a float64 NumPy reference; a wrong "
                    "one is reported as WRONG and not timed. Exit status 1 if fastsmce itself "
                    "gave a wrong answer or raised.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="a small subset of cases (well under a minute)")
    mode.add_argument("--full", action="store_true",
                      help="the whole sweep: every standard shape in float32 and float64 "
                           "(the default run takes the headline cases, a few minutes)")
    p.add_argument("--ops", metavar="LIST",
                   help="comma-separated operations (default: all available; see --list)")
    p.add_argument("--shapes", metavar="LIST",
                   help="comma-separated ROWSxCLASSES shapes, e.g. 4096x1000,64x10")
    p.add_argument("--dtypes", metavar="LIST", help="float32, float64 or both")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for fastsmce, its copy and torch "
                        "(default: fastsmce.get_num_threads())")
    p.add_argument("--json", metavar="PATH", help="write every figure as JSON")
    p.add_argument("--plot", metavar="PATH", help="draw speed-ups as a PNG (needs matplotlib)")
    p.add_argument("--list", action="store_true", help="list the operations and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--time-per-case", type=float, metavar="SECONDS",
                   help="timing budget per candidate and case "
                        "(default 0.1, --full 0.5, --quick 0.1)")
    p.add_argument("--min-time", type=float, metavar="SECONDS",
                   help="minimum duration of one timed block of calls (default 0.002)")
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    return p


#: the sampled-softmax training step (fastsmce.bench.sampled): not a 2-D table case
SAMPLED = "sampled_softmax"
SAMPLED_FUNCTION = "sampled_softmax_loss_with_grad"
#: its problem: issue 5's (1M classes) in a full run, a small one with --quick
SAMPLED_FULL = ["--batch", "512", "--dim", "256", "--classes", "1000000", "--sampled", "8192"]
SAMPLED_QUICK = ["--batch", "128", "--dim", "64", "--classes", "100000", "--sampled", "1024",
                 "--time", "0.3", "--no-tf"]


#: the default run's timing of the steps that have their own runner: 0.2 s a candidate, a
#: peer slower than 0.3 s a call timed once (the main job's cases: TimingConfig.for_run)
DEFAULT_RUN_TIMING = ["--time", "0.2", "--slow-call", "0.3"]

#: the fused linear + cross-entropy (fastsmce.bench.linear): its own table
LINEAR = "linear_cross_entropy"
LINEAR_FUNCTION = "linear_cross_entropy_with_grad"

#: the PyTorch adapter against torch (fastsmce.bench.torch): its own table, when torch is there
TORCH = "torch"
#: sparse (CSR) against dense BCE targets (fastsmce.bench.csr): its own table
CSR = "bce_csr_vs_dense"
CSR_FUNCTION = "binary_cross_entropy_with_logits_with_grad"


def list_ops(module) -> str:
    have = {spec.name for spec in available_ops(module)}
    lines = [f"{spec.name:45s} {'available' if spec.name in have else 'not in this build'}"
             for spec in REGISTRY]
    lines.append(f"{SAMPLED:45s} "
                 f"{'available' if hasattr(module, SAMPLED_FUNCTION) else 'not in this build'}"
                 "  (training step: python -m fastsmce.bench.sampled)")
    lines.append(f"{LINEAR:45s} "
                 f"{'available' if hasattr(module, LINEAR_FUNCTION) else 'not in this build'}"
                 "  (loss + grads vs PyTorch: python -m fastsmce.bench.linear)")
    lines.append(f"{TORCH:45s} "
                 f"{'available' if _have_torch() else 'needs PyTorch'}"
                 "  (fastsmce.torch vs torch: python -m fastsmce.bench.torch)")
    lines.append(f"{CSR:45s} "
                 f"{'available' if hasattr(module, CSR_FUNCTION) else 'not in this build'}"
                 "  (BCE with CSR against dense targets)")
    return "\n".join(lines)


def _have_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def split_steps(text: str | None) -> tuple[str | None, set]:
    """(--ops without the steps that have their own runner, the steps asked for);
    None = all."""
    steps = {SAMPLED, LINEAR, TORCH, CSR}
    if text is None:
        return None, steps if _have_torch() else steps - {TORCH}
    names = parse_list(text)
    rest = [n for n in names if n not in steps]
    return (",".join(rest) if rest else ""), steps & set(names)


def run_csr(module, cfg) -> list | None:
    """Time BCE with CSR against dense targets (fastsmce.bench.csr) and print the table."""
    if not hasattr(module, CSR_FUNCTION):
        print(f"\n{CSR}: not in this fastsmce build", file=sys.stderr)
        return None
    shapes = csr.SHAPES
    if os.environ.get("FASTSMCE_BENCH_FAST") == "1":
        shapes = ((64, 10), (256, 200))
    rows = csr.run(module, cfg, shapes)
    print(f"\n== {CSR} ==  binary_cross_entropy_with_logits(_with_grad)(logits, target), "
          f"{csr.PER_ROW} positives a row as CSR (int32 indices) or dense 0/1; outputs "
          f"allocated by the call; csr/dense = time ratio (1 = as fast)")
    print(csr.render(rows))
    return rows


def run_sampled(module, quick: bool, full: bool = True) -> dict | None:
    """Time the sampled-softmax step (fastsmce.bench.sampled) and return its medians."""
    if not hasattr(module, SAMPLED_FUNCTION):
        print(f"\n{SAMPLED}: not in this fastsmce build", file=sys.stderr)
        return None
    from . import sampled

    fast = os.environ.get("FASTSMCE_BENCH_FAST") == "1"
    args = list(SAMPLED_QUICK if quick or fast else SAMPLED_FULL)
    if not (quick or fast or full):     # the default run: the same problem, shorter timing
        args += DEFAULT_RUN_TIMING + ["--rounds", "3", "--full-batch", "1"]
    if fast:
        args = ["--batch", "32", "--dim", "16", "--classes", "5000", "--sampled", "256",
                "--time", "0.05", "--no-tf", "--full-batch", "4"]
    print(f"\n== {SAMPLED} ==  fastsmce.sampled_softmax_loss_with_grad: forward + backward of "
          f"one training step")
    med = sampled.main(args)
    own = med.pop("fastsmce", {})
    return {"problem": args, "seconds": med, "fastsmce_seconds_same_group": own}


def run_linear(module, quick: bool, full: bool = True) -> list | None:
    """Time the fused linear + cross-entropy (fastsmce.bench.linear) and return its figures."""
    if not hasattr(module, LINEAR_FUNCTION):
        print(f"\n{LINEAR}: not in this fastsmce build", file=sys.stderr)
        return None
    from . import linear

    print(f"\n== {LINEAR} ==  fastsmce.linear_cross_entropy_with_grad: loss + d input + d weight")
    args = [] if full and not quick else ["--quick"]
    if not (quick or full):             # the default run: the quick problem, shorter timing
        args += DEFAULT_RUN_TIMING
    if os.environ.get("FASTSMCE_BENCH_FAST") == "1":
        args = ["--shapes", "64,32,1000", "--time", "0.05", "--no-memory"]
    return linear.main(args)


def run_torch(quick: bool, full: bool = True) -> dict | None:
    """Time fastsmce.torch against torch (fastsmce.bench.torch) and return its figures."""
    if not _have_torch():
        print(f"\n{TORCH}: PyTorch is not installed", file=sys.stderr)
        return None
    from . import torch as torch_bench

    print(f"\n== {TORCH} ==  fastsmce.torch against torch's own functions")
    args = ["--time", "0.1", "--sampled", "128,64,100000,1024"] if quick else \
        [] if full else ["--time", "0.2"]
    if os.environ.get("FASTSMCE_BENCH_FAST") == "1":
        args = ["--shape", "64x50", "--time", "0.01", "--threads", "1",
                "--sampled", "16,8,500,32"]
    return torch_bench.main(args)


def choose_ops(text: str | None, module) -> list:
    """The requested ops (all available by default); unavailable ones are
    dropped with a note on stderr."""
    if text is None:
        return available_ops(module)
    specs = [get_op(name) for name in parse_list(text)]
    missing = [s.name for s in specs if not hasattr(module, s.function)]
    if missing:
        print(f"fastsmce.bench: skipping {', '.join(missing)}: not in this fastsmce build",
              file=sys.stderr)
    return [s for s in specs if hasattr(module, s.function)]


def main(argv: list[str] | None = None, module=fastsmce) -> int:
    t0 = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print(list_ops(module))
        return 0
    ops_text, steps = split_steps(args.ops)
    try:
        specs = choose_ops(ops_text, module) if ops_text != "" else []
        cases = select_cases([s.name for s in specs], parse_shapes(args.shapes),
                             parse_dtypes(args.dtypes), args.quick, args.full) if specs else []
    except ValueError as exc:
        parser.error(str(exc))
    if not cases and not steps:
        parser.error("no cases selected")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")

    threads = args.threads if args.threads is not None else module.get_num_threads()
    set_threads(module, threads)
    cfg = TimingConfig.for_run(args.quick, args.time_per_case, args.min_time, args.full)
    info = machine_info(module, threads, copy_hook(module)[0])
    by_name = {s.name: s for s in specs}

    sections = {"start": time.perf_counter() - t0}     # wall seconds of each part of the run
    results = []
    bar = progress_bar(len(cases), enabled=not args.no_progress)
    try:
        for case in cases:
            bar.set_postfix_str(case.label)
            t_case = time.perf_counter()
            results.append(run_case(by_name[case.op], case, module, threads, cfg, args.seed))
            results[-1]["wall_seconds"] = time.perf_counter() - t_case
            bar.update(1)
    finally:
        bar.close()
    sections["cases"] = sum(r["wall_seconds"] for r in results)

    if results:
        print(render_report(info, cfg, results))
    extra = {}
    for step, run_step in ((CSR, lambda: run_csr(module, cfg)),
                           (SAMPLED, lambda: run_sampled(module, args.quick, args.full)),
                           (LINEAR, lambda: run_linear(module, args.quick, args.full)),
                           (TORCH, lambda: run_torch(args.quick, args.full))):
        if step in steps and not args.shapes:
            t_step = time.perf_counter()
            extra[step] = run_step()
            sections[step] = time.perf_counter() - t_step
    extra["section_seconds"] = sections
    if args.json:
        extra["wall_seconds"] = time.perf_counter() - t0
        write_json(args.json, info, cfg, results, extra)
        print(f"\nwrote {args.json}")
    if args.plot:
        if write_plot(args.plot, info, results):
            print(f"wrote {args.plot}")
        else:
            print("\n--plot: matplotlib is not installed, no plot drawn "
                  "(pip install matplotlib); everything else was written", file=sys.stderr)
    print(f"\nwall time of this run: {time.perf_counter() - t0:.0f} s ("
          + ", ".join(f"{k} {v:.0f} s" for k, v in sections.items()) + ")")
    slowest = sorted(results, key=lambda r: -r["wall_seconds"])[:5]
    if slowest:
        print("slowest cases: " + ", ".join(f"{r['op']} {'x'.join(map(str, r['shape']))} "
                                            f"{r['dtype']} {r['wall_seconds']:.1f} s"
                                            for r in slowest))
    bad = failed_cases(results)
    if bad:
        print(f"\nfastsmce gave a wrong answer or an error in {len(bad)} case(s): "
              + ", ".join(f"{r['op']} {'x'.join(map(str, r['shape']))} {r['dtype']}"
                          for r in bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
