"""The binary family on every SIMD path compiled into this build, forced with FASTSMCE_SIMD in
a subprocess (helpers.assert_battery_passes): sigmoid / log_sigmoid (ulp, every tail length,
special values), BCE dense and sparse (loss only and with gradient, weights), the focal loss,
and 1-vs-2-thread bit identity."""

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce
from helpers import SIMD_COMPILED, assert_battery_passes, sigmoid_wide_inputs, sparse_case
from reference.binary import SIGMOID_ULP, bce_ref, focal_ref, log_sigmoid_ref, sigmoid_ref, ulp_error

pytestmark = pytest.mark.simd


@pytest.mark.parametrize("path", SIMD_COMPILED)
def test_every_simd_path_is_accurate_and_deterministic(path):
    assert_battery_passes(path, __file__, timeout=600)


def simd_battery():
    """run inside the subprocess; returns the failures"""
    fails = []
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        name_d = np.dtype(dtype).name
        tiny = np.finfo(dtype).tiny
        for fname, ref in (("sigmoid", sigmoid_ref), ("log_sigmoid", log_sigmoid_ref)):
            f = getattr(fastsmce, fname)
            xs = [sigmoid_wide_inputs(dtype, rng, 50_000)] + [(rng.standard_normal(n) * 20).astype(dtype)
                                                       for n in range(1, 41)]
            for x in xs:
                got, r = f(x), ref(x)
                keep = np.abs(r) >= tiny
                err = ulp_error(got[keep], r[keep], dtype)
                if err.size and err.max() > SIGMOID_ULP[dtype]:
                    fails.append(f"{fname} {name_d} n={x.size}: {err.max():.2f} ulp")
            sp = np.array([np.inf, -np.inf, np.nan, -1e4, 1e4], dtype=dtype)
            got = f(sp)
            want = [1, 0, np.nan, 0, 1] if fname == "sigmoid" else [0, -np.inf, np.nan, -1e4, 0]
            if not np.array_equal(got, np.array(want, dtype=dtype), equal_nan=True):
                fails.append(f"{fname} {name_d} special values: {got}")
        tol = 3e-6 if dtype == np.float32 else 1e-12
        for n, c in ((7, 3), (19, 37), (5, 3000)):
            x, z = sparse_case(rng, n, c, 4, dtype)
            zs = z.copy()
            zs[z == 0] = rng.random(int((z == 0).sum())) * 0.5
            kw = {"weight": (rng.random(c) + 0.5).astype(dtype), "pos_weight": (rng.random(c) * 2).astype(dtype)}
            for red in ("none", "mean", "sum"):
                for target, dense, opts in ((zs, zs, kw), (sps.csr_array(z), z, kw), (sps.csr_array(z), z, {})):
                    rl, rg = bce_ref(x, dense, reduction=red, **opts)
                    l1 = fastsmce.binary_cross_entropy_with_logits(x, target, reduction=red, **opts)
                    l2, g2 = fastsmce.binary_cross_entropy_with_logits_with_grad(x, target, reduction=red, **opts)
                    for what, got, want in (("loss", l1, rl), ("loss+grad", l2, rl), ("grad", g2, rg)):
                        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
                        if not np.allclose(got, want, rtol=tol, atol=tol * np.abs(want).max()):
                            fails.append(f"bce {what} {name_d} {n}x{c} {red} sparse={target is not zs}")
                rf = focal_ref(x.astype(np.float64), zs.astype(np.float64), 0.25, 2.0, red)
                lf, _ = fastsmce.sigmoid_focal_loss_with_grad(x, zs, reduction=red)
                if not np.allclose(np.asarray(lf, np.float64), rf, rtol=tol, atol=tol * np.abs(rf).max()):
                    fails.append(f"focal {name_d} {n}x{c} {red}")
        x, z = sparse_case(rng, 600, 700, 5, dtype)
        for target in (z, sps.csr_array(z)):
            res = []
            for t in (1, 2):
                fastsmce.set_num_threads(t)
                res.append((fastsmce.binary_cross_entropy_with_logits(x, target),
                            *fastsmce.binary_cross_entropy_with_logits_with_grad(x, target),
                            fastsmce.sigmoid(x), *fastsmce.sigmoid_focal_loss_with_grad(x, z)))
            fastsmce.set_num_threads(None)
            if not all(np.array_equal(a, b) for a, b in zip(*res)):
                fails.append(f"1 and 2 threads differ {name_d}")
    return fails
