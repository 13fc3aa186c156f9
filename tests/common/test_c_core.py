"""The C core on its own: tests/c/test_core.c drives the public C API (csrc/fastsmce*.h, no
Python) on every SIMD path against a long-double reference (tests/c/run.sh builds and runs it).

* native: every path this CPU runs (x86: scalar, avx2, avx512); needs only a C compiler.
* aarch64 under qemu-user: scalar, neon and sve (128 to 2048-bit vectors), and the path fs_init
  picks on SVE and non-SVE CPU models; needs Debian's gcc-aarch64-linux-gnu,
  libc6-dev-arm64-cross and qemu-user (.ci/run installs them).  Skipped without them, unless
  FASTSMCE_REQUIRE_ARM_TESTS=1 (set by .ci/run once it installed them): then it fails.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "tests" / "c" / "run.sh"
SKIPPED = 77  # run.sh: the part asked for cannot run on this machine


def _run(part, timeout):
    if sys.platform == "win32" or shutil.which("bash") is None:
        pytest.skip("tests/c/run.sh needs bash (POSIX)")
    if not (ROOT / "csrc" / "fastsmce.h").exists() or not RUN.exists():
        pytest.skip("the C sources (csrc/, tests/c/) are not next to the tests")
    proc = subprocess.run(["bash", str(RUN), part], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    out = proc.stdout + proc.stderr
    return proc.returncode, out


def _summary(out):
    return "\n".join(line for line in out.splitlines()
                     if line.startswith(("ok ", "FAILED", "SKIP", "NOTE", "built", "==", "  [")))


def test_c_core_native_every_path():
    cc = os.environ.get("CC", "cc").split()[-1]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}) to build tests/c/test_core.c")
    rc, out = _run("native", timeout=1200)
    if rc == SKIPPED:
        pytest.skip(_summary(out) or "run.sh native: nothing to run")
    assert rc == 0, _summary(out)[-8000:]
    assert "native scalar: path scalar" in out


def test_c_core_aarch64_under_qemu():
    missing = [t for t in ("aarch64-linux-gnu-gcc", "qemu-aarch64") if shutil.which(t) is None]
    if missing:
        msg = (f"{' and '.join(missing)} not installed (Debian: apt-get install gcc-aarch64-linux-gnu "
               "libc6-dev-arm64-cross qemu-user)")
        if os.environ.get("FASTSMCE_REQUIRE_ARM_TESTS") == "1":
            pytest.fail("FASTSMCE_REQUIRE_ARM_TESTS=1 but " + msg)
        pytest.skip(msg)
    rc, out = _run("arm", timeout=1800)
    assert rc == 0, _summary(out)[-8000:]
    for needed in ("qemu -cpu max: best path sve", "qemu -cpu max sve: path sve",
                   "qemu -cpu max neon: path neon", "qemu -cpu max,sve=off: best path neon"):
        assert needed in out, _summary(out)[-8000:]
