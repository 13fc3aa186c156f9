"""Train a small language-model head with fastsmce's fused linear cross-entropy and report
perplexity, never building the batch x vocabulary logits.

The corpus is synthetic and known: a bigram (Markov) language over a Zipf-distributed
vocabulary, so the best possible perplexity (exp of the chain's entropy rate) is printed
next to what the model reaches.  The model is the smallest real LM: an embedding of the
previous token (learned, through ``grads.input``) -> linear head ``W``, ``b`` (learned,
through ``grads.linear_weight`` / ``grads.linear_bias``), trained with Adam.

    python examples/lm_head_perplexity.py [--vocab 8192] [--dim 64] [--steps 300]
                                          [--z-loss 1e-4] [--label-smoothing 0.0]
"""

import argparse
import time

import numpy as np

import fastsmce


def bigram_language(V, rng, branching=8):
    """a Markov chain: each token is followed by one of `branching` successors, chosen with
    Zipf weights among the vocabulary; returns (successors, probabilities, entropy rate)"""
    zipf = 1.0 / np.arange(1, V + 1)
    succ = np.stack([rng.choice(V, branching, replace=False, p=zipf / zipf.sum()) for _ in range(V)])
    p = rng.dirichlet(np.full(branching, 0.5), V)
    # stationary distribution by power iteration, then the entropy rate
    pi = np.full(V, 1.0 / V)
    for _ in range(200):
        nxt = np.zeros(V)
        np.add.at(nxt, succ.ravel(), (pi[:, None] * p).ravel())
        pi = nxt
    H = -(pi[:, None] * p * np.log(np.maximum(p, 1e-300))).sum()
    return succ, p, H


def sample(succ, p, n, rng):
    out = np.empty(n, np.int64)
    out[0] = rng.integers(len(succ))
    u = rng.random(n)
    cum = np.cumsum(p, axis=1)
    for i in range(1, n):
        out[i] = succ[out[i - 1], np.searchsorted(cum[out[i - 1]], u[i] * cum[out[i - 1], -1])]
    return out


class Adam:
    def __init__(self, params, lr):
        self.p, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(a) for a in params]
        self.v = [np.zeros_like(a) for a in params]

    def step(self, grads):
        self.t += 1
        for a, g, m, v in zip(self.p, grads, self.m, self.v):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            a -= self.lr * (m / (1 - 0.9 ** self.t)) / (np.sqrt(v / (1 - 0.999 ** self.t)) + 1e-8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=3e-2)
    ap.add_argument("--z-loss", type=float, default=1e-4)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    V, D = a.vocab, a.dim
    succ, p, H = bigram_language(V, rng)
    train = sample(succ, p, 200_000, rng)
    val = sample(succ, p, 50_000, rng)
    E = (rng.standard_normal((V, D)) / np.sqrt(D)).astype(np.float32)     # embeddings
    W = (rng.standard_normal((V, D)) / np.sqrt(D)).astype(np.float32)     # the LM head
    b = np.zeros(V, np.float32)
    opt = Adam([E, W, b], a.lr)

    def val_ppl():
        loss = fastsmce.linear_cross_entropy(E[val[:-1]], W, val[1:], linear_bias=b)
        return float(np.exp(loss))

    print(f"vocabulary {V}, dim {D}; best possible perplexity exp(entropy rate) = {np.exp(H):.2f}, "
          f"uniform guess {V}; start: validation perplexity {val_ppl():.1f}")
    t0, tokens = time.perf_counter(), 0
    for step in range(1, a.steps + 1):
        i = rng.integers(0, len(train) - 1, a.batch)
        prev, nxt = train[i], train[i + 1]
        loss, g = fastsmce.linear_cross_entropy_with_grad(
            E[prev], W, nxt, linear_bias=b, z_loss=a.z_loss, label_smoothing=a.label_smoothing)
        dE = np.zeros_like(E)
        np.add.at(dE, prev, g.input)           # d loss / d embedding rows
        opt.step([dE, g.linear_weight, g.linear_bias])
        tokens += a.batch
        if step % max(1, a.steps // 6) == 0 or step == a.steps:
            print(f"step {step:5d}  train loss {float(loss):.3f}  validation perplexity "
                  f"{val_ppl():8.2f}  ({tokens / (time.perf_counter() - t0):,.0f} tokens/s)")
    print(f"final validation perplexity {val_ppl():.2f} (best possible {np.exp(H):.2f})")


if __name__ == "__main__":
    main()
