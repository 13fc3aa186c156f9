"""cross-entropy memory: loss-only and in-place calls make nothing of size N x C."""

import tracemalloc

import numpy as np
import pytest

import fastsmce
from helpers import xent_case


@pytest.mark.parametrize("kind", ["int", "prob"])
def test_loss_only_and_in_place_make_no_n_by_c_temporaries(kind):
    x, t, w = xent_case((2000, 500), dtype=np.float32, kind=kind)
    nbytes = x.nbytes
    for call in (lambda: fastsmce.cross_entropy(x, t, weight=w, label_smoothing=0.1),
                 lambda: fastsmce.cross_entropy(x, t, reduction="none"),
                 lambda: fastsmce.cross_entropy_with_grad(x, t, grad_out=x, weight=w)):
        call()
        tracemalloc.start()
        call()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < nbytes / 8, peak
