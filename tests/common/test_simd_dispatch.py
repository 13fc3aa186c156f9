"""SIMD dispatch, read from FASTSMCE_SIMD in a fresh interpreter (helpers.run_under_simd): the
default is the best path this CPU and build can run; bad or unsupported requests fall back to
it with a RuntimeWarning.  The paths come from the build (show_config), never from a list
here.  Each operation's accuracy on every forced path is in <op>/test_simd_paths.py."""

import pytest

from helpers import best_simd_path, run_under_simd, simd_config, simd_order

pytestmark = pytest.mark.simd

# every path fastsmce knows except scalar (always runnable): the ones a request can fall back from
FALLBACK_CANDIDATES = [p for p in simd_order() if p != "scalar"]


def test_default_path_is_the_best_available():
    proc, sub = run_under_simd(None)
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == best_simd_path()
    assert sub["import_warnings"] == [] or not any(
        w.startswith("RuntimeWarning") for w in sub["import_warnings"])


@pytest.mark.parametrize("path", FALLBACK_CANDIDATES)
def test_unsupported_simd_request_falls_back_with_runtime_warning(path):
    cfg = simd_config()
    if path in cfg["simd_supported"] and path in cfg["simd_compiled"]:
        pytest.skip(f"this CPU and build run {path}: nothing to fall back from")
    proc, sub = run_under_simd(path)
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == best_simd_path()
    assert any(w.startswith("RuntimeWarning") and path in w for w in sub["import_warnings"]), sub


@pytest.mark.parametrize("value", ["bogus", "sse9", "AVX3"])
def test_bogus_simd_request_warns_and_uses_best_path(value):
    proc, sub = run_under_simd(value)
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == best_simd_path()
    warns = [w for w in sub["import_warnings"] if w.startswith("RuntimeWarning")]
    assert warns and any("FASTSMCE_SIMD" in w or value.lower() in w.lower() for w in warns), sub


def test_forcing_scalar_changes_the_active_path():
    """The env var is really read: scalar is always supported and differs from the best path
    on any x86-64 CPU with AVX2."""
    if best_simd_path() == "scalar":
        pytest.skip("the best path is scalar already")
    proc, sub = run_under_simd("scalar")
    assert proc.returncode == 0, proc.stderr
    assert sub["simd"] == "scalar"
