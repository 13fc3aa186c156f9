"""Sparse (CSR) against dense targets for the binary cross-entropy: the same positives
(5 a row) given as a ``scipy.sparse``-like CSR object and as a dense 0/1 array, loss only
and loss + gradient (outputs allocated by the call), timed interleaved in one run.
Part of ``python -m fastsmce.bench`` (step ``bce_csr_vs_dense``)."""

from __future__ import annotations

import numpy as np

from .ops import Positives, dense_from_positives, inputs_sparse_positives
from .timing import TimingConfig, time_interleaved

#: the shapes of issue 18: a CSR target at most 2x dense at 10 classes, never slower
#: at >= 1000 classes and <= 5% density
SHAPES: tuple[tuple[int, int], ...] = ((64, 10), (4096, 10), (4096, 1000))
PER_ROW = 5


def run(module, cfg: TimingConfig, shapes=SHAPES, dtype: str = "float32", seed: int = 0) -> list:
    """One dict a shape: median seconds of each call and the sparse / dense ratios."""
    bce = module.binary_cross_entropy_with_logits
    bce_g = module.binary_cross_entropy_with_logits_with_grad
    out = []
    for shape in shapes:
        x, indptr, indices = inputs_sparse_positives(shape, dtype, np.random.default_rng(seed),
                                                     PER_ROW)
        t = Positives(indptr.astype(np.int32), indices.astype(np.int32), x.shape)
        z = dense_from_positives(x, indptr, indices)
        if not np.isclose(bce(x, t), bce(x, z), rtol=1e-4):
            raise AssertionError(f"bce_csr_vs_dense {shape}: sparse and dense losses differ")
        fns = {"loss dense": lambda: bce(x, z), "loss csr": lambda: bce(x, t),
               "loss+grad dense": lambda: bce_g(x, z), "loss+grad csr": lambda: bce_g(x, t)}
        med = {k: v.median for k, v in time_interleaved(fns, cfg).items()}
        out.append({"shape": list(shape), "dtype": dtype, "positives_per_row": min(PER_ROW, shape[1]),
                    "seconds": med,
                    "ratio_loss": med["loss csr"] / med["loss dense"],
                    "ratio_loss_grad": med["loss+grad csr"] / med["loss+grad dense"]})
    return out


def render(rows: list) -> str:
    from .report import format_time, render_table

    table = [["shape", "dtype", "loss dense", "loss csr", "csr/dense", "loss+grad dense",
              "loss+grad csr", "csr/dense"]]
    for r in rows:
        s = r["seconds"]
        table.append(["x".join(map(str, r["shape"])), r["dtype"],
                      format_time(s["loss dense"]), format_time(s["loss csr"]),
                      f"{r['ratio_loss']:.2f}", format_time(s["loss+grad dense"]),
                      format_time(s["loss+grad csr"]), f"{r['ratio_loss_grad']:.2f}"])
    return render_table(table)
