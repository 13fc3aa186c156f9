"""The benchmark runner (``python -m fastsmce.bench``): it runs, writes valid
JSON, and every candidate's answer checks out.  Timings are never asserted."""

import json
import math
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import fastsmce
from fastsmce import bench
from fastsmce.bench.report import format_time

PEER_STATUSES = {"OK", "not installed", "n/a"}


def run_bench(*args, timeout=300):
    """``python -m fastsmce.bench ARGS`` with the tiny FASTSMCE_BENCH_FAST budget,
    finding the same fastsmce as this test process."""
    env = dict(os.environ, FASTSMCE_BENCH_FAST="1")
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "fastsmce.bench", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_quick_run_writes_valid_json_with_all_checks_ok(tmp_path):
    path = tmp_path / "bench.json"
    proc = run_bench("--quick", "--json", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(path.read_text())

    assert doc["machine"]["threads"] >= 1
    assert "simd" in doc["machine"]["fastsmce"]
    results = doc["results"]
    ops = {r["op"] for r in results}
    assert {"softmax", "log_softmax", "logsumexp"} <= ops
    assert len(results) == len(ops) * len(bench.QUICK_CASES)
    for r in results:
        cands = r["candidates"]
        assert cands["fastsmce"]["check"] == "OK", r
        assert all(c["check"] in PEER_STATUSES for c in cands.values()), r
        for name, c in cands.items():
            if c["check"] == "OK":
                assert isinstance(c["time"], float) and c["times"], (name, r)
        assert isinstance(r["roof"], float)
        # the allocating call and out= (where the function has one); the references: a read
        # for reductions, an allocating copy and a copy into an existing array otherwise
        out = cands["fastsmce_out"]
        assert out["check"] == ("n/a" if bench.get_op(r["op"]).fastsmce_out is None else "OK"), r
        if r["reduction"]:
            assert "read" in cands and "copy" not in cands and r["bytes"] == r["copy_bytes"] \
                or r["bytes"] > r["copy_bytes"], r
        else:
            assert cands["copy"]["time"] > 0 and cands["copy_alloc"]["time"] > 0, r
        if out["check"] == "OK":
            assert isinstance(r["roof_out"], float), r
    assert {r["op"] for r in results if r["reduction"]} \
        == {"logsumexp", "cross_entropy", "binary_cross_entropy_with_logits",
            "bce_sparse_targets"} & ops
    for op in ops:
        assert f"== {op} ==" in proc.stdout
    assert "%roof" in proc.stdout and "%roof out=" in proc.stdout
    # sparse against dense BCE targets, timed in the same run
    rows = doc["bce_csr_vs_dense"]
    assert rows and all(r["ratio_loss"] > 0 and r["ratio_loss_grad"] > 0 for r in rows)
    assert "== bce_csr_vs_dense ==" in proc.stdout
    assert "wall time of this run" in proc.stdout and doc["wall_seconds"] > 0
    # where the time went: each case's wall time, and each part of the run's
    assert all(r["wall_seconds"] > 0 for r in results)
    sections = doc["section_seconds"]
    assert {"start", "cases", "bce_csr_vs_dense", "sampled_softmax"} <= set(sections)
    assert sections["cases"] == pytest.approx(sum(r["wall_seconds"] for r in results))
    assert sum(sections.values()) <= doc["wall_seconds"]
    assert "slowest cases:" in proc.stdout
    # the sampled-softmax training step, checked against its GEMMs and the full softmax
    step = doc["sampled_softmax"]
    assert step["seconds"]["gemms"] > 0 and step["seconds"]["full"] > 0
    assert "== sampled_softmax ==" in proc.stdout


def test_plot_is_drawn_or_explained(tmp_path):
    png = tmp_path / "bench.png"
    proc = run_bench("--ops", "softmax", "--shapes", "64x10", "--dtypes", "float32",
                     "--no-progress", "--plot", str(png))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in proc.stderr
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_exit_2():
    for args in (["--shapes", "12by3"], ["--ops", "nope"], ["--dtypes", "float16"]):
        proc = run_bench(*args, "--no-progress", timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)


def test_case_selection():
    assert [(c.shape, c.dtype) for c in bench.select_cases(["softmax"], quick=True)] \
        == list(bench.QUICK_CASES)
    full = bench.select_cases(["softmax", "logsumexp"])
    assert len(full) == 2 * len(bench.SHAPES) * len(bench.DTYPES)
    picked = bench.select_cases(["softmax"], bench.parse_shapes("4096x1000, 64x10"), ["float64"])
    assert [(c.shape, c.dtype) for c in picked] \
        == [((4096, 1000), "float64"), ((64, 10), "float64")]
    with pytest.raises(ValueError):
        bench.parse_shapes("4096x")
    # the default run of the main job: the headline cases; --full: every shape and dtype
    headline = bench.select_cases(["softmax"], full=False)
    assert [(c.shape, c.dtype) for c in headline] == list(bench.HEADLINE_CASES)
    assert {c.shape for c in headline} == {(64, 10), (4096, 1000), (1024, 50257)}
    assert [c.dtype for c in bench.select_cases(["softmax"], [(8, 4)], full=False)] == ["float32"]
    assert [c.dtype for c in bench.select_cases(["softmax"], full=False, dtypes=["float64"])] \
        == ["float64"] * len(bench.HEADLINE_CASES)


def test_main_job_modes_and_filters():
    """--full and --quick exclude each other; --ops keeps the steps it names only"""
    from fastsmce.bench.__main__ import build_parser, split_steps

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--quick", "--full"])
    assert build_parser().parse_args(["--full"]).full
    assert split_steps("softmax,bce_csr_vs_dense") == ("softmax", {"bce_csr_vs_dense"})
    # the PyTorch adapter's table joins the default run when torch is installed
    assert split_steps(None)[1] - {"torch"} == {"sampled_softmax", "linear_cross_entropy",
                                                 "bce_csr_vs_dense"}
    cfg = bench.TimingConfig
    assert cfg.for_run(False, full=False).budget < cfg.for_run(False, full=True).budget


def test_slow_candidates_are_timed_in_few_rounds():
    """a candidate whose one call takes slow_call seconds or more is timed in slow_repeats
    rounds (after its one calibration call, or none when a check's call lasted a block),
    the others and the kept ones (fastsmce) in min_repeats or more; without slow_call (the
    full run) every candidate alike.  The default and quick runs time a candidate slower
    than 0.3 s a call once, the full run as often as the rest."""
    import time
    from dataclasses import replace

    calls = {"fast": 0, "slow": 0}

    def fast():
        calls["fast"] += 1

    def slow():
        calls["slow"] += 1
        time.sleep(0.02)

    cfg = bench.TimingConfig(block_time=1e-4, budget=0.0, min_repeats=5, slow_call=0.01,
                             slow_repeats=2)
    t = bench.time_interleaved({"fast": fast, "slow": slow}, cfg)
    assert len(t["slow"].samples) == 2 and len(t["fast"].samples) == 5
    assert calls["slow"] == 1 + 2 and t["slow"].calls_per_block == 1
    assert len(bench.time_interleaved({"slow": slow}, cfg)["slow"].samples) == 2
    # a call already made (the check's) that was slow: warm-up and calibration at once
    calls["slow"] = 0
    t = bench.time_interleaved({"fast": fast, "slow": slow}, cfg, {"fast": 1e-6, "slow": 0.02})
    assert calls["slow"] == 2 and len(t["slow"].samples) == 2 and len(t["fast"].samples) == 5
    every = bench.time_interleaved({"fast": fast, "slow": slow}, replace(cfg, slow_call=None))
    assert len(every["slow"].samples) == len(every["fast"].samples) == 5
    kept = bench.time_interleaved({"fast": fast, "slow": slow}, cfg, {"slow": 0.02}, keep=["slow"])
    assert len(kept["slow"].samples) == 5
    # slow needs both calls slow: one slow-looking round (a spike) does not cut it short
    t = bench.time_interleaved({"fast": fast, "slow": slow}, cfg, {"slow": 0.005})
    assert len(t["slow"].samples) == 5
    # a slow first call (one-time costs: tracing) of a fast callable: timed as the rest
    t = bench.time_interleaved({"fast": fast}, cfg, {"fast": 0.5})
    assert len(t["fast"].samples) >= 4 and t["fast"].calls_per_block > 1
    t = bench.time_interleaved({"fast": fast}, replace(cfg, slow_call=0.0), {"fast": 0.5})
    assert t["fast"].samples        # recalibrated, so never cut short before its samples
    assert bench.TimingConfig.for_run(False, full=False).slow_call == 0.3
    assert bench.TimingConfig.for_run(False, full=False).slow_repeats == 1
    assert bench.TimingConfig.for_run(False, full=False).min_repeats == 3
    assert bench.TimingConfig.for_run(False, full=True).min_repeats == 5
    assert bench.TimingConfig.for_run(True).slow_call == 0.3
    assert bench.TimingConfig.for_run(False, full=True).slow_call is None


def test_read_reference_reads_every_word():
    """fastsmce._core._read: the read-bandwidth reference of the reductions"""
    from fastsmce import _core

    x = np.arange(1 << 18, dtype=np.uint64)
    want = np.bitwise_xor.reduce(x)
    for n in (1, 2):
        fastsmce.set_num_threads(n)
        assert _core._read(x) == want
        assert _core._read(x[:5]) == np.bitwise_xor.reduce(x[:5])
    fastsmce.set_num_threads(None)
    assert _core._read(np.zeros(0)) == 0
    with pytest.raises(ValueError):
        _core._read(np.zeros(3, np.float32))
    with pytest.raises(ValueError):
        _core._read(np.zeros((4, 4))[:, ::2])


def test_registry_follows_the_module():
    only_softmax = types.SimpleNamespace(softmax=fastsmce.softmax)
    assert [s.name for s in bench.available_ops(only_softmax)] == ["softmax"]
    have = {s.name for s in bench.available_ops(fastsmce)}
    assert {"softmax", "log_softmax", "logsumexp"} <= have
    assert have == {s.name for s in bench.REGISTRY if hasattr(fastsmce, s.function)}


def _fake_fastsmce(softmax):
    return types.SimpleNamespace(softmax=softmax, get_num_threads=lambda: 1,
                                 set_num_threads=lambda n: None)


@pytest.mark.parametrize("softmax, status", [
    (lambda x, out=None: 1.01 * bench.ops.np_softmax(x), "WRONG"),
    (lambda x, out=None: np.empty_like(x)[:, :1], "WRONG"),  # wrong shape
    (lambda x, out=None: 1 / 0, "ERROR"),
])
def test_wrong_answers_are_reported_not_timed(softmax, status):
    fake = _fake_fastsmce(softmax)
    cfg = bench.TimingConfig(block_time=1e-5, budget=0.0, min_repeats=1)
    case = bench.Case("softmax", (8, 5), "float32")
    r = bench.run_case(bench.get_op("softmax"), case, fake, 1, cfg)
    fs = r["candidates"]["fastsmce"]
    assert fs["check"] == status and "time" not in fs
    assert r["candidates"]["fastsmce_out"]["check"] == status
    assert r["roof"] is None and set(r["speedup"].values()) == {None}
    assert r["candidates"]["numpy"]["check"] == "OK"
    assert r["candidates"]["copy"]["time"] > 0  # numpy.copyto fallback without _core._copy
    assert r["candidates"]["copy_alloc"]["time"] > 0 and r["roof_out"] is None


@pytest.mark.parametrize("spec", [s for s in bench.REGISTRY if s.by_rows], ids=lambda s: s.name)
def test_reference_by_blocks_of_rows_is_the_whole_reference(spec):
    """float64_reference on blocks of rows (a large input) gives the whole arrays' answer:
    rows joined, mean losses and their gradients weighted by the blocks' shares"""
    args = spec.inputs((37, 11), "float32", np.random.default_rng(5))
    whole = spec.reference(*bench.as_float64(args))
    blocks = bench.float64_reference(spec, args, block=11 * 5)     # 8 blocks, the last of 2 rows
    assert bench.relative_error(blocks, whole) < 1e-14     # also: the same structure, shapes
    small = bench.float64_reference(spec, args)                   # under a block: whole
    assert bench.relative_error(small, whole) == 0


def test_relative_error():
    ref = (np.float64(2.0), np.ones(3))
    assert bench.relative_error((2.0, np.ones(3)), ref) == 0.0
    assert bench.relative_error((2.0, np.ones(4)), ref) == math.inf
    assert bench.relative_error(np.ones(3), ref) == math.inf
    assert bench.relative_error(np.array([1.0, np.nan]), np.ones(2)) == math.inf
    assert bench.relative_error(np.array([1.0, 1.5]), np.array([1.0, 2.0])) == 0.25


def test_format_time():
    assert format_time(1.234e-6) == "1.23 us"
    assert format_time(0.0456) == "45.6 ms"
    assert format_time(250e-9) == "250 ns"
    assert format_time(3.0) == "3.00 s"


# ---- the benchmark of a sampled-softmax step runs and checks its candidates ----

def test_sampled_bench_runs_small_and_reports_every_candidate(capsys):
    from fastsmce.bench import sampled

    med = sampled.main(["--batch", "16", "--dim", "8", "--classes", "500", "--sampled", "32",
                        "--full-batch", "4", "--no-tf", "--time", "0.01"])
    out = capsys.readouterr().out
    assert "fastsmce / gemms" in out and "full / fastsmce" in out
    assert {"gemms", "full", "sampler"} <= set(med)
    # the main job's default run: fewer rounds, a peer slower than --slow-call timed once
    med = sampled.main(["--batch", "16", "--dim", "8", "--classes", "500", "--sampled", "32",
                        "--full-batch", "4", "--no-tf", "--time", "0.01", "--rounds", "2",
                        "--slow-call", "0"])
    assert {"gemms", "full", "sampler"} <= set(med) and all(v > 0 for v in med["fastsmce"].values())
