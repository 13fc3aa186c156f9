"""Every benchmark case (op x shape x dtype) for fastsmce, each peer and the copy
baseline, grouped per case so pytest-benchmark's tables and --benchmark-compare
line them up.  Cases, inputs, peers and checks come from ``fastsmce.bench``."""

import gc

import numpy as np
import pytest

try:
    import pytest_benchmark  # noqa: F401
except ImportError:
    pytest.skip("pytest-benchmark is not installed", allow_module_level=True)
try:
    import fastsmce
    from fastsmce import bench
except ImportError as exc:
    pytest.skip(f"fastsmce is not built/installed ({exc})", allow_module_level=True)

COPY = "copy"


def _selected_cases(config):
    ops = [spec.name for spec in bench.available_ops(fastsmce)]
    wanted = bench.parse_list(config.getoption("--fastsmce-ops"))
    if wanted is not None:
        ops = [op for op in ops if op in wanted]
    return bench.select_cases(
        ops,
        bench.parse_shapes(config.getoption("--fastsmce-shapes")),
        bench.parse_dtypes(config.getoption("--fastsmce-dtypes")),
        quick=config.getoption("--fastsmce-quick"),
    )


def _params(config):
    """(case, candidate) pairs, case-major (so inputs are made once per case);
    peers without the op are left out, peers not installed are skipped."""
    for case in _selected_cases(config):
        spec = bench.get_op(case.op)
        for name, factory in bench.candidate_factories(spec, fastsmce).items():
            if factory == "n/a":
                continue
            missing = isinstance(factory, str)
            marks = [pytest.mark.skip(reason=f"{name} is {factory}")] if missing else []
            yield pytest.param(case, name, marks=marks,
                               id=f"{case.op}-{case.shape_str}-{case.dtype}-{name}")
        yield pytest.param(case, COPY, id=f"{case.op}-{case.shape_str}-{case.dtype}-{COPY}")


def pytest_generate_tests(metafunc):
    if {"bench_case", "candidate"} <= set(metafunc.fixturenames):
        metafunc.parametrize("bench_case,candidate", list(_params(metafunc.config)))


@pytest.fixture(scope="module", autouse=True)
def threads(pytestconfig):
    n = pytestconfig.getoption("--fastsmce-threads") or fastsmce.get_num_threads()
    bench.set_threads(fastsmce, n)
    yield n
    fastsmce.set_num_threads(None)


_current = {}  # one case's inputs and float64 reference at a time (big cases are 400 MB)


def _case_data(spec, case):
    if _current.get("case") != case:
        _current.clear()
        gc.collect()
        args = spec.inputs(case.shape, case.dtype, np.random.default_rng(0))
        _current.update(case=case, args=args, ref=bench.float64_reference(spec, args))
    return _current["args"], _current["ref"]


def test_op(benchmark, bench_case, candidate, threads):
    spec = bench.get_op(bench_case.op)
    args, ref = _case_data(spec, bench_case)
    if candidate == COPY:
        fn = bench.make_copy(fastsmce, args[0])
    else:
        fn = bench.candidate_factories(spec, fastsmce)[candidate](args)
        err = bench.relative_error(bench.to_numpy(fn()), ref)
        assert err <= bench.TOLERANCE[bench_case.dtype], \
            f"{candidate} gives a wrong {bench_case.label}: relative error {err:.3g}"
    benchmark.group = bench_case.label
    benchmark.extra_info.update(op=bench_case.op, shape=list(bench_case.shape),
                                dtype=bench_case.dtype, candidate=candidate, threads=threads,
                                bytes=2 * args[0].nbytes if candidate == COPY
                                else spec.bytes_moved(args))
    benchmark(fn)
