"""Suite-wide set-up.

Layout: one directory per operation family (softmax/, xent/, binary/ for sigmoid, BCE and
focal, sampled/ for sampled softmax and NCE, samplers/), one file per concern inside it
(test_values, test_grad, test_layouts, test_special_values, test_errors, test_threads,
test_parity, test_simd_paths, ...), and common/ for what spans every function (config,
SIMD dispatch, thread control and safety, leaks, large arrays, the bad-input table, fuzz
regressions, the benchmark).  Shared code: helpers.py and the references in reference/, both
importable by bare name thanks to the sys.path insert below, whatever pytest's import mode
(pyproject.toml sets importlib: test modules never import each other).

Peers: a test that needs PyTorch takes the ``torch`` fixture and one that needs TensorFlow the
``tf`` fixture; both skip when the package is not installed, and collection marks every test
that uses them ``torch`` / ``tensorflow`` (``-m "not torch"`` deselects them).
"""

import os
import sys

import numpy as np
import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import fastsmce  # noqa: E402

MARKERS = {
    "slow": "long-running test (large arrays, many hypothesis examples); deselect with -m 'not slow'",
    "threads": "checks OpenMP thread control / determinism across thread counts",
    "simd": "forces each SIMD path (FASTSMCE_SIMD) in a subprocess",
    "torch": "parity test against PyTorch (skipped when torch is not installed)",
    "tensorflow": "parity test against TensorFlow (skipped when tensorflow is not installed)",
    "dask": "fastsmce.dask on a dask.distributed LocalCluster (skipped when dask is not installed)",
}
# fixture -> marker: a test using the fixture needs that peer package
PEER_FIXTURES = {"torch": "torch", "tf": "tensorflow"}


def pytest_configure(config):
    # also declared in pyproject.toml; repeated so the suite runs under any config
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collection_modifyitems(config, items):
    """mark every test that uses a peer fixture, so `-m` selects peer tests reliably"""
    for item in items:
        for fixture, marker in PEER_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()) and \
                    item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return pytest.importorskip("tensorflow")


@pytest.fixture(autouse=True)
def _restore_default_threads():
    """Every test starts and ends with fastsmce's default thread count."""
    fastsmce.set_num_threads(None)
    yield
    fastsmce.set_num_threads(None)


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)
