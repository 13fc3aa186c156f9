"""The binary family's layouts and outputs: sigmoid on any layout (Fortran, strided, negative,
N-d, read-only) equals the contiguous result; zero-size and 0-d inputs; out= / grad_out=
supplied, in place, strided and overlapping."""

import numpy as np
import pytest

import fastsmce
from helpers import REDUCTIONS, bce_case, bce_close
from reference.binary import bce_ref, log_sigmoid_ref, sigmoid_ref, softplus

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal_g = fastsmce.sigmoid_focal_loss_with_grad


LAYOUTS = {
    "c": lambda a: a,
    "fortran": np.asfortranarray,
    "strided": lambda a: a[::2, ::3],
    "negative": lambda a: a[::-1, ::-2],
    "transposed3d": lambda a: a.reshape(6, 10, 20).transpose(2, 0, 1)[:, ::2],
    "column": lambda a: a[:, 5],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_sigmoid_any_layout_matches_contiguous(name, layout, rng):
    a = LAYOUTS[layout](rng.standard_normal((60, 20)) * 5)
    f = getattr(fastsmce, name)
    np.testing.assert_array_equal(f(a), f(np.ascontiguousarray(a)))
    ro = a.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(f(ro), f(np.ascontiguousarray(a)))


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_sigmoid_zero_size_and_0d_inputs_work(name):
    f = getattr(fastsmce, name)
    assert f(np.empty((0, 7))).shape == (0, 7)
    r = f(np.float64(2.0))
    assert np.ndim(r) == 0 and np.isclose(float(r), float((sigmoid_ref if name == "sigmoid" else log_sigmoid_ref)(2.0)))


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_sigmoid_out_in_place_strided_and_overlapping_matches(name, rng):
    f = getattr(fastsmce, name)
    x = rng.standard_normal((300, 257)).astype(np.float32)
    expected = f(x)
    out = np.empty_like(x)
    assert f(x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    y = x.copy()
    assert f(y, out=y) is y
    np.testing.assert_array_equal(y, expected)
    # a strided out and an out overlapping the input other than exactly
    big = np.zeros((300, 514), np.float32)
    f(x, out=big[:, ::2])
    np.testing.assert_array_equal(big[:, ::2], expected)
    z = np.concatenate([x.ravel(), [0]]).astype(np.float32)
    f(z[1:].reshape(x.shape), out=z[:-1].reshape(x.shape))
    np.testing.assert_array_equal(z[:-1].reshape(x.shape), f(np.concatenate([x.ravel()[1:], [0]]).astype(np.float32).reshape(x.shape)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_nd_noncontiguous_logits_and_broadcast_weights_match_reference(dtype, rng):
    x, z = bce_case(rng, (5, 6, 40), dtype)
    xs, zs = x[:, ::-2, ::3], np.asfortranarray(z[:, ::-2, ::3])
    pw = (rng.random(xs.shape[-1]) * 3).astype(dtype)
    w = (rng.random((5, 1, 1)) + 0.5).astype(dtype)
    for red in REDUCTIONS:
        rl, rg = bce_ref(xs, zs, weight=w, pos_weight=pw, reduction=red)
        loss, grad = bce_g(xs, zs, weight=w, pos_weight=pw, reduction=red)
        bce_close(loss, rl, dtype)
        bce_close(grad, rg, dtype)


def test_bce_zero_size_and_0d_inputs_work():
    loss, grad = bce_g(np.empty((0, 5)), np.empty((0, 5)))
    assert np.isnan(loss) and grad.shape == (0, 5)
    assert bce(np.empty((0, 5)), np.empty((0, 5)), reduction="sum") == 0
    assert bce(np.empty((3, 0)), np.empty((3, 0)), reduction="none").shape == (3, 0)
    l0 = bce(np.float64(0.3), np.float64(1.0))
    assert np.isclose(l0, softplus(-0.3))


def test_bce_grad_out_in_place_and_strided_matches(rng):
    x, z = bce_case(rng, (200, 300), np.float32)
    expected_l, expected_g = bce_g(x, z, pos_weight=np.full(300, 2, np.float32))
    out = np.empty_like(x)
    l1, g1 = bce_g(x, z, pos_weight=np.full(300, 2, np.float32), grad_out=out)
    assert g1 is out and l1 == expected_l
    np.testing.assert_array_equal(out, expected_g)
    y = x.copy()
    l2, g2 = bce_g(y, z, pos_weight=np.full(300, 2, np.float32), grad_out=y)
    assert g2 is y and l2 == expected_l
    np.testing.assert_array_equal(y, expected_g)
    strided = np.zeros((200, 600), np.float32)
    bce_g(x, z, pos_weight=np.full(300, 2, np.float32), grad_out=strided[:, ::2])
    np.testing.assert_array_equal(strided[:, ::2], expected_g)


def test_focal_grad_out_in_place_matches(rng):
    x, z = bce_case(rng, (50, 70), np.float64, True, scale=3.0)
    expected = focal_g(x, z)
    y = x.copy()
    loss, grad = focal_g(y, z, grad_out=y)
    assert grad is y and loss == expected[0]
    np.testing.assert_array_equal(y, expected[1])
