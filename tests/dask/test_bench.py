"""python -m fastsmce.bench.dask: both candidates agree, at a tiny size on the test cluster."""

import pytest

pytest.importorskip("dask.array")

from fastsmce.bench import dask as bench


def test_bench_candidates_agree(client, capsys):
    results = bench.run(16, 300, 8, 70, ["logsumexp", "cross_entropy"], 1, client)
    assert {(r["op"], r["candidate"]) for r in results} == {
        (op, c) for op in ("logsumexp", "cross_entropy") for c in ("fastsmce.dask", "plain dask")
    } | {("floor", "generate + sum")}
    assert all(r["max_rel_diff"] < 1e-5 and r["seconds"] > 0 for r in results)
    bench.report(results, 16, 300)
    out = capsys.readouterr().out
    assert "speed-up" in out and "logsumexp: plain dask / floor = " in out
