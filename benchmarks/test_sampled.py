"""pytest-benchmark cases of a sampled-softmax step (the cases of
``python -m fastsmce.bench.sampled``): fastsmce forward + backward, its three
GEMMs alone, TensorFlow when importable, the full softmax on a slice of the batch
(its extra_info says the factor to scale it by).  Smaller than the runner's
default (C = 200,000) so the suite stays quick; --fastsmce-quick shrinks it more."""

import gc

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed")
fastsmce = pytest.importorskip("fastsmce", reason="fastsmce is not built/installed")
sampled = pytest.importorskip("fastsmce.bench.sampled")

CANDIDATES = ("fastsmce", "gemms", "tensorflow", "full", "sampler")


@pytest.fixture(scope="module")
def problem(pytestconfig):
    quick = pytestconfig.getoption("--fastsmce-quick")
    N, D, C, S = (128, 64, 20_000, 1024) if quick else (512, 256, 200_000, 8192)
    W, b, X, lab, sv = sampled.make_problem(N, D, C, S, "float32")
    cands = sampled.candidates(W, b, X, lab, sv, full_batch=16)
    yield (N, D, C, S), cands
    del cands
    gc.collect()


@pytest.mark.parametrize("candidate", CANDIDATES)
def test_sampled_softmax_step(benchmark, problem, candidate):
    (N, D, C, S), cands = problem
    if candidate not in cands:
        pytest.skip(f"{candidate} is not installed")
    fn, want, scale = cands[candidate]
    if want is not None:
        got = fn()
        got = float(got[0]) if isinstance(got, tuple) else float(got)
        assert np.isclose(got, want, rtol=1e-4), f"{candidate}: loss {got}, fastsmce {want}"
    benchmark.group = f"sampled_softmax step N={N} D={D} C={C} S={S} float32"
    benchmark.extra_info.update(candidate=candidate, time_scale=scale,
                                threads=fastsmce.get_num_threads())
    benchmark(fn)
