"""import fastsmce (and its benchmark runner) never imports torch; fastsmce.torch does."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

import fastsmce

CHECK = """
import sys
import fastsmce, fastsmce.special, fastsmce.bench, fastsmce.bench.__main__
assert "torch" not in sys.modules, "import fastsmce imported torch"
import fastsmce.torch
assert "torch" in sys.modules
print("ok")
"""


def test_import_fastsmce_does_not_import_torch(fst):
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_public_names(fst):
    for name in fst.__all__:
        assert callable(getattr(fst, name)), name
    assert {"softmax", "log_softmax", "logsumexp", "cross_entropy",
            "binary_cross_entropy_with_logits", "sigmoid_focal_loss", "linear_cross_entropy",
            "sampled_softmax_loss", "CrossEntropyLoss", "BCEWithLogitsLoss",
            "LinearCrossEntropyLoss", "SampledSoftmaxLoss"} == set(fst.__all__)
