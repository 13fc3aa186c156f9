"""Sparse (CSR) targets against fastsmce's own dense path on the same data.

    PYTHONPATH=src python benchmarks/sparse_targets.py [--rows 4096] [--classes 100000]
        [--positives 5] [--threads 2] [--repeat 5] [--dtype float32]

Prints median times of binary_cross_entropy_with_logits (loss only) and
binary_cross_entropy_with_logits_with_grad (grad_out preallocated) with the dense 0/1
target and with the same positives as a scipy.sparse CSR array, and the ratios
dense / sparse, measured interleaved in one run.  Needs about 3 x rows x classes x itemsize
bytes of memory (logits, dense target, gradient)."""

import argparse
import time

import numpy as np
import scipy.sparse as sps

import fastsmce


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=4096)
    p.add_argument("--classes", type=int, default=100_000)
    p.add_argument("--positives", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    a = p.parse_args()
    fastsmce.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    n, c, k = a.rows, a.classes, min(a.positives, a.classes)
    x = np.empty((n, c), a.dtype)
    for i in range(0, n, 256):
        x[i:i + 256] = rng.standard_normal((min(256, n - i), c)) * 2
    cols = np.sort(np.stack([rng.choice(c, k, replace=False) for _ in range(n)]), axis=1)
    csr = sps.csr_array((np.ones(n * k, a.dtype), cols.ravel(), np.arange(0, n * k + 1, k)),
                        shape=(n, c))
    dense = np.zeros((n, c), a.dtype)
    dense[np.arange(n)[:, None], cols] = 1
    grad = np.empty_like(x)
    bce = fastsmce.binary_cross_entropy_with_logits
    bce_g = fastsmce.binary_cross_entropy_with_logits_with_grad
    cases = {
        "loss dense": lambda: bce(x, dense),
        "loss sparse": lambda: bce(x, csr),
        "loss+grad dense": lambda: bce_g(x, dense, grad_out=grad),
        "loss+grad sparse": lambda: bce_g(x, csr, grad_out=grad),
    }
    times = {name: [] for name in cases}
    for f in cases.values():
        f()
    for _ in range(a.repeat):  # interleaved, so a noisy neighbour hits every case alike
        for name, f in cases.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    med = {name: float(np.median(t)) for name, t in times.items()}
    print(f"{n}x{c} {a.dtype}, {k} positives a row, {a.threads} threads, median of {a.repeat}")
    for name, t in med.items():
        print(f"  {name:18s} {t * 1e3:9.1f} ms")
    print(f"  loss only:  dense / sparse = {med['loss dense'] / med['loss sparse']:.2f}x")
    print(f"  loss+grad:  dense / sparse = {med['loss+grad dense'] / med['loss+grad sparse']:.2f}x")


if __name__ == "__main__":
    main()
