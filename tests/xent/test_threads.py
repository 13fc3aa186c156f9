"""cross-entropy: bit-identical results for 1, 2 and 3 threads, every reduction, class
indices and probabilities, rows and columns."""

import numpy as np
import pytest

import fastsmce
from helpers import REDUCTIONS, xent_case

pytestmark = pytest.mark.threads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis,kind", [((4096, 100), -1, "int"), ((3000, 300), -1, "prob"),
                                              ((64, 10, 8, 9), 1, "int"), ((4, 200000), -1, "int"),
                                              ((50000, 3), -1, "int"), ((3000, 17), 0, "int"),
                                              ((3000, 17), 0, "prob")])
def test_results_bit_identical_for_1_2_and_3_threads(dtype, shape, axis, kind):
    x, t, w = xent_case(shape, axis=axis, dtype=dtype, kind=kind, ignore_every=7 if kind == "int" else 0)
    res = []
    try:
        for n in (1, 2, 3):
            fastsmce.set_num_threads(n)
            out = []
            for red in REDUCTIONS:
                out += list(fastsmce.cross_entropy_with_grad(x, t, axis=axis, weight=w, reduction=red,
                                                             label_smoothing=0.05))
                out.append(fastsmce.cross_entropy(x, t, axis=axis, reduction=red))
            res.append(out)
    finally:
        fastsmce.set_num_threads(None)
    for other in res[1:]:
        for a, b in zip(res[0], other):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
