"""BCE memory: the loss-only call, dense or sparse targets, allocates nothing of size N x C."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sps

import fastsmce
from helpers import sparse_case

bce = fastsmce.binary_cross_entropy_with_logits


@pytest.mark.parametrize("sparse", [False, True])
def test_bce_loss_only_allocates_nothing_of_size_n_by_c(sparse, rng):
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
