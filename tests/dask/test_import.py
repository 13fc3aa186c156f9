"""fastsmce.dask is an extra: importing fastsmce never imports dask."""

import subprocess
import sys

import pytest


def test_import_fastsmce_does_not_import_dask():
    code = ("import sys, fastsmce; fastsmce.softmax([1.0, 2.0]); "
            "assert not any(m == 'dask' or m.startswith('dask.') or m == 'distributed' "
            "for m in sys.modules), sorted(m for m in sys.modules if 'dask' in m)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_module_lists_its_functions():
    pytest.importorskip("dask.array")
    import fastsmce.dask as fd
    assert set(fd.__all__) == {"softmax", "log_softmax", "logsumexp", "cross_entropy",
                               "cross_entropy_with_grad", "linear_cross_entropy",
                               "linear_cross_entropy_with_grad"}
    assert all(callable(getattr(fd, n)) for n in fd.__all__)
