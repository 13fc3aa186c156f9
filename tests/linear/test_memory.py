"""Peak memory: the N x V logits are never built.  RSS growth is measured in a subprocess
(so that the C core's and BLAS's allocations count) at N=2048, D=256, V=131072 (float32):
loss only <= 64 MiB, with gradients <= their size + 64 MiB (issue 14); with W given as the
transpose of a D x V array (Fortran-ordered) too, which BLAS reads without a copy; and at
N=2048, D=512, V=32000 ("rows-grad"), which takes the chunks-of-rows path."""

import json
import subprocess
import sys

import pytest

CODE = r"""
import json, resource, sys
import numpy as np
import fastsmce
N, D, V = (2048, 512, 32000) if sys.argv[1].startswith("rows") else (2048, 256, 131072)
rng = np.random.default_rng(0)
X = rng.standard_normal((N, D), dtype=np.float32) * 0.1
W = rng.standard_normal((V, D), dtype=np.float32) * 0.1
b = np.zeros(V, np.float32)
t = rng.integers(0, V, N)
if sys.argv[1].endswith("-fortran"):
    W = np.ascontiguousarray(W.T).T                     # an LM head stored as D x V
fastsmce.linear_cross_entropy(X[:8], W[:64], t[:8] % 64)      # load BLAS, warm up
def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as f:      # the peak (VmHWM) restarts from VmRSS
    f.write("5")
base = status("VmRSS:")
if sys.argv[1].startswith("loss"):
    fastsmce.linear_cross_entropy(X, W, t, linear_bias=b, z_loss=1e-4, softcap=30.0)
    grads = 0
else:
    loss, g = fastsmce.linear_cross_entropy_with_grad(X, W, t, linear_bias=b, z_loss=1e-4, softcap=30.0)
    grads = g.input.nbytes + g.linear_weight.nbytes + g.linear_bias.nbytes
print(json.dumps({"growth": status("VmHWM:") - base, "grads": grads}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("mode", ["loss", "grad", "loss-fortran", "grad-fortran", "rows-grad"])
def test_peak_rss_growth_is_bounded(mode):
    out = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["growth"] <= r["grads"] + 64 * 2 ** 20, r
    assert r["growth"] >= r["grads"], r      # the measurement sees the gradients themselves
