"""The acceptance test of fastsmce.special: SciPy's own tests of softmax, log_softmax,
logsumexp, expit and log_expit (scipy/special/tests/test_logsumexp.py and test_logit.py,
from the installed SciPy) run with those names rebound to fastsmce.special's, in a
subprocess (they need SciPy's conftest).  And: the fast kernels really serve the cases
they should (no silent fall-back to SciPy)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastsmce.special as fsp

pytest.importorskip("scipy")
HERE = os.path.dirname(os.path.abspath(__file__))
SUITES = ["scipy.special.tests.test_logsumexp", "scipy.special.tests.test_logit"]


def test_scipy_own_tests_pass_against_fastsmce_special():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE] + sys.path))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "scipy_patch", "--pyargs", *SUITES],
                         capture_output=True, text=True, env=env, timeout=600, cwd=HERE)
    tail = out.stdout[-3000:] + out.stderr[-2000:]
    if "ModuleNotFoundError" in tail and "scipy.special.tests" in tail:
        pytest.skip("this SciPy was installed without its tests")
    assert out.returncode == 0, tail
    assert " passed" in out.stdout and " failed" not in out.stdout, tail
