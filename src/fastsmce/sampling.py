"""Candidate samplers for sampled softmax and NCE, with TensorFlow's semantics.

Each sampler draws ``num_sampled`` classes out of ``range_max`` and returns
``(sampled, true_expected_count, sampled_expected_count)`` exactly as
``tf.random.*_candidate_sampler`` define them:

* ``sampled``: int64 (num_sampled,);
* ``true_expected_count``: float32 shaped like ``true_classes``, the expected
  number of times each true class appears among the draws;
* ``sampled_expected_count``: float32 (num_sampled,), the same for each draw.

With ``unique=False`` the draws are independent and the expected count of a
class of probability p is ``p * num_sampled``.  With ``unique=True`` draws
repeat until ``num_sampled`` distinct classes are found (rejection, as
TensorFlow); with ``num_tries`` the draws made, the expected count is
``-expm1(num_tries * log1p(-p))`` (TensorFlow's shortcut ``p * num_sampled``
when no draw was rejected).

Draws come from a counter-based generator in C (SplitMix64): ``seed=int``
gives the same classes on every machine and for any thread count;
``seed=None`` takes a fresh seed from the OS.  (The log-uniform sampler inverts
its CDF with the C library's ``exp``, as TensorFlow does; platforms whose
``exp`` differs in the last bit could, very rarely, round a draw differently.)
The draws cannot match TensorFlow's own generator.
"""

from ._core import _Sampler

__all__ = [
    "uniform_candidate_sampler",
    "log_uniform_candidate_sampler",
    "fixed_unigram_candidate_sampler",
    "FixedUnigramSampler",
]


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, *, seed=None):
    """Classes drawn uniformly from [0, range_max); P(k) = 1 / range_max.

    true_classes: integers (batch, num_true) in [0, range_max).
    Returns (sampled, true_expected_count, sampled_expected_count).
    """
    return _Sampler(0, range_max).sample(true_classes, num_true, num_sampled, unique, seed)[:3]


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, *, seed=None):
    """Classes drawn from the log-uniform (Zipfian) distribution on [0, range_max):
    P(k) = (log(k + 2) - log(k + 1)) / log(range_max + 1), by inverting its CDF
    (k = floor(exp(u * log(range_max + 1))) - 1, u uniform in [0, 1)), as
    TensorFlow.  Suited to classes sorted by decreasing frequency.
    Returns (sampled, true_expected_count, sampled_expected_count).
    """
    return _Sampler(1, range_max).sample(true_classes, num_true, num_sampled, unique, seed)[:3]


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, *,
                                    unigrams, distortion=1.0, seed=None):
    """Classes drawn with P(k) proportional to unigrams[k] ** distortion
    (unigrams: range_max counts or weights, finite, >= 0), by Walker's alias
    method: O(range_max) to build the table, O(1) a draw.  The table is built at
    every call; FixedUnigramSampler keeps it.
    Returns (sampled, true_expected_count, sampled_expected_count).
    """
    s = _Sampler(2, range_max, unigrams, distortion)
    return s.sample(true_classes, num_true, num_sampled, unique, seed)[:3]


class FixedUnigramSampler:
    """fixed_unigram_candidate_sampler with its alias table built once.

    Callable with the samplers' signature, so it can be given as the ``sampler``
    of sampled_softmax_loss / nce_loss::

        s = FixedUnigramSampler(counts, distortion=0.75)
        sampled, true_ec, sampled_ec = s(labels, 1, 64, True, len(counts), seed=0)
    """

    def __init__(self, unigrams, distortion=1.0):
        self._s = _Sampler(2, None, unigrams, distortion)   # range_max: len(unigrams)

    @property
    def probabilities(self):
        """P(k) of every class, float64"""
        return self._s.prob

    def __call__(self, true_classes, num_true, num_sampled, unique, range_max, *, seed=None):
        if range_max != self._s.range_max:
            raise ValueError(f"range_max={range_max} differs from the {self._s.range_max} "
                             f"unigrams of this sampler")
        return self._s.sample(true_classes, num_true, num_sampled, unique, seed)[:3]
