"""Slow, obviously-correct float64 / longdouble references of every fastsmce operation, shared
by the tests (tests/<op>/) and the fuzzer (fuzz/fuzz_fastsmce.py).  They never call fastsmce.

    reference.softmax   softmax, log_softmax, logsumexp and both backward passes (longdouble),
                        explicit Jacobians, and the tolerance checks of DESIGN.md section 3
    reference.linear    fused linear + cross-entropy (softcap, z-loss) and its gradients
    reference.xent      cross-entropy (class indices or probabilities, weight, ignore_index,
                        label smoothing, every reduction) and its analytic gradient
    reference.binary    sigmoid / log_sigmoid (longdouble), ulp distance, BCE with logits
                        (weight, pos_weight), torchvision's sigmoid focal loss (and mpmath)
    reference.sampled   sampled softmax / NCE as TensorFlow computes them, and their gradients
    reference.samplers  the samplers' distributions and expected counts
    reference.exp       the ulp checks of the kernels' exp
"""

from . import binary, exp, linear, sampled, samplers, softmax, xent  # noqa: F401
