"""The sigmoid family on every SIMD path: this file, run as a script in a subprocess with
FASTSMCE_SIMD=scalar|avx2|avx512, checks sigmoid / log_sigmoid (ulp, every tail length),
BCE dense and sparse (loss only and with gradient, weights), the focal loss, and 1-vs-2-thread
bit identity; pytest runs it once per path the CPU and build support."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastsmce

HERE = os.path.dirname(os.path.abspath(__file__))


def _checks():
    import scipy.sparse as sps

    from test_bce import ref_bce, sparse_case
    from test_focal import torchvision_formula
    from test_sigmoid import ULP, ref_log_sigmoid, ref_sigmoid, ulp_error, wide_inputs

    fails = []
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        name_d = np.dtype(dtype).name
        tiny = np.finfo(dtype).tiny
        for fname, ref in (("sigmoid", ref_sigmoid), ("log_sigmoid", ref_log_sigmoid)):
            f = getattr(fastsmce, fname)
            xs = [wide_inputs(dtype, rng, 50_000)] + [(rng.standard_normal(n) * 20).astype(dtype)
                                                       for n in range(1, 41)]
            for x in xs:
                got, r = f(x), ref(x)
                keep = np.abs(r) >= tiny
                err = ulp_error(got[keep], r[keep], dtype)
                if err.size and err.max() > ULP[dtype]:
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
                    rl, rg = ref_bce(x, dense, reduction=red, **opts)
                    l1 = fastsmce.binary_cross_entropy_with_logits(x, target, reduction=red, **opts)
                    l2, g2 = fastsmce.binary_cross_entropy_with_logits_with_grad(x, target, reduction=red, **opts)
                    for what, got, want in (("loss", l1, rl), ("loss+grad", l2, rl), ("grad", g2, rg)):
                        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
                        if not np.allclose(got, want, rtol=tol, atol=tol * np.abs(want).max()):
                            fails.append(f"bce {what} {name_d} {n}x{c} {red} sparse={target is not zs}")
                rf = torchvision_formula(x.astype(np.float64), zs.astype(np.float64), 0.25, 2.0, red)
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


def _supported():
    cfg = fastsmce.show_config(mode="dicts")
    return set(cfg["simd_supported"]) & set(cfg["simd_compiled"])


@pytest.mark.simd
@pytest.mark.parametrize("path", ["scalar", "avx2", "avx512"])
def test_every_simd_path_is_accurate_and_deterministic(path):
    if path not in _supported():
        pytest.skip(f"{path} is not supported by this CPU or build")
    env = dict(os.environ, FASTSMCE_SIMD=path)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(fastsmce.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_root, HERE] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), path], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("OK"), proc.stdout


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    active = fastsmce.show_config(mode="dicts")["simd"]
    if len(sys.argv) > 1 and active != sys.argv[1]:
        print(f"FAIL: asked for {sys.argv[1]}, running {active}")
        sys.exit(2)
    failures = _checks()
    for f in failures[:50]:
        print("FAIL: " + f)
    print(f"{len(failures)} failures on {active}" if failures else "OK")
    sys.exit(1 if failures else 0)
