"""fastsmce.torch's tests: the whole directory is skipped when PyTorch is not installed.

(The directory is not named ``torch``: tests/ is on sys.path (tests/conftest.py), and a
directory of that name would shadow, as a namespace package, the missing PyTorch.)
"""

import importlib.util

import pytest

_spec = importlib.util.find_spec("torch")
if _spec is None or _spec.origin is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def fst(torch):
    """the adapter module (after the ``torch`` fixture, which marks the test ``torch``)"""
    import fastsmce.torch as fst
    return fst
