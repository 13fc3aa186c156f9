"""show_config and the public namespace."""

import numpy as np
import pytest

import fastsmce


def test_show_config_dicts_has_documented_keys_and_types():
    cfg = fastsmce.show_config(mode="dicts")
    assert {"version", "simd", "simd_supported", "simd_compiled", "openmp", "num_threads",
            "compiler"} <= set(cfg)
    assert cfg["version"] == fastsmce.__version__
    assert cfg["simd"] in ("scalar", "avx2", "avx512")
    assert cfg["simd"] in cfg["simd_supported"] and cfg["simd"] in cfg["simd_compiled"]
    assert "scalar" in cfg["simd_supported"] and "scalar" in cfg["simd_compiled"]
    assert set(cfg["simd_supported"]) <= {"scalar", "avx2", "avx512"}
    assert isinstance(cfg["openmp"], bool)
    assert isinstance(cfg["num_threads"], int) and cfg["num_threads"] >= 1
    assert cfg["num_threads"] == fastsmce.get_num_threads()
    assert isinstance(cfg["compiler"], str) and cfg["compiler"]


def test_show_config_stdout_prints_the_same_facts(capsys):
    ret = fastsmce.show_config()
    assert ret is None
    text = capsys.readouterr().out
    cfg = fastsmce.show_config(mode="dicts")
    assert cfg["simd"] in text
    assert cfg["version"] in text
    assert str(cfg["num_threads"]) in text


def test_show_config_rejects_unknown_mode():
    with pytest.raises(ValueError):
        fastsmce.show_config(mode="json")


def test_public_namespace():
    for name in ("softmax", "log_softmax", "logsumexp", "softmax_backward",
                 "log_softmax_backward", "set_num_threads", "get_num_threads", "show_config"):
        assert callable(getattr(fastsmce, name))
        assert name in fastsmce.__all__


def test_results_are_new_arrays_not_views_of_the_input():
    x = np.random.default_rng(0).standard_normal((4, 5))
    p = fastsmce.softmax(x)
    assert not np.shares_memory(p, x)
    assert p.flags.writeable
