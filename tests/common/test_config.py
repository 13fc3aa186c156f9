"""show_config and the public namespace."""

import numpy as np
import pytest

import fastsmce


def test_show_config_dicts_has_documented_keys_and_types():
    cfg = fastsmce.show_config(mode="dicts")
    assert {"version", "simd", "simd_supported", "simd_compiled", "simd_known", "openmp",
            "threading_layer", "num_threads", "compiler"} <= set(cfg)
    assert cfg["version"] == fastsmce.__version__
    assert cfg["simd"] in cfg["simd_known"]
    assert cfg["simd"] in cfg["simd_supported"] and cfg["simd"] in cfg["simd_compiled"]
    assert "scalar" in cfg["simd_supported"] and "scalar" in cfg["simd_compiled"]
    assert set(cfg["simd_supported"]) <= set(cfg["simd_known"])
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


def test_threading_layer_names_openmp_or_a_single_threaded_build():
    layer = fastsmce.threading_layer()
    cfg = fastsmce.show_config(mode="dicts")
    assert layer in ("openmp", "single-threaded build")
    assert cfg["threading_layer"] == layer
    assert (layer == "openmp") == cfg["openmp"]


def test_simd_lists_follow_the_isa_table_order():
    cfg = fastsmce.show_config(mode="dicts")
    known = cfg["simd_known"]
    assert known[0] == "scalar" and len(set(known)) == len(known)
    for key in ("simd_compiled", "simd_supported"):
        assert cfg[key] == [n for n in known if n in cfg[key]], key
    assert cfg["simd"] == cfg["simd_supported"][-1] or "FASTSMCE_SIMD" in __import__("os").environ


def test_version_is_the_one_in_version_py():
    from importlib.metadata import PackageNotFoundError, version
    from fastsmce import _version
    assert fastsmce.__version__ == _version.__version__
    try:
        assert version("fastsmce") == fastsmce.__version__
    except PackageNotFoundError:      # an in-place build on sys.path, not installed
        pass
