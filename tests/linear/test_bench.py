"""python -m fastsmce.bench.linear at tiny sizes: every flag runs, reports, and checks the
candidates' losses (timings are not asserted: the machines are shared)."""

import numpy as np

from fastsmce.bench import linear


def test_paths_run_and_report(capsys):
    out = linear.main(["--shapes", "64,8,300", "--time", "0.05", "--paths", "--no-torch",
                       "--no-memory"])
    text = capsys.readouterr().out
    assert set(out[0]["seconds"]) == {"fastsmce", "fastsmce_rows", "fastsmce_blocks", "floor"}
    assert "fastsmce_blocks / floor" in text and "fastsmce / floor" in text


def test_default_run_timing_runs(capsys):
    """the main job's default run passes --time 0.2 --slow-call 0.3 (--quick's problem):
    with --slow-call 0 every peer is timed once, fastsmce and the floor in every round"""
    out = linear.main(["--shapes", "64,8,300", "--time", "0.01", "--slow-call", "0",
                       "--no-memory"])
    assert {"fastsmce", "floor"} <= set(out[0]["seconds"])
    assert all(t > 0 for t in out[0]["seconds"].values())
    assert "fastsmce / floor" in capsys.readouterr().out


def test_filter_reports_skips_and_errors(capsys):
    out = linear.main(["--shapes", "256,16,2000", "--time", "0.05", "--filter", "1e-4"])
    r = out[0]
    assert r["tiles"] > 0 and 0 <= r["skipped"] <= r["tiles"]
    assert abs(r["loss_exact"] - r["loss_filtered"]) <= 1e-5 * abs(r["loss_exact"])   # exact
    assert all(0 <= e < 1 for e in r["relative_error"].values())
    assert "tiles skipped" in capsys.readouterr().out


def test_peaked_problem_is_peaked():
    X, W, b, t = linear.make_peaked_problem(64, 32, 500, "float64")
    Z = X @ W.T + b
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    assert np.median(P[np.arange(64), t]) > 0.5
    assert np.mean(P < 1e-4) > 0.5
