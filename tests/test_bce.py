"""binary_cross_entropy_with_logits(_with_grad): float64 references, central finite
differences, PyTorch parity, extreme logits, sparse (CSR) targets equal to dense ones, bad
input, in-place gradients, thread determinism and memory."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
REDUCTIONS = ["none", "mean", "sum"]
RTOL = {np.float32: 2e-6, np.float64: 1e-13}


def softplus(x):
    return np.logaddexp(0.0, x)


def expit(x):
    return np.exp(-softplus(-x))


def ref_bce(x, z, weight=None, pos_weight=None, reduction="mean"):
    """float64 reference: (loss, grad) of the stable PyTorch formula"""
    x, z = np.asarray(x, np.float64), np.asarray(z, np.float64)
    w = np.ones_like(x) if weight is None else np.broadcast_to(np.asarray(weight, np.float64), x.shape)
    pw = np.ones_like(x) if pos_weight is None else np.broadcast_to(np.asarray(pos_weight, np.float64), x.shape)
    loss = w * ((1 - z) * softplus(x) + pw * z * softplus(-x))
    grad = w * ((1 - z) * expit(x) - pw * z * expit(-x))
    if reduction == "mean":
        return loss.mean() if loss.size else np.nan, grad / max(loss.size, 1)
    if reduction == "sum":
        return loss.sum(), grad
    return loss, grad


def make(rng, shape, dtype, soft=True, scale=4.0):
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    z = (rng.random(shape) if soft else (rng.random(shape) < 0.3)).astype(dtype)
    return x, z


def close(got, ref, dtype, what=""):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    scale = max(np.abs(ref).max(), 1e-300) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=RTOL[dtype], atol=RTOL[dtype] * scale, err_msg=what)


OPTIONS = [{}, {"weight": "w"}, {"pos_weight": "pw"}, {"weight": "wrow", "pos_weight": "pw"},
           {"weight": "wfull", "pos_weight": "pwfull"}]


def options(opt, rng, shape, dtype):
    n, c = shape[0], shape[-1]
    table = {"w": rng.random(c) + 0.5, "pw": rng.random(c) * 3, "wrow": rng.random((n, 1)) + 0.5,
             "wfull": rng.random(shape), "pwfull": rng.random(shape) * 2}
    return {k: table[v].astype(dtype) for k, v in opt.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", OPTIONS, ids=lambda o: "+".join(o) or "plain")
def test_matches_float64_reference(opt, reduction, dtype, rng):
    shape = (37, 53)
    x, z = make(rng, shape, dtype)
    kw = options(opt, rng, shape, dtype)
    rl, rg = ref_bce(x, z, reduction=reduction, **kw)
    loss, grad = bce_g(x, z, reduction=reduction, **kw)
    assert grad.dtype == dtype and np.asarray(loss).dtype == dtype
    close(loss, rl, dtype, "loss")
    close(grad, rg, dtype, "grad")
    close(bce(x, z, reduction=reduction, **kw), rl, dtype, "loss only")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_grad_matches_central_finite_differences(reduction, rng):
    x, z = make(rng, (4, 7), np.float64)
    kw = {"weight": rng.random(7) + 0.5, "pos_weight": rng.random((4, 7)) * 2}
    _, grad = bce_g(x, z, reduction=reduction, **kw)
    h = 1e-6
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        lp, lm = bce(xp, z, reduction=reduction, **kw), bce(xm, z, reduction=reduction, **kw)
        if reduction == "none":
            lp, lm = lp[i], lm[i]
        assert abs((lp - lm) / (2 * h) - grad[i]) < 1e-7, i


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["contiguous", "weight_full", "target_fortran", "grad_strided"])
def test_short_rows_merged_or_not(layout, reduction, dtype, rng):
    """Short contiguous rows are summed as one long row by the kernel (dense target, no
    per-class or per-row operand); any operand that breaks the row-to-row contiguity
    takes the per-row path.  Both against the float64 reference, over thread tasks."""
    shape = (5003, 10)
    x, z = make(rng, shape, dtype)
    kw = {"weight": rng.random(shape).astype(dtype)} if layout == "weight_full" else {}
    if layout == "target_fortran":
        z = np.asfortranarray(z)
    g = np.full((shape[0], 2 * shape[1]), 7, dtype)[:, ::2] if layout == "grad_strided" else None
    rl, rg = ref_bce(x, z, reduction=reduction, **kw)
    loss, grad = bce_g(x, z, reduction=reduction, grad_out=g, **kw)
    close(loss, rl, dtype, "loss")
    close(grad, rg, dtype, "grad")
    close(bce(x, z, reduction=reduction, **kw), rl, dtype, "loss only")
    # focal loss shares the row driver: its loss against torchvision's formula (float64)
    zb = np.round(z) if layout != "target_fortran" else np.asfortranarray(np.round(z))
    x64, z64 = x.astype(np.float64), zb.astype(np.float64)
    p = 1 / (1 + np.exp(-x64))
    p_t = p * z64 + (1 - p) * (1 - z64)
    ref_f = (0.25 * z64 + 0.75 * (1 - z64)) * softplus(x64) * (1 - z64) * (1 - p_t) ** 2 \
        + (0.25 * z64 + 0.75 * (1 - z64)) * softplus(-x64) * z64 * (1 - p_t) ** 2
    ref_f = {"none": ref_f, "mean": ref_f.mean(), "sum": ref_f.sum()}[reduction]
    close(fastsmce.sigmoid_focal_loss(x, zb, reduction=reduction), ref_f, dtype, "focal loss")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", OPTIONS, ids=lambda o: "+".join(o) or "plain")
def test_parity_with_torch(opt, reduction, dtype, rng):
    if torch is None:
        pytest.skip("torch is not installed")
    shape = (3, 29, 41)
    x, z = make(rng, shape, dtype)
    kw = options(opt, rng, shape[1:], dtype)
    if "weight" in kw and kw["weight"].ndim == 2:
        kw["weight"] = kw["weight"][None]
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.from_numpy(z), reduction=reduction, **{k: torch.from_numpy(v) for k, v in kw.items()})
    tl.backward(torch.ones_like(tl))
    loss, grad = bce_g(x, z, reduction=reduction, **kw)
    tol = 5e-6 if dtype == np.float32 else 1e-12
    ref_l = tl.detach().numpy()
    np.testing.assert_allclose(np.asarray(loss), ref_l, rtol=tol, atol=tol * np.abs(ref_l).max())
    ref_g = tx.grad.numpy()
    np.testing.assert_allclose(grad, ref_g, rtol=tol, atol=tol * np.abs(ref_g).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_stay_finite_and_exact(dtype):
    x = np.array([[-1e4, 1e4, -120, 120, -1e4, 1e4, -120, 120, 0]], dtype=dtype)
    z = np.array([[0, 0, 0, 0, 1, 1, 1, 1, 0.5]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = bce_g(x, z, reduction="none", pos_weight=np.full(9, 2, dtype))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    rl, rg = ref_bce(x, z, pos_weight=np.full(9, 2.0), reduction="none")
    np.testing.assert_allclose(loss, rl, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(grad, rg, rtol=1e-6, atol=1e-30)
    assert loss[0, 0] == 0 and loss[0, 1] == 1e4 and loss[0, 4] == 2e4 and loss[0, 5] == 0
    assert loss[0, 3] == 120 and grad[0, 3] == 1 and grad[0, 4] == -2


def test_infinite_and_nan_logits():
    """x = +-inf: inf where a nonzero coefficient meets an infinite softplus, NaN where a zero
    one does (0 * inf: x = +inf with z = 1, x = -inf with z = 0; PyTorch also gives NaN for
    x = -inf, z = 1, where we give the limit inf); gradients stay finite; NaN propagates."""
    x = np.array([np.inf, np.inf, -np.inf, -np.inf, np.inf, np.nan])
    z = np.array([0, 1, 0, 1, 0.5, 0.5])
    loss, grad = bce_g(x, z, reduction="none")
    np.testing.assert_array_equal(loss, [np.inf, np.nan, np.nan, np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(grad[:5], [1, 0, 0, -1, 0.5])
    assert np.isnan(grad[5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nd_logits_noncontiguous_and_broadcast_pos_weight(dtype, rng):
    x, z = make(rng, (5, 6, 40), dtype)
    xs, zs = x[:, ::-2, ::3], np.asfortranarray(z[:, ::-2, ::3])
    pw = (rng.random(xs.shape[-1]) * 3).astype(dtype)
    w = (rng.random((5, 1, 1)) + 0.5).astype(dtype)
    for red in REDUCTIONS:
        rl, rg = ref_bce(xs, zs, weight=w, pos_weight=pw, reduction=red)
        loss, grad = bce_g(xs, zs, weight=w, pos_weight=pw, reduction=red)
        close(loss, rl, dtype)
        close(grad, rg, dtype)


def test_zero_size_and_0d():
    loss, grad = bce_g(np.empty((0, 5)), np.empty((0, 5)))
    assert np.isnan(loss) and grad.shape == (0, 5)
    assert bce(np.empty((0, 5)), np.empty((0, 5)), reduction="sum") == 0
    assert bce(np.empty((3, 0)), np.empty((3, 0)), reduction="none").shape == (3, 0)
    l0 = bce(np.float64(0.3), np.float64(1.0))
    assert np.isclose(l0, softplus(-0.3))


def test_target_dtype_follows_logits():
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    z = (np.arange(12) % 2).reshape(3, 4)
    loss, grad = bce_g(x, z.astype(bool))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(loss, ref_bce(x, z)[0], rtol=2e-6)


def test_grad_out_in_place_and_supplied(rng):
    x, z = make(rng, (200, 300), np.float32)
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


# ---------------------------------------------------------------------------
# sparse positives
# ---------------------------------------------------------------------------

class Positives:
    """a minimal CSR-like object: indptr, indices, optional data (no shape)"""

    def __init__(self, indptr, indices, data=None):
        self.indptr, self.indices = indptr, indices
        if data is not None:
            self.data = data


def sparse_case(rng, n, c, k, dtype):
    x = (rng.standard_normal((n, c)) * 4).astype(dtype)
    z = np.zeros((n, c), dtype)
    for r in range(n):
        z[r, rng.choice(c, size=rng.integers(0, min(k, c) + 1), replace=False)] = 1
    return x, z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", OPTIONS, ids=lambda o: "+".join(o) or "plain")
@pytest.mark.parametrize("kind", ["csr_array", "csr_matrix", "object"])
def test_sparse_targets_equal_dense(kind, opt, reduction, dtype, rng):
    shape = (33, 3000)
    x, z = sparse_case(rng, *shape, 6, dtype)
    kw = options(opt, rng, shape, dtype)
    if kind == "csr_array":
        t = sps.csr_array(z)
    elif kind == "csr_matrix":
        t = sps.csr_matrix(z)
    else:
        s = sps.csr_array(z)
        t = Positives(s.indptr.astype(np.int32), s.indices.astype(np.int32))
    rl, rg = ref_bce(x, z, reduction=reduction, **kw)
    loss, grad = bce_g(x, t, reduction=reduction, **kw)
    close(loss, rl, dtype, "loss+grad")
    close(grad, rg, dtype, "grad")
    close(bce(x, t, reduction=reduction, **kw), rl, dtype, "loss only")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", OPTIONS[:3], ids=lambda o: "+".join(o) or "plain")
@pytest.mark.parametrize("c", [1, 10, 127, 130])
def test_sparse_short_rows_equal_dense(c, opt, reduction, dtype, rng):
    """Rows shorter than 8 vectors skip the float32 product-of-exps path of the loss-only sum"""
    shape = (301, c)
    x, z = sparse_case(rng, *shape, 5, dtype)
    x[3, 0], x[4, -1] = 200.0, -200.0
    z[3, 0] = z[4, -1] = 1
    kw = options(opt, rng, shape, dtype)
    rl, rg = ref_bce(x, z, reduction=reduction, **kw)
    close(bce(x, sps.csr_array(z), reduction=reduction, **kw), rl, dtype, "loss only")
    loss, grad = bce_g(x, sps.csr_array(z), reduction=reduction, **kw)
    close(loss, rl, dtype, "loss")
    close(grad, rg, dtype, "grad")


def test_sparse_soft_values_unsorted_indices_and_in_place(rng):
    x, _ = sparse_case(rng, 20, 500, 0, np.float64)
    indptr = np.array([0] + [3 * (r + 1) for r in range(20)])
    indices = np.concatenate([rng.choice(500, 3, replace=False) for _ in range(20)])  # unsorted
    data = rng.random(60)
    z = np.zeros_like(x)
    for r in range(20):
        z[r, indices[3 * r:3 * r + 3]] = data[3 * r:3 * r + 3]
    t = Positives(indptr, indices, data)
    rl, rg = ref_bce(x, z, pos_weight=np.full(500, 3.0))
    y = x.copy()
    loss, grad = bce_g(y, t, pos_weight=np.full(500, 3.0), grad_out=y)
    assert grad is y
    close(loss, rl, np.float64)
    close(grad, rg, np.float64)
    # a non-canonical scipy matrix (duplicates summed, as scipy defines it)
    coo = sps.coo_array((np.full(4, 0.5), ([0, 0, 1, 1], [3, 3, 7, 9])), shape=(2, 10))
    csr = sps.csr_array(coo, copy=True)
    csr.has_canonical_format = False
    csr = sps.csr_array((np.full(4, 0.5), np.array([3, 3, 7, 9]), np.array([0, 2, 4])), shape=(2, 10))
    xx = rng.standard_normal((2, 10))
    close(bce(xx, csr), ref_bce(xx, csr.toarray())[0], np.float64)


@pytest.mark.parametrize("layout", ["fortran", "strided", "negative"])
def test_sparse_targets_with_strided_logits(layout, rng):
    x, z = sparse_case(rng, 40, 300, 5, np.float32)
    xs = {"fortran": np.asfortranarray(x), "strided": np.repeat(x, 2, axis=1)[:, ::2],
          "negative": x[:, ::-1].copy()[:, ::-1]}[layout]
    kw = {"pos_weight": np.linspace(0.5, 2, 300, dtype=np.float32), "weight": np.full((40, 1), 2, np.float32)}
    for red in REDUCTIONS:
        rl, rg = ref_bce(x, z, reduction=red, **kw)
        loss, grad = bce_g(xs, sps.csr_array(z), reduction=red, **kw)
        close(loss, rl, np.float32)
        close(grad, rg, np.float32)
        close(bce(xs, sps.csr_array(z), reduction=red, **kw), rl, np.float32)
    y = np.asfortranarray(x)
    loss, grad = bce_g(y, sps.csr_array(z), grad_out=y, **kw)
    close(grad, ref_bce(x, z, **kw)[1], np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_extreme_logits(dtype):
    x = np.array([[-1e4, 1e4, -120, 120, 3.0], [1e4, -1e4, 120, -120, 0.0]], dtype=dtype)
    t = sps.csr_array(np.array([[0, 1, 0, 1, 0], [1, 0, 1, 0, 1]], dtype=dtype))
    loss, grad = bce_g(x, t, reduction="sum")
    rl, rg = ref_bce(x, t.toarray(), reduction="sum")
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # the z = 0 terms are summed first (in T lanes) and the positives corrected after: a
    # positive with a huge logit leaves an absolute rounding error of a few ulp of that logit
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(loss, rl, rtol=1e-6, atol=4 * 1e4 * eps)
    np.testing.assert_allclose(grad, rg, rtol=1e-6, atol=1e-30)


def test_sparse_loss_only_float32_big_row_accuracy(rng):
    """the product formulation of the loss-only sparse path: float32 accuracy on long rows,
    also when every logit is very negative (tiny softplus terms)"""
    for scale, shift in ((2.0, 0.0), (1.0, -12.0)):
        x = (rng.standard_normal((3, 200_000)) * scale + shift).astype(np.float32)
        z = np.zeros_like(x)
        z[:, ::50_000] = 1
        ref = ref_bce(x, z, reduction="sum")[0]
        got = bce(x, sps.csr_array(z), reduction="sum")
        assert abs(got / ref - 1) < 2e-6, (scale, shift, got, ref)


# ---------------------------------------------------------------------------
# bad input: a clear exception, nothing written
# ---------------------------------------------------------------------------

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
def test_bad_input_raises_and_writes_nothing(case, with_grad):
    _, x, t, kw, exc, msg = case
    if not with_grad:
        with pytest.raises(exc, match=msg):
            bce(x, t, **kw)
        return
    out = np.full(x.shape, 7, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    with pytest.raises(exc, match=msg):
        bce_g(x, t, grad_out=out, **kw)
    assert np.all(out == 7)


def test_bad_grad_out():
    x = np.zeros((4, 5), np.float32)
    with pytest.raises(TypeError, match="grad_out"):
        bce_g(x, x, grad_out=np.zeros((4, 5)))
    with pytest.raises(ValueError, match="grad_out"):
        bce_g(x, x, grad_out=np.zeros((5, 4), np.float32))


# ---------------------------------------------------------------------------
# threads and memory
# ---------------------------------------------------------------------------

@pytest.mark.threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
def test_bit_identical_for_1_and_2_threads(sparse, dtype, rng):
    x, z = sparse_case(rng, 700, 1000, 8, dtype)
    t = sps.csr_array(z) if sparse else z
    kw = {"pos_weight": (rng.random(1000) * 2).astype(dtype)}
    res = []
    for n in (1, 2, 3):
        fastsmce.set_num_threads(n)
        res.append((bce(x, t, **kw), *bce_g(x, t, reduction="sum", **kw), bce(x, t, reduction="none", **kw)))
    for r in res[1:]:
        assert r[0] == res[0][0] and r[1] == res[0][1]
        assert np.array_equal(r[2], res[0][2]) and np.array_equal(r[3], res[0][3])


@pytest.mark.parametrize("sparse", [False, True])
def test_loss_only_allocates_nothing_of_size_n_by_c(sparse, rng):
    x, z = sparse_case(rng, 2000, 1000, 5, np.float32)
    t = sps.csr_array(z) if sparse else z
    kw = {"weight": np.ones(1000, np.float32), "pos_weight": np.full(1000, 2, np.float32)}
    bce(x, t, **kw)
    tracemalloc.start()
    try:
        bce(x, t, **kw)
        bce(x, t)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes // 20, peak


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bad_target_found_by_the_fused_pass(reduction, rng):
    """without grad_out the [0, 1] check rides along the loss pass (every SIMD tail too)"""
    for n in (1, 7, 16, 17, 33, 5000):
        x, z = make(rng, (3, n), np.float32)
        z[2, n - 1] = 1.0000001
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            bce_g(x, z, reduction=reduction)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fastsmce.sigmoid_focal_loss(x, z, reduction=reduction)
        z[2, n - 1] = 1.0
        bce_g(x, z, reduction=reduction)
