"""fastsmce.dask on a real cluster: a LocalCluster of two worker processes, started and
stopped here (nothing external).  The workers import fastsmce as this process does
(PYTHONPATH is inherited).  Every test here is marked ``dask``; the directory skips
cleanly without dask / distributed."""

import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# (each test module skips itself without dask: pytest.importorskip at its top; this file
# imports neither dask nor distributed outside the fixtures)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/dask/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.dask)


@pytest.fixture(scope="session")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", memory_limit="1GiB") as c:
        yield c


@pytest.fixture(scope="session")
def client(cluster):
    from distributed import Client
    with Client(cluster) as cl:
        yield cl
