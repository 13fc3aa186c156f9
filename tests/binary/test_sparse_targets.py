"""BCE with sparse (CSR) targets: scipy csr_array / csr_matrix and duck-typed objects
(helpers.Positives) give the dense targets' loss and gradient, for every option, short and
long rows, soft values, unsorted indices, strided logits, extreme logits."""

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce
from helpers import BCE_OPTIONS, REDUCTIONS, Positives, bce_close, bce_options, sparse_case
from reference.binary import bce_ref

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", BCE_OPTIONS, ids=lambda o: "+".join(o) or "plain")
@pytest.mark.parametrize("kind", ["csr_array", "csr_matrix", "object"])
def test_sparse_targets_equal_dense(kind, opt, reduction, dtype, rng):
    shape = (33, 3000)
    x, z = sparse_case(rng, *shape, 6, dtype)
    kw = bce_options(opt, rng, shape, dtype)
    if kind == "csr_array":
        t = sps.csr_array(z)
    elif kind == "csr_matrix":
        t = sps.csr_matrix(z)
    else:
        s = sps.csr_array(z)
        t = Positives(s.indptr.astype(np.int32), s.indices.astype(np.int32))
    rl, rg = bce_ref(x, z, reduction=reduction, **kw)
    loss, grad = bce_g(x, t, reduction=reduction, **kw)
    bce_close(loss, rl, dtype, "loss+grad")
    bce_close(grad, rg, dtype, "grad")
    bce_close(bce(x, t, reduction=reduction, **kw), rl, dtype, "loss only")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", BCE_OPTIONS[:3], ids=lambda o: "+".join(o) or "plain")
@pytest.mark.parametrize("c", [1, 10, 127, 130])
def test_sparse_short_rows_equal_dense(c, opt, reduction, dtype, rng):
    """Rows shorter than 8 vectors skip the float32 product-of-exps path of the loss-only sum"""
    shape = (301, c)
    x, z = sparse_case(rng, *shape, 5, dtype)
    x[3, 0], x[4, -1] = 200.0, -200.0
    z[3, 0] = z[4, -1] = 1
    kw = bce_options(opt, rng, shape, dtype)
    rl, rg = bce_ref(x, z, reduction=reduction, **kw)
    bce_close(bce(x, sps.csr_array(z), reduction=reduction, **kw), rl, dtype, "loss only")
    loss, grad = bce_g(x, sps.csr_array(z), reduction=reduction, **kw)
    bce_close(loss, rl, dtype, "loss")
    bce_close(grad, rg, dtype, "grad")


def test_sparse_soft_values_unsorted_indices_and_in_place_match_dense(rng):
    x, _ = sparse_case(rng, 20, 500, 0, np.float64)
    indptr = np.array([0] + [3 * (r + 1) for r in range(20)])
    indices = np.concatenate([rng.choice(500, 3, replace=False) for _ in range(20)])  # unsorted
    data = rng.random(60)
    z = np.zeros_like(x)
    for r in range(20):
        z[r, indices[3 * r:3 * r + 3]] = data[3 * r:3 * r + 3]
    t = Positives(indptr, indices, data)
    rl, rg = bce_ref(x, z, pos_weight=np.full(500, 3.0))
    y = x.copy()
    loss, grad = bce_g(y, t, pos_weight=np.full(500, 3.0), grad_out=y)
    assert grad is y
    bce_close(loss, rl, np.float64)
    bce_close(grad, rg, np.float64)
    # a non-canonical scipy matrix (duplicates summed, as scipy defines it)
    coo = sps.coo_array((np.full(4, 0.5), ([0, 0, 1, 1], [3, 3, 7, 9])), shape=(2, 10))
    csr = sps.csr_array(coo, copy=True)
    csr.has_canonical_format = False
    csr = sps.csr_array((np.full(4, 0.5), np.array([3, 3, 7, 9]), np.array([0, 2, 4])), shape=(2, 10))
    xx = rng.standard_normal((2, 10))
    bce_close(bce(xx, csr), bce_ref(xx, csr.toarray())[0], np.float64)


