"""Thread control: set/get_num_threads, OMP_NUM_THREADS, threadpoolctl's OpenMP limit, and the
default thread count.  Determinism across thread counts is tested per operation
(<op>/test_threads.py) and for every function at once in test_thread_safety.py."""

import os
import subprocess
import sys

import pytest

import fastsmce

OPENMP = fastsmce.show_config(mode="dicts")["openmp"]

pytestmark = pytest.mark.threads


def test_set_num_threads_round_trip():
    default = fastsmce.get_num_threads()
    assert isinstance(default, int) and default >= 1
    fastsmce.set_num_threads(3)
    assert fastsmce.get_num_threads() == 3
    assert fastsmce.show_config(mode="dicts")["num_threads"] == 3
    fastsmce.set_num_threads(1)
    assert fastsmce.get_num_threads() == 1
    fastsmce.set_num_threads(None)
    assert fastsmce.get_num_threads() == default


@pytest.mark.parametrize("bad", [0, -1, -100])
def test_set_num_threads_rejects_values_below_one(bad):
    before = fastsmce.get_num_threads()
    with pytest.raises(ValueError):
        fastsmce.set_num_threads(bad)
    assert fastsmce.get_num_threads() == before


@pytest.mark.parametrize("bad", [1.5, "2", 2.0, [2]])
def test_set_num_threads_rejects_non_integers(bad):
    before = fastsmce.get_num_threads()
    with pytest.raises((TypeError, ValueError)):
        fastsmce.set_num_threads(bad)
    assert fastsmce.get_num_threads() == before


@pytest.mark.skipif(not OPENMP, reason="built without OpenMP")
def test_threadpoolctl_openmp_limit_is_honoured():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]
    if not info:
        pytest.skip("threadpoolctl sees no OpenMP runtime")
    default = fastsmce.get_num_threads()
    with threadpoolctl.threadpool_limits(1, "openmp"):
        assert fastsmce.get_num_threads() == 1
        assert fastsmce.show_config(mode="dicts")["num_threads"] == 1
        fastsmce.set_num_threads(2)         # an explicit setting wins
        assert fastsmce.get_num_threads() == 2
        fastsmce.set_num_threads(None)
        assert fastsmce.get_num_threads() == 1
    assert fastsmce.get_num_threads() == default


@pytest.mark.skipif(not OPENMP, reason="built without OpenMP")
def test_omp_num_threads_sets_the_default():
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([pkg_root, os.environ.get("PYTHONPATH", "")]))
    code = ("import fastsmce; print(fastsmce.get_num_threads()); "
            "fastsmce.set_num_threads(2); print(fastsmce.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "2"]


def test_default_threads_is_openmp_max_or_one():
    cfg = fastsmce.show_config(mode="dicts")
    if not cfg["openmp"]:
        assert fastsmce.get_num_threads() == 1
    else:
        threadpoolctl = pytest.importorskip("threadpoolctl")
        info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]
        if not info:
            pytest.skip("threadpoolctl sees no OpenMP runtime")
        assert fastsmce.get_num_threads() in {i["num_threads"] for i in info}
