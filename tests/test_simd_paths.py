"""Every SIMD path, forced with FASTSMCE_SIMD in a subprocess, meets the accuracy bounds and is
thread-count deterministic; bad or unsupported requests fall back to the best path with a
RuntimeWarning."""

import json
import os
import subprocess
import sys

import pytest

import fastsmce

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "_simd_check.py")
RANK = {"scalar": 0, "avx2": 1, "avx512": 2}

pytestmark = pytest.mark.simd


def _run(simd, *args, timeout=300):
    env = dict(os.environ)
    env.pop("FASTSMCE_SIMD", None)
    if simd is not None:
        env["FASTSMCE_SIMD"] = simd
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_root] + [p for p in
                                                      env.get("PYTHONPATH", "").split(os.pathsep)
                                                      if p])
    proc = subprocess.run([sys.executable, CHECK, *args], env=env, capture_output=True,
                          text=True, timeout=timeout)
    cfg = None
    for line in proc.stdout.splitlines():
        if line.startswith("CONFIG "):
            cfg = json.loads(line[len("CONFIG "):])
            break
    return proc, cfg


def _best():
    cfg = fastsmce.show_config(mode="dicts")
    usable = set(cfg["simd_supported"]) & set(cfg["simd_compiled"])
    return max(usable, key=RANK.__getitem__)


@pytest.mark.parametrize("path", ["scalar", "avx2", "avx512"])
def test_forced_simd_path_meets_accuracy_bounds(path):
    cfg = fastsmce.show_config(mode="dicts")
    if path not in cfg["simd_compiled"]:
        pytest.skip(f"{path} not compiled into this build")
    if path not in cfg["simd_supported"]:
        pytest.skip(f"CPU lacks {path}")
    proc, sub = _run(path, path)
    assert sub is not None, proc.stdout + proc.stderr
    assert sub["simd"] == path
    assert not [w for w in sub["import_warnings"] if w.startswith("RuntimeWarning")], sub
    assert proc.returncode == 0, f"path {path}:\n{proc.stdout}\n{proc.stderr}"


def test_default_path_is_the_best_available():
    proc, sub = _run(None, "", "--config-only")
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == _best()
    assert sub["import_warnings"] == [] or not any(
        w.startswith("RuntimeWarning") for w in sub["import_warnings"])


@pytest.mark.parametrize("path", ["avx2", "avx512"])
def test_unsupported_simd_request_falls_back_with_runtime_warning(path):
    cfg = fastsmce.show_config(mode="dicts")
    if path in cfg["simd_supported"] and path in cfg["simd_compiled"]:
        pytest.skip(f"this CPU and build run {path}: nothing to fall back from")
    proc, sub = _run(path, "", "--config-only")
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == _best()
    assert any(w.startswith("RuntimeWarning") and path in w for w in sub["import_warnings"]), sub


@pytest.mark.parametrize("value", ["bogus", "sse9", "AVX3"])
def test_bogus_simd_request_warns_and_uses_best_path(value):
    proc, sub = _run(value, "", "--config-only")
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == _best()
    warns = [w for w in sub["import_warnings"] if w.startswith("RuntimeWarning")]
    assert warns and any("FASTSMCE_SIMD" in w or value.lower() in w.lower() for w in warns), sub


def test_forcing_scalar_changes_the_active_path():
    """The env var is really read: scalar is always supported and differs from the best path
    on any x86-64 CPU with AVX2."""
    if _best() == "scalar":
        pytest.skip("the best path is scalar already")
    proc, sub = _run("scalar", "", "--config-only")
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == "scalar"
