"""cross_entropy_with_grad: the gradient, and the analytic reference gradient the other tests
use, both against central finite differences of the reference loss, for every option and
reduction."""

import numpy as np
import pytest

import fastsmce
from helpers import REDUCTIONS, XENT_KIND_OPTS, XENT_OPTIONS, central_fd, xent_call, xent_case
from reference.xent import cross_entropy_grad_ref, cross_entropy_ref


@pytest.mark.parametrize("kind,opt", XENT_KIND_OPTS)
@pytest.mark.parametrize("red", REDUCTIONS)
def test_grad_matches_finite_differences(kind, opt, red):
    opt = XENT_OPTIONS[opt]
    x, t, w = xent_case((5, 7), kind=kind, ignore_every=opt.get("ignore_every", 0), seed=opt.get("ignore_every", 1))
    (loss, grad), kw = xent_call(fastsmce.cross_entropy_with_grad, x, t, w, opt, red)
    fd = central_fd(lambda z: np.sum(cross_entropy_ref(z, t, **kw)), x)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    # and the analytic reference the large tests use agrees with the differences
    np.testing.assert_allclose(cross_entropy_grad_ref(x, t, **kw), fd, rtol=1e-6, atol=1e-8)