@pytest.mark.parametrize("layout", ["fortran", "strided", "negative"])
def test_sparse_targets_with_strided_logits_match_dense(layout, rng):
    x, z = sparse_case(rng, 40, 300, 5, np.float32)
    xs = {"fortran": np.asfortranarray(x), "strided": np.repeat(x, 2, axis=1)[:, ::2],
          "negative": x[:, ::-1].copy()[:, ::-1]}[layout]
    kw = {"pos_weight": np.linspace(0.5, 2, 300, dtype=np.float32), "weight": np.full((40, 1), 2, np.float32)}
    for red in REDUCTIONS:
        rl, rg = bce_ref(x, z, reduction=red, **kw)
        loss, grad = bce_g(xs, sps.csr_array(z), reduction=red, **kw)
        bce_close(loss, rl, np.float32)
        bce_close(grad, rg, np.float32)
        bce_close(bce(xs, sps.csr_array(z), reduction=red, **kw), rl, np.float32)
    y = np.asfortranarray(x)
    loss, grad = bce_g(y, sps.csr_array(z), grad_out=y, **kw)
    bce_close(grad, bce_ref(x, z, **kw)[1], np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_extreme_logits_stay_finite_and_accurate(dtype):
    x = np.array([[-1e4, 1e4, -120, 120, 3.0], [1e4, -1e4, 120, -120, 0.0]], dtype=dtype)
    t = sps.csr_array(np.array([[0, 1, 0, 1, 0], [1, 0, 1, 0, 1]], dtype=dtype))
    loss, grad = bce_g(x, t, reduction="sum")
    rl, rg = bce_ref(x, t.toarray(), reduction="sum")
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # the z = 0 terms are summed first (in T lanes) and the positives corrected after: a
    # positive with a huge logit leaves an absolute rounding error of a few ulp of that logit
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(loss, rl, rtol=1e-6, atol=4 * 1e4 * eps)
    np.testing.assert_allclose(grad, rg, rtol=1e-6, atol=1e-30)


def test_sparse_loss_only_float32_long_rows_are_accurate(rng):
    """the product formulation of the loss-only sparse path: float32 accuracy on long rows,
    also when every logit is very negative (tiny softplus terms)"""
    for scale, shift in ((2.0, 0.0), (1.0, -12.0)):
        x = (rng.standard_normal((3, 200_000)) * scale + shift).astype(np.float32)
        z = np.zeros_like(x)
        z[:, ::50_000] = 1
        ref = bce_ref(x, z, reduction="sum")[0]
        got = bce(x, sps.csr_array(z), reduction="sum")
        assert abs(got / ref - 1) < 2e-6, (scale, shift, got, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k", [((300, 10), 5), ((200, 64), 1), ((200, 1000), 5), ((6, 20_000), 3)],
                         ids=["dense-ish", "short-sparse", "1000", "long"])
@pytest.mark.parametrize("opt", [{}, {"pos_weight": "pw"}, {"weight": "wrow"}], ids=["plain", "pw", "wrow"])
def test_sparse_every_path_matches_dense(shape, k, opt, dtype, rng):
    """each way a sparse call runs (rows scattered into a dense scratch target, loss-only
    sums with the positives masked, loss-only sums by runs between positives), with the
    index / data dtypes read as given (int32 / int64 indptr and indices in any pairing,
    float32 data, soft values) or
    converted (uint16, int8 data), non-finite logits at positives and elsewhere"""
    x, z = sparse_case(rng, *shape, k, dtype)
    s = sps.csr_array(z)
    rows, cols = np.nonzero(z)
    x[rows[0], cols[0]] = np.nan
    x[rows[-1], cols[-1]] = np.inf
    x[-1, np.flatnonzero(z[-1] == 0)[0]] = -np.inf
    kw = bce_options(opt, rng, shape, dtype)
    soft = np.where(np.arange(s.nnz) % 3 == 0, 0.25, 1.0)
    idx16 = shape[1] < 2 ** 16
    for ip, ix, data in [(s.indptr.astype(np.int32), s.indices.astype(np.int32), None),
                         (s.indptr.astype(np.int64), s.indices.astype(np.int64), s.data.astype(np.float32)),
                         (s.indptr.astype(np.int32), s.indices.astype(np.int64), None),
                         (s.indptr.astype(np.int64), s.indices.astype(np.uint16 if idx16 else np.int64),
                          np.ones(s.nnz, np.int8)),
                         (s.indptr, s.indices, soft)]:
        t = Positives(ip, ix, data)
        zz = np.zeros_like(z)
        zz[rows, cols] = 1 if data is None else data
        for red in REDUCTIONS:
            with np.errstate(invalid="ignore"):
                rl, rg = bce_ref(x, zz, reduction=red, **kw)
                loss, grad = bce_g(x, t, reduction=red, **kw)
                lo = bce(x, t, reduction=red, **kw)
            for got, ref in ((loss, rl), (grad, rg), (lo, rl)):
                np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
                np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
                fin = np.isfinite(ref)
                if np.any(fin):
                    bce_close(np.asarray(got)[fin], np.asarray(ref)[fin], dtype, red)


def test_sparse_validation_steps_across_rows_and_empty_rows():
    """sorted rows whose first index is below the previous row's last are valid; so are
    empty rows and unsorted rows without a repeat; a repeat after empty rows is caught;
    the caller's arrays are read as given (read-only too) and never changed"""
    x = np.zeros((5, 10))
    ip = np.array([0, 2, 2, 4, 4, 6], np.int32)
    ix = np.array([5, 9, 1, 3, 8, 0], np.int32)
    for a in (ip, ix):
        a.flags.writeable = False
    z = np.zeros((5, 10))
    z[[0, 0, 2, 2, 4, 4], ix] = 1
    bce_close(bce(x, Positives(ip, ix)), bce_ref(x, z)[0], np.float64)
    assert ix.tolist() == [5, 9, 1, 3, 8, 0] and ip.tolist() == [0, 2, 2, 4, 4, 6]
    bce_close(bce(x, Positives(ip, np.array([5, 9, 3, 1, 8, 0]))), bce_ref(x, z)[0], np.float64)
    with pytest.raises(ValueError, match="twice"):
        bce(x, Positives(ip, np.array([5, 9, 1, 3, 8, 8])))
    with pytest.raises(ValueError, match="twice"):
        bce(x, Positives(ip, np.array([5, 9, 3, 1, 0, 0])))
    with pytest.raises(IndexError, match="range"):   # a range error is reported before a repeat
        bce(x, Positives(ip, np.array([5, 5, 1, 3, 8, 10])))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_sparse_checks_ride_along_the_loss_tasks(itype, threads, rng):
    """many rows (several loss tasks, each checking its own rows' indices before it computes
    them): a bad index or a repeat in the last rows is found whichever task holds it, with
    allocated outputs or the caller's grad_out (checked before it is written); unsorted
    rows without a repeat give the dense result; int32 and int64 indices alike"""
    rows, cols = 6000, 10
    x, z = sparse_case(rng, rows, cols, 4, np.float32)
    z[-1] = 0
    z[-1, [2, 5, 7]] = 1
    s = sps.csr_array(z)
    ip, ix = s.indptr.astype(itype), s.indices.astype(itype)
    fastsmce.set_num_threads(threads)
    try:
        ref = bce_ref(x.astype(np.float64), z.astype(np.float64))
        un = ix.copy()
        last = slice(ip[-2], ip[-1])
        un[last] = un[last][::-1]                       # the last row reversed: still valid
        for idx in (ix, un):
            bce_close(bce(x, Positives(ip, idx)), ref[0], np.float32)
            loss, g = bce_g(x, Positives(ip, idx))
            bce_close(loss, ref[0], np.float32)
            np.testing.assert_allclose(g, ref[1], rtol=2e-5, atol=1e-10)
        bad, dup = ix.copy(), ix.copy()
        bad[-1] = cols                                  # outside, in the last task's rows
        dup[ip[-2] + 1] = dup[ip[-2]]                   # a repeat in the last row
        for t, exc, msg in ((bad, IndexError, "range"), (dup, ValueError, "twice")):
            with pytest.raises(exc, match=msg):
                bce(x, Positives(ip, t))
            with pytest.raises(exc, match=msg):
                bce_g(x, Positives(ip, t))
            out = np.full(x.shape, 7, np.float32)
            with pytest.raises(exc, match=msg):
                bce_g(x, Positives(ip, t), grad_out=out)
            assert np.all(out == 7)
    finally:
        fastsmce.set_num_threads(None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k", [((300, 10), 5), ((200, 64), 1), ((200, 1000), 5), ((6, 20_000), 3)],
                         ids=["dense-ish", "short-sparse", "1000", "long"])
def test_sparse_minus_inf_logit_at_a_zero_target_is_nan_as_dense(shape, k, dtype, rng):
    """x = -inf where the target is 0 gives NaN (0 * softplus(+inf), PyTorch's form) on
    every sparse path, as dense targets do, with no other special value in the call (a
    NaN elsewhere would hide a finite sum); +inf at a zero target gives inf"""
    x, z = sparse_case(rng, *shape, k, dtype)
    s = sps.csr_array(z)
    for val in (-np.inf, np.inf):
        xx = x.copy()
        xx[-1, np.flatnonzero(z[-1] == 0)[0]] = val
        for red in REDUCTIONS:
            with np.errstate(invalid="ignore"):
                dl, dg = bce_g(xx, z, reduction=red)
                sl, sg = bce_g(xx, s, reduction=red)
                lo = bce(xx, s, reduction=red)
            for got, ref in ((sl, dl), (lo, dl), (sg, dg)):
                np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
                np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
            assert np.isnan(dl).any() == (val < 0)      # the case the check is about


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_large_logit_at_a_positive_does_not_cancel(dtype, rng):
    """the packed-positives path sums every column as a zero target and takes the
    positives' share back; a positive with softplus(x) ~ x = 1e30 would cancel the whole
    row, so such a group is computed on the scattered target instead: the loss stays
    accurate (float64 reference), with and without the gradient, any reduction"""
    x, z = sparse_case(rng, 64, 1000, 3, dtype)
    z[5] = 0
    z[5, [10, 500]] = 1
    x[5, 10] = 1e30
    x[5, 500] = 30.0
    s = sps.csr_array(z)
    for red in REDUCTIONS:
        rl, rg = bce_ref(x, z, reduction=red)
        bce_close(bce(x, s, reduction=red), rl, dtype, red)
        loss, g = bce_g(x, s, reduction=red)
        bce_close(loss, rl, dtype, red)
        np.testing.assert_allclose(g, rg, rtol=2e-5 if dtype == np.float32 else 1e-12, atol=1e-30)
