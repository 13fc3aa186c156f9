"""A few seconds of the fuzz harness (fuzz/fuzz_fastsmce.py) in the normal suite: seeded
random inputs, decoded into valid, invalid and garbage calls of every public function,
checked against the float64 references and the documented exceptions.  The long,
coverage-guided run (atheris, under ASan) is documented in fuzz/README.md."""

import importlib.util
import os

import pytest

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "fuzz",
                       "fuzz_fastsmce.py")


def _harness():
    if not os.path.exists(HARNESS):
        pytest.skip("fuzz/fuzz_fastsmce.py is not in this tree (installed-package test run)")
    spec = importlib.util.spec_from_file_location("fuzz_fastsmce", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_smoke_run_finds_nothing(seed):
    findings = _harness().smoke(150, seed, stop_on_finding=True)
    assert not findings, (f"input {findings[0][0].hex()} "
                          f"(replay: save the bytes and run fuzz/fuzz_fastsmce.py --replay FILE):\n"
                          f"{findings[0][1]}")


def test_decoder_is_deterministic():
    h = _harness()
    d1, d2 = h.Data(b"\x07\xff\x10abc"), h.Data(b"\x07\xff\x10abc")
    got1 = [d1.int(0, 1000), d1.pick("abcdef"), d1.bool(), d1.int(-5, 5), d1.int(0, 3)]
    got2 = [d2.int(0, 1000), d2.pick("abcdef"), d2.bool(), d2.int(-5, 5), d2.int(0, 3)]
    assert got1 == got2
    assert h.Data(b"").int(3, 9) == 3          # past the end: the lowest choice
