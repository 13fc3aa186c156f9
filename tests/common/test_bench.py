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
    for op in ops:
        assert f"== {op} ==" in proc.stdout
    assert "%roof" in proc.stdout
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
    (lambda x, out=None: np.copyto(out, 1.01 * bench.ops.np_softmax(x)) or out, "WRONG"),
    (lambda x, out=None: out[:, :1], "WRONG"),  # wrong shape
    (lambda x, out=None: 1 / 0, "ERROR"),
])
def test_wrong_answers_are_reported_not_timed(softmax, status):
    fake = _fake_fastsmce(softmax)
    cfg = bench.TimingConfig(block_time=1e-5, budget=0.0, min_repeats=1)
    case = bench.Case("softmax", (8, 5), "float32")
    r = bench.run_case(bench.get_op("softmax"), case, fake, 1, cfg)
    fs = r["candidates"]["fastsmce"]
    assert fs["check"] == status and "time" not in fs
    assert r["roof"] is None and set(r["speedup"].values()) == {None}
    assert r["candidates"]["numpy"]["check"] == "OK"
    assert r["candidates"]["copy"]["time"] > 0  # numpy.copyto fallback without _core._copy


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
