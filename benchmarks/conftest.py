"""pytest-benchmark suite: the same cases as ``python -m fastsmce.bench``.

    pytest benchmarks --benchmark-only                       # every standard case
    pytest benchmarks --benchmark-only --fastsmce-quick      # the --quick subset
    pytest benchmarks --benchmark-only --benchmark-autosave  # save a baseline ...
    pytest benchmarks --benchmark-only --benchmark-compare --benchmark-compare-fail=median:10%

Selection: --fastsmce-ops, --fastsmce-shapes, --fastsmce-dtypes, --fastsmce-threads (as the
runner's --ops/--shapes/--dtypes/--threads).  Not collected by a plain ``python -m pytest``
(pyproject's ``testpaths = ["tests"]``).  Without pytest-benchmark (or without a built
fastsmce) the suite is skipped, not failed.
"""

try:
    import pytest_benchmark  # noqa: F401

    HAVE_PYTEST_BENCHMARK = True
except ImportError:
    HAVE_PYTEST_BENCHMARK = False


def pytest_addoption(parser):
    group = parser.getgroup("fastsmce", "fastsmce benchmark case selection")
    group.addoption("--fastsmce-quick", action="store_true",
                    help="only the cases of `python -m fastsmce.bench --quick`")
    group.addoption("--fastsmce-ops", metavar="LIST", help="comma-separated operations")
    group.addoption("--fastsmce-shapes", metavar="LIST", help="e.g. 4096x1000,64x10")
    group.addoption("--fastsmce-dtypes", metavar="LIST", help="float32, float64 or both")
    group.addoption("--fastsmce-threads", type=int, metavar="N",
                    help="threads for fastsmce and torch (default: fastsmce.get_num_threads())")
    if not HAVE_PYTEST_BENCHMARK:
        # accept pytest-benchmark's usual flags so the run skips instead of failing on them
        bench = parser.getgroup("benchmark", "pytest-benchmark (not installed: options ignored)")
        for flag in ("--benchmark-only", "--benchmark-skip", "--benchmark-autosave",
                     "--benchmark-disable"):
            bench.addoption(flag, action="store_true")
        for flag in ("--benchmark-json", "--benchmark-save", "--benchmark-compare-fail",
                     "--benchmark-min-rounds", "--benchmark-max-time", "--benchmark-sort",
                     "--benchmark-group-by", "--benchmark-columns"):
            bench.addoption(flag, action="store")
        bench.addoption("--benchmark-compare", nargs="?", const="", action="store")
