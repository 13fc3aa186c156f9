"""python -m fastsmce.bench.torch (and --ops torch of the main runner) run, check every
candidate against torch and report every case.  Timings are never asserted."""

import pytest

torch = pytest.importorskip("torch")


def test_torch_bench_runs_small(fst, capsys, monkeypatch):
    from fastsmce.bench import __main__ as runner

    monkeypatch.setenv("FASTSMCE_BENCH_FAST", "1")
    out = runner.run_torch(quick=True)
    text = capsys.readouterr().out
    assert "== torch ==" in text and "torch/fastsmce.torch" in text
    names = set(out)
    assert {"cross_entropy 64x50 fwd+bwd", "binary_cross_entropy_with_logits 64x50 fwd+bwd",
            "softmax 64x10", "softmax 64x10 fwd+bwd",
            "SampledSoftmaxLoss N=16 D=8 C=500 S=32 step"} == names
    for r in out.values():
        assert {"fastsmce.torch", r["reference"]} <= set(r["seconds"])
        assert r["speed_vs_reference"] > 0
    assert "custom op" in out["softmax 64x10"]["seconds"]


def test_torch_is_a_step_of_the_main_runner(fst):
    from fastsmce.bench import __main__ as runner

    assert runner.split_steps("torch,softmax") == ("softmax", {"torch"})
    assert "torch" in runner.split_steps(None)[1]
    assert "fastsmce.bench.torch" in runner.list_ops(__import__("fastsmce"))
