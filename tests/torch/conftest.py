"""fastsmce.torch's tests: the whole directory is skipped when PyTorch is not installed.

This directory is itself named ``torch`` and tests/ is on sys.path (tests/conftest.py), so
without PyTorch ``import torch`` would find this directory as a namespace package: the check
below looks for a real module (a spec with an origin), not just something importable.
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
