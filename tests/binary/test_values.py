"""The binary family's values: sigmoid / log_sigmoid within a few ulp of extended precision,
binary cross-entropy with logits against its float64 reference for every weight / pos_weight
option and reduction (short rows merged into one or not), the focal loss against torchvision's
formula."""

import numpy as np
import pytest

import fastsmce
from helpers import BCE_OPTIONS, FOCAL_PARAMS, REDUCTIONS, bce_case, bce_close, bce_options, sigmoid_wide_inputs
from reference.binary import SIGMOID_ULP, bce_ref, focal_ref, log_sigmoid_ref, sigmoid_ref, ulp_error

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_sigmoid_within_a_few_ulp_of_extended_precision(name, dtype, rng):
    x = sigmoid_wide_inputs(dtype, rng)
    got = getattr(fastsmce, name)(x)
    ref = (sigmoid_ref if name == "sigmoid" else log_sigmoid_ref)(x)
    assert got.dtype == dtype
    # results below the smallest normal are flushed to 0, like the exp (DESIGN.md section 4)
    tiny = np.finfo(dtype).tiny
    sub = np.abs(ref) < tiny
    assert np.all((got[sub] == 0) | (np.abs(got[sub]) < tiny))
    err = ulp_error(got[~sub], ref[~sub], dtype)
    i = np.argmax(err)
    assert err.max() <= SIGMOID_ULP[dtype], (x[~sub][i], got[~sub][i], err.max())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.float16, np.uint8])
def test_sigmoid_of_other_real_dtypes_is_float64(dtype):
    x = np.arange(-5, 6).astype(dtype)
    y = fastsmce.sigmoid(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, sigmoid_ref(x.astype(np.float64)).astype(np.float64), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", BCE_OPTIONS, ids=lambda o: "+".join(o) or "plain")
def test_bce_matches_float64_reference(opt, reduction, dtype, rng):
    shape = (37, 53)
    x, z = bce_case(rng, shape, dtype)
    kw = bce_options(opt, rng, shape, dtype)
    rl, rg = bce_ref(x, z, reduction=reduction, **kw)
    loss, grad = bce_g(x, z, reduction=reduction, **kw)
    assert grad.dtype == dtype and np.asarray(loss).dtype == dtype
    bce_close(loss, rl, dtype, "loss")
    bce_close(grad, rg, dtype, "grad")
    bce_close(bce(x, z, reduction=reduction, **kw), rl, dtype, "loss only")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["contiguous", "weight_full", "target_fortran", "grad_strided"])
def test_bce_and_focal_short_rows_merged_or_not_match_reference(layout, reduction, dtype, rng):
    """Short contiguous rows are summed as one long row by the kernel (dense target, no
    per-class or per-row operand); any operand that breaks the row-to-row contiguity
    takes the per-row path.  Both against the float64 reference, over thread tasks."""
    shape = (5003, 10)
    x, z = bce_case(rng, shape, dtype)
    kw = {"weight": rng.random(shape).astype(dtype)} if layout == "weight_full" else {}
    if layout == "target_fortran":
        z = np.asfortranarray(z)
    g = np.full((shape[0], 2 * shape[1]), 7, dtype)[:, ::2] if layout == "grad_strided" else None
    rl, rg = bce_ref(x, z, reduction=reduction, **kw)
    loss, grad = bce_g(x, z, reduction=reduction, grad_out=g, **kw)
    bce_close(loss, rl, dtype, "loss")
    bce_close(grad, rg, dtype, "grad")
    bce_close(bce(x, z, reduction=reduction, **kw), rl, dtype, "loss only")
    # focal loss shares the row driver: its loss against torchvision's formula (float64)
    zb = np.round(z) if layout != "target_fortran" else np.asfortranarray(np.round(z))
    x64, z64 = x.astype(np.float64), zb.astype(np.float64)
    ref_f = focal_ref(x64, z64, 0.25, 2.0, reduction)
    bce_close(fastsmce.sigmoid_focal_loss(x, zb, reduction=reduction), ref_f, dtype, "focal loss")


def test_bce_result_dtype_follows_the_logits():
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    z = (np.arange(12) % 2).reshape(3, 4)
    loss, grad = bce_g(x, z.astype(bool))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(loss, bce_ref(x, z)[0], rtol=2e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", FOCAL_PARAMS)
@pytest.mark.parametrize("soft", [False, True])
def test_focal_matches_torchvision_formula(soft, alpha, gamma, reduction, dtype, rng):
    x, z = bce_case(rng, (31, 47), dtype, soft, scale=3.0)
    ref = focal_ref(x.astype(np.float64), z.astype(np.float64), alpha, gamma, reduction)
    loss, grad = focal_g(x, z, alpha=alpha, gamma=gamma, reduction=reduction)
    assert grad.dtype == dtype and grad.shape == x.shape
    tol = 3e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(loss), ref, rtol=tol, atol=tol * np.abs(ref).max())
    # loss-only and loss+grad are separate compiled kernels (the compiler may fuse differently)
    np.testing.assert_allclose(focal(x, z, alpha=alpha, gamma=gamma, reduction=reduction), loss,
                               rtol=tol, atol=tol * np.abs(ref).max())
