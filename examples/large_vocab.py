"""Training a softmax classifier over a million classes with sampled softmax.

A synthetic teacher: class k has prior pi_k (Zipf, exponent --zipf, classes in
order of decreasing frequency) and inputs x ~ N(mu_k, I) in D = 64 dimensions.
The Bayes posterior p(k | x) is then exactly a linear softmax,

    logits_k = mu_k . x + (log pi_k - |mu_k|^2 / 2),

so a linear softmax student can reach the teacher's cross-entropy, printed as
the floor.  The student trains with ``fastsmce.sampled_softmax_loss_with_grad``
(log-uniform candidates, which match the Zipf order) and sparse row-wise
Adagrad: only the rows of the classes a step touched are read and written,
``W[ids] -= lr * g / sqrt(acc[ids])``.  No (classes x dim) gradient and no
(batch x classes) logits are ever made.

Reported: the held-out cross-entropy of the FULL softmax over all classes
(computed in chunks with fastsmce.logsumexp) and the wall time.  A second part
trains the same model on a smaller class count with the full softmax (every
class's logit and gradient each step) and with sampled softmax at several S,
for the same number of steps, to show the gap S leaves.

    python examples/large_vocab.py              # ~1-2 minutes on 2 cores
    python examples/large_vocab.py --big        # more data and steps

Recorded with the defaults (2 cores shared with other jobs; batch 256, 400 steps,
100,000 training examples, D = 64; held-out cross-entropy in nats; whole run 82 s):

    C = 1,000,000   uniform 13.816, teacher floor 3.216
                    sampled S=1024  7.220   15 ms a step (6.1 s)
                    (37,631 classes occur in the training set: most of the gap
                    to the floor is data; --big closes more of it)
    C = 20,000      teacher floor 1.598
                    full softmax    3.948   116 ms a step (46.5 s)
                    sampled S=64    4.056   gap +0.108    3 ms a step (1.2 s)
                    sampled S=256   3.972   gap +0.025    (1.5 s)
                    sampled S=1024  3.946   gap -0.002    (5.4 s)

S of about 5% of the classes matched the full softmax; S = 256 (1.3%) came
within 0.6%, S = 64 (0.3%) within 3% of its cross-entropy.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import fastsmce


class Teacher:
    def __init__(self, classes, dim, zipf, sep, seed):
        rng = np.random.default_rng(seed)
        self.rng = rng
        k = np.arange(1, classes + 1, dtype=np.float64)
        prior = k ** -zipf
        self.prior = prior / prior.sum()
        self.cdf = np.cumsum(self.prior)
        self.mu = (rng.standard_normal((classes, dim)) * sep / np.sqrt(dim)).astype(np.float32)
        self.W = self.mu
        self.b = (np.log(self.prior) - 0.5 * (self.mu.astype(np.float64) ** 2).sum(1)).astype(np.float32)

    def draw(self, n):
        y = np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), self.prior.size - 1)
        x = self.mu[y] + self.rng.standard_normal((n, self.mu.shape[1]), dtype=np.float32)
        return x.astype(np.float32), y.astype(np.int64)


def full_cross_entropy(W, b, x, y, chunk=64):
    """mean over examples of logsumexp(x W^T + b) - logit of the label: all classes"""
    total = 0.0
    for i in range(0, x.shape[0], chunk):
        xs, ys = x[i:i + chunk], y[i:i + chunk]
        logits = xs @ W.T
        logits += b
        total += float((fastsmce.logsumexp(logits, axis=1) - logits[np.arange(ys.size), ys]).sum())
    return total / x.shape[0]


class Bar:
    def __init__(self, total, label):
        self.total, self.label, self.t0 = total, label, time.perf_counter()
        self.tty = sys.stderr.isatty()

    def update(self, i, extra=""):
        if not self.tty and i not in (self.total,):
            return
        w = 30
        f = w * i // self.total
        el = time.perf_counter() - self.t0
        sys.stderr.write(f"\r{self.label:24s} [{'#' * f}{'.' * (w - f)}] {i}/{self.total} "
                         f"{el:5.1f}s {extra}" + ("\n" if i == self.total else ""))
        sys.stderr.flush()


def train(teacher, x, y, xv, yv, *, steps, batch, lr, sampled=None, seed=0, label=""):
    """Row-wise Adagrad on (W, b); sampled=None: full softmax.  Returns (ce, seconds)."""
    C, D = teacher.W.shape
    rng = np.random.default_rng(seed)
    W = np.zeros((C, D), np.float32)
    b = np.zeros(C, np.float32)
    acc = np.full(C, 1e-3, np.float32)  # one Adagrad accumulator a row (weights and bias)
    bar = Bar(steps, label)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        idx = rng.integers(0, x.shape[0], batch)
        xb, yb = x[idx], y[idx]
        if sampled is None:
            logits = xb @ W.T
            logits += b
            loss = float((fastsmce.logsumexp(logits, axis=1) - logits[np.arange(batch), yb]).mean())
            g = fastsmce.softmax(logits, out=logits)
            g[np.arange(batch), yb] -= 1
            g /= batch
            gw, gb = g.T @ xb, g.sum(0)
            acc += (gw ** 2).mean(1) + gb ** 2
            scale = lr / np.sqrt(acc)
            W -= scale[:, None] * gw
            b -= scale * gb
        else:
            loss, g = fastsmce.sampled_softmax_loss_with_grad(
                W, b, yb, xb, sampled, C, sampler="log_uniform", seed=seed * 1_000_003 + step)
            ids = g.ids
            acc[ids] += (g.weights ** 2).mean(1) + g.biases ** 2
            scale = lr / np.sqrt(acc[ids])
            W[ids] -= scale[:, None] * g.weights
            b[ids] -= scale * g.biases
        if step % 20 == 0 or step == steps:
            bar.update(step, f"train loss {float(loss):.3f}")
    seconds = time.perf_counter() - t0
    return full_cross_entropy(W, b, xv, yv), seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--classes", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of the class prior")
    p.add_argument("--sep", type=float, default=4.0, help="spread of the class means")
    p.add_argument("--train", type=int, default=100_000, help="training examples")
    p.add_argument("--heldout", type=int, default=1024)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--sampled", type=int, default=1024, help="S for the large run")
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--small-classes", type=int, default=20_000,
                   help="class count of the full-vs-sampled comparison")
    p.add_argument("--small-s", default="64,256,1024", help="S values for the comparison")
    p.add_argument("--big", action="store_true", help="1M training examples, 5000 steps")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.big:
        a.train, a.steps = 1_000_000, 5_000
    print(f"fastsmce {fastsmce.__version__}, {fastsmce.get_num_threads()} threads")

    # ---- the large run: sampled softmax only (a full softmax step would be ~1000x dearer)
    t = Teacher(a.classes, a.dim, a.zipf, a.sep, a.seed)
    x, y = t.draw(a.train)
    xv, yv = t.draw(a.heldout)
    print(f"\nC = {a.classes:,} classes, D = {a.dim}, {a.train:,} training examples "
          f"({np.unique(y).size:,} distinct classes seen), batch {a.batch}, {a.steps} steps")
    floor = full_cross_entropy(t.W, t.b, xv, yv)
    print(f"  held-out full-softmax cross-entropy: uniform {np.log(a.classes):.3f}, "
          f"teacher (Bayes floor) {floor:.3f}")
    ce, sec = train(t, x, y, xv, yv, steps=a.steps, batch=a.batch, lr=a.lr, sampled=a.sampled,
                    seed=a.seed, label=f"sampled S={a.sampled}")
    print(f"  sampled softmax S={a.sampled:<6d} held-out CE {ce:.3f}   train {sec:6.1f} s "
          f"({sec / a.steps * 1e3:.2f} ms/step)")
    del t, x, y

    # ---- full softmax vs sampled at several S, on fewer classes
    t = Teacher(a.small_classes, a.dim, a.zipf, a.sep, a.seed + 1)
    x, y = t.draw(a.train)
    xv, yv = t.draw(a.heldout)
    print(f"\nC = {a.small_classes:,} classes: full softmax against sampled softmax, "
          f"{a.steps} steps each")
    floor = full_cross_entropy(t.W, t.b, xv, yv)
    ce_full, sec = train(t, x, y, xv, yv, steps=a.steps, batch=a.batch, lr=a.lr, label="full softmax")
    print(f"  teacher (Bayes floor) held-out CE {floor:.3f}")
    print(f"  full softmax          held-out CE {ce_full:.3f}   train {sec:6.1f} s")
    for s in (int(v) for v in a.small_s.split(",")):
        ce, sec = train(t, x, y, xv, yv, steps=a.steps, batch=a.batch, lr=a.lr, sampled=s,
                        seed=a.seed, label=f"sampled S={s}")
        print(f"  sampled S={s:<6d}      held-out CE {ce:.3f}   train {sec:6.1f} s   "
              f"gap to full {ce - ce_full:+.3f}")


if __name__ == "__main__":
    main()
