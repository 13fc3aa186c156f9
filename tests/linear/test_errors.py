"""Bad input to linear_cross_entropy raises a clear exception naming the argument, before
anything is computed."""

import numpy as np
import pytest

import fastsmce

lce = fastsmce.linear_cross_entropy


def ok(rng):
    return dict(input=rng.standard_normal((4, 3)), linear_weight=rng.standard_normal((5, 3)),
                target=np.array([0, 1, 4, -100]))


@pytest.mark.parametrize("change,exc,match", [
    ({"linear_weight": np.zeros((5, 2))}, ValueError, "linear_weight"),
    ({"linear_weight": np.zeros(5)}, ValueError, "linear_weight"),
    ({"linear_weight": np.zeros((0, 3))}, ValueError, "linear_weight"),
    ({"input": np.float64(1.0)}, ValueError, "input"),
    ({"input": np.zeros((4, 3), complex)}, TypeError, "input"),
    ({"linear_bias": np.zeros(4)}, ValueError, "linear_bias"),
    ({"target": np.array([0, 1, 5, 0])}, IndexError, "target"),
    ({"target": np.array([0, 1, -1, 0])}, IndexError, "target"),
    ({"target": np.zeros((4, 5))}, TypeError, "target"),
    ({"target": np.array([0, 1, 2])}, ValueError, "target"),
    ({"weight": np.ones(4)}, ValueError, "weight"),
    ({"weight": -np.ones(5)}, ValueError, "weight"),
    ({"weight": np.full(5, np.nan)}, ValueError, "weight"),
    ({"reduction": "avg"}, ValueError, "reduction"),
    ({"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ({"label_smoothing": "x"}, TypeError, "label_smoothing"),
    ({"z_loss": -1.0}, ValueError, "z_loss"),
    ({"z_loss": np.inf}, ValueError, "z_loss"),
    ({"softcap": 0.0}, ValueError, "softcap"),
    ({"softcap": -2.0}, ValueError, "softcap"),
    ({"softcap": np.nan}, ValueError, "softcap"),
    ({"ignore_index": 1.5}, TypeError, "ignore_index"),
])
@pytest.mark.parametrize("grad", [False, True])
def test_bad_input_raises_naming_the_argument(change, exc, match, grad, rng):
    kw = ok(rng)
    kw.update(change)
    fn = fastsmce.linear_cross_entropy_with_grad if grad else lce
    args = [kw.pop("input"), kw.pop("linear_weight"), kw.pop("target")]
    with pytest.raises(exc, match=match):
        fn(*args, **kw)
