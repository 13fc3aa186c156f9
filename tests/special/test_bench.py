"""python -m fastsmce.bench.special runs, checks every candidate against scipy.special and
reports every case with its ratio (and the target where the issue sets one).  Timings are
never asserted."""

import pytest

pytest.importorskip("scipy.special")


def test_special_bench_runs_small(capsys, monkeypatch):
    from fastsmce.bench import special

    monkeypatch.setenv("FASTSMCE_BENCH_FAST", "1")
    out = special.main(["--shape", "64x50", "--threads", "1", "--time", "0.01"])
    text = capsys.readouterr().out
    assert "scipy.special/fastsmce.special" in text
    names = {f"{f} 64x50 axis={a}" for f in ("softmax", "log_softmax", "logsumexp")
             for a in ("-1", "None")} | {"expit 64x50", "log_expit 64x50"}
    assert set(out) == names
    for name, r in out.items():
        assert set(r["seconds"]) == {"fastsmce.special", "scipy.special", "fastsmce"}
        assert r["speed_vs_reference"] > 0
        assert r["target"] == (5.0 if name.split()[0] != "log_expit" else None)
        assert name in text
    assert "(target >= 5x)" in text
