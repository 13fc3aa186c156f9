"""The limits of the fused linear cross-entropy at the issue's shapes (2 threads, float32),
measured in one run: what the floor of three products reaches against the machine's GEMM
rate, what a copy of W / d W costs, and so what each path of fastsmce.linear_cross_entropy
can reach within a work memory of gradients + 64 MiB.

    python benchmarks/linear_limits.py [N,D,V ...]

- gemm rate: one product of in-cache blocks (N x 512 x D), GFLOP/s: the arithmetic limit;
- floor: the three products on full N x V logits (fastsmce.bench.linear's floor), GFLOP/s;
- rows path: 3 products + per chunk of rows W read twice and d W read and written
  (4 V D bytes x chunks), the traffic timed as copies of W at the measured bandwidth;
- blocks path: 4 products at the block rate.
"""

import sys
import time

import numpy as np

import fastsmce
from fastsmce import _core


def best(f, n=3):
    f()
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return min(t)


def limits(N, D, V):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D), dtype=np.float32)
    W = rng.standard_normal((V, D), dtype=np.float32) * 0.05
    t = rng.integers(0, V, N)
    G = np.empty((N, V), np.float32)
    dX = np.empty_like(X)
    dW = np.empty_like(W)
    flops3 = 3 * 2.0 * N * D * V
    floor = best(lambda: _core._linear_gemms(X, W, G, dX, dW))
    # in-cache blocks: the same three products on a 512-class slice (the blocks path's shape)
    Wb, Gb, dWb = W[:512].copy(), np.empty((N, 512), np.float32), np.empty((512, D), np.float32)
    blk = best(lambda: _core._linear_gemms(X, Wb, Gb, dX, dWb), 5)
    rate_blk = 3 * 2.0 * N * D * 512 / blk
    dst = np.empty_like(W)
    cp = best(lambda: np.copyto(dst, W))          # read W + write: 2 V D 4 bytes
    bw = 2 * W.nbytes / cp
    rows = max(1, min(N, (24 << 20) // (V * 4)))
    chunks = -(-N // rows)
    fused = {}
    for path in (1, 2):
        old = _core._set_linear("path", path)
        fused[path] = best(lambda: fastsmce.linear_cross_entropy_with_grad(X, W, t))
        _core._set_linear("path", old)
    print(f"N={N} D={D} V={V} float32, {fastsmce.get_num_threads()} threads")
    print(f"  floor (3 products, full logits) {floor:.3f} s = {flops3 / floor / 1e9:.0f} GFLOP/s; "
          f"in-cache blocks {rate_blk / 1e9:.0f} GFLOP/s; copy bandwidth {bw / 1e9:.1f} GB/s")
    extra = chunks * 4 * W.nbytes / bw
    print(f"  rows path: {chunks} chunks of {rows} rows; W twice + d W read/written a chunk = "
          f"{chunks * 4 * W.nbytes / 1e9:.1f} GB = {extra:.2f} s at that bandwidth; measured "
          f"{fused[1]:.3f} s = {fused[1] / floor:.2f}x the floor")
    four = 4 * 2.0 * N * D * V / rate_blk
    print(f"  blocks path: 4 products at the block rate = {four:.3f} s = {four / floor:.2f}x the "
          f"floor; measured {fused[2]:.3f} s = {fused[2] / floor:.2f}x the floor")
    print(f"  one chunk of all N rows (N x V logits, {N * V * 4 / 2**20:.0f} MiB, over the memory "
          f"bound): ", end="")
    old = _core._set_linear("budget", N * V * 4)
    one = best(lambda: fastsmce.linear_cross_entropy_with_grad(X, W, t))
    _core._set_linear("budget", old)
    print(f"{one:.3f} s = {one / floor:.2f}x the floor")


if __name__ == "__main__":
    fastsmce.set_num_threads(2)
    shapes = [tuple(map(int, a.split(","))) for a in sys.argv[1:]] or \
        [(2048, 512, 32000), (1024, 512, 128256)]
    for s in shapes:
        limits(*s)
