import os
import sys

import numpy as np
import pytest

# tests/ holds helper modules (reference.py, _cases.py, _simd_check.py) imported by name; make
# that work whatever pytest's import mode is.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import fastsmce  # noqa: E402


def pytest_configure(config):
    # also declared in pyproject.toml; repeated so the suite runs under any config
    for line in ("slow: long-running test (run on demand)",
                 "threads: OpenMP thread control / determinism across thread counts",
                 "simd: forces each SIMD path (FASTSMCE_SIMD) in a subprocess",
                 "torch: parity test against PyTorch (skipped when torch is not installed)"):
        config.addinivalue_line("markers", line)


@pytest.fixture(autouse=True)
def _restore_default_threads():
    """Every test starts and ends with fastsmce's default thread count."""
    fastsmce.set_num_threads(None)
    yield
    fastsmce.set_num_threads(None)


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)
