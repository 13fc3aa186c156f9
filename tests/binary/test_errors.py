"""The binary family's bad input: each raises the documented exception naming the argument, and
nothing is written to out / grad_out.  (Every argument of every function: common/test_bad_inputs.py.)"""

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce
from helpers import REDUCTIONS, Positives, bce_case

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad


def test_sigmoid_complex_input_raises_type_error():
    with pytest.raises(TypeError, match="x"):
        fastsmce.sigmoid(np.ones(3, dtype=np.complex128))


@pytest.mark.parametrize("bad,exc", [(np.empty((3, 4), np.float64), TypeError),
                                     (np.empty((4, 3), np.float32), ValueError),
                                     ([0.0] * 12, TypeError)])
def test_sigmoid_bad_out_raises_and_writes_nothing(bad, exc):
    x = np.ones((3, 4), np.float32)
    before = np.array(bad, copy=True)
    with pytest.raises(exc, match="out"):
        fastsmce.sigmoid(x, out=bad)
    np.testing.assert_array_equal(np.asarray(bad), before)


def _bad_cases():
    x = np.zeros((4, 5), np.float32)
    z = np.zeros((4, 5), np.float32)
    zbad = z.copy()
    zbad[2, 3] = 1.5
    znan = z.copy()
    znan[0, 0] = np.nan
    good = sps.csr_array(np.eye(4, 5, dtype=np.float32))
    return [
        ("shape", x, np.zeros((4, 6)), {}, ValueError, "target"),
        ("weight", x, z, {"weight": np.ones(3)}, ValueError, "weight"),
        ("pos_weight", x, z, {"pos_weight": np.ones((2, 5))}, ValueError, "pos_weight"),
        ("target>1", x, zbad, {}, ValueError, r"\[0, 1\]"),
        ("target<0", x, -zbad, {}, ValueError, r"\[0, 1\]"),
        ("target nan", x, znan, {}, ValueError, r"\[0, 1\]"),
        ("reduction", x, z, {"reduction": "avg"}, ValueError, "reduction"),
        ("csr index", x, Positives(np.array([0, 1, 1, 1, 1]), np.array([5])), {}, IndexError, "range"),
        ("csr negative", x, Positives(np.array([0, 1, 1, 1, 1]), np.array([-1])), {}, IndexError, "range"),
        ("indptr", x, Positives(np.array([0, 2, 1, 2, 2]), np.array([1, 2])), {}, ValueError, "indptr"),
        ("indptr len", x, Positives(np.array([0, 1, 1]), np.array([1])), {}, ValueError, "indptr"),
        ("csr shape", x, sps.csr_array(np.eye(4, 6)), {}, ValueError, "shape"),
        ("csr dup", x, Positives(np.array([0, 2, 2, 2, 2]), np.array([1, 1])), {}, ValueError, "twice"),
        ("csr data", x, Positives(np.array([0, 1, 1, 1, 1]), np.array([1]), np.array([2.0])), {},
         ValueError, r"\[0, 1\]"),
        ("csr 3d", np.zeros((2, 2, 5)), good, {}, ValueError, "2-D"),
        ("csc", x, sps.csc_array(np.eye(4, 5)), {}, TypeError, "CSR"),
        ("complex", x.astype(complex), z, {}, TypeError, "logits"),
    ]


@pytest.mark.parametrize("case", _bad_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("with_grad", [False, True])
def test_bce_bad_input_raises_and_writes_nothing(case, with_grad):
    _, x, t, kw, exc, msg = case
    if not with_grad:
        with pytest.raises(exc, match=msg):
            bce(x, t, **kw)
        return
    out = np.full(x.shape, 7, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    with pytest.raises(exc, match=msg):
        bce_g(x, t, grad_out=out, **kw)
    assert np.all(out == 7)


def test_bce_bad_grad_out_raises():
    x = np.zeros((4, 5), np.float32)
    with pytest.raises(TypeError, match="grad_out"):
        bce_g(x, x, grad_out=np.zeros((4, 5)))
    with pytest.raises(ValueError, match="grad_out"):
        bce_g(x, x, grad_out=np.zeros((5, 4), np.float32))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bad_target_is_found_by_the_fused_loss_pass(reduction, rng):
    """without grad_out the [0, 1] check rides along the loss pass (every SIMD tail too)"""
    for n in (1, 7, 16, 17, 33, 5000):
        x, z = bce_case(rng, (3, n), np.float32)
        z[2, n - 1] = 1.0000001
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            bce_g(x, z, reduction=reduction)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fastsmce.sigmoid_focal_loss(x, z, reduction=reduction)
        z[2, n - 1] = 1.0
        bce_g(x, z, reduction=reduction)


def test_focal_bad_input_raises_and_writes_nothing():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="gamma"):
        focal(x, x, gamma=-1)
    with pytest.raises(ValueError, match="alpha"):
        focal(x, x, alpha=np.nan)
    with pytest.raises(ValueError, match="reduction"):
        focal(x, x, reduction="mea")
    with pytest.raises(ValueError, match="target"):
        focal(x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        focal(x, x + 2)
    import scipy.sparse as sps
    with pytest.raises(TypeError, match="dense"):
        focal(x, sps.csr_array(x))
    out = np.full((3, 4), 5.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        focal_g(x, x - 1, grad_out=out)
    assert np.all(out == 5)
