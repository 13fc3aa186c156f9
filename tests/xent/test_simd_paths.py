"""cross-entropy on every SIMD path compiled into this build, forced with FASTSMCE_SIMD in a
subprocess (helpers.assert_battery_passes): the value, layout and special-value tests of this
directory, run there over more class counts (every SIMD tail 1..33, 64, 1000, 70001)."""

import os

import numpy as np
import pytest

from helpers import SIMD_COMPILED, XENT_KIND_OPTS, assert_battery_passes, load_module

pytestmark = pytest.mark.simd
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("path", SIMD_COMPILED)
def test_every_simd_path_matches_reference(path):
    assert_battery_passes(path, __file__, timeout=600)


def simd_battery():
    """run inside the subprocess: the tests raise on the first failure"""
    values = load_module(os.path.join(HERE, "test_values.py"))
    layouts = load_module(os.path.join(HERE, "test_layouts.py"))
    special = load_module(os.path.join(HERE, "test_special_values.py"))
    for dt in (np.float32, np.float64):
        for kind, opt in XENT_KIND_OPTS:
            for C in (1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000, 70001):
                values.test_matches_reference(dt, kind, C, opt)
        for kind in ("int", "prob"):
            layouts.test_grad_out_may_be_the_logits_bit_for_bit(dt, kind, 1000)
        special.test_extreme_logits_give_finite_results(dt)
        for C in (5, 1000, 70001):
            special.test_nan_and_inf_logits_follow_torch_semantics(dt, C)
        layouts.test_strided_negative_and_fortran_layouts_match_reference(dt)
        for kind, opt in XENT_KIND_OPTS:
            for shape in ((3, 5, 41), (2, 40, 7, 3)):
                layouts.test_class_axis_1_matches_reference_for_every_option(dt, kind, opt, shape)
    return []
