"""The binary family: bit-identical results for any thread count (dense and sparse BCE, sigmoid,
focal)."""

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce
from helpers import bce_case, sparse_case

bce = fastsmce.binary_cross_entropy_with_logits
bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
focal = fastsmce.sigmoid_focal_loss
focal_g = fastsmce.sigmoid_focal_loss_with_grad


@pytest.mark.threads
@pytest.mark.parametrize("shape", [(4096, 100), (1, 1_000_003), (3000, 3)])
@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid"])
def test_sigmoid_bit_identical_for_any_thread_count(name, shape, rng):
    x = rng.standard_normal(shape) * 10
    res = []
    for t in (1, 2, 3):
        fastsmce.set_num_threads(t)
        res.append(getattr(fastsmce, name)(x))
    assert np.array_equal(res[0], res[1]) and np.array_equal(res[0], res[2])


@pytest.mark.threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
def test_bce_bit_identical_for_1_2_and_3_threads(sparse, dtype, rng):
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


@pytest.mark.threads
def test_focal_bit_identical_for_1_and_2_threads(rng):
    x, z = bce_case(rng, (900, 333), np.float32, True, scale=3.0)
    res = []
    for n in (1, 2):
        fastsmce.set_num_threads(n)
        res.append(focal_g(x, z))
    assert res[0][0] == res[1][0] and np.array_equal(res[0][1], res[1][1])
