"""cross-entropy bad input: each raises the documented exception with a clear message, and
nothing is written to grad_out.  (Every argument of every function: common/test_bad_inputs.py.)"""

import numpy as np
import pytest

import fastsmce


def _bad(exc, match, *args, **kw):
    x = args[0]
    out = np.full(np.shape(x), 7.0, dtype=np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float64)
    with pytest.raises(exc, match=match):
        fastsmce.cross_entropy_with_grad(*args, grad_out=out, **kw)
    assert np.all(out == 7.0)
    with pytest.raises(exc, match=match):
        fastsmce.cross_entropy(*args, **kw)


def test_bad_input_raises_before_writing():
    x = np.zeros((4, 3))
    t = np.array([0, 1, 2, 1])
    _bad(IndexError, "class index 3", x, np.array([0, 1, 3, 1]))
    _bad(IndexError, "class index -1", x, np.array([0, -1, 2, 1]))
    _bad(ValueError, "target has shape", x, np.array([0, 1, 2]))
    _bad(ValueError, "integer dtype", x, np.zeros((4, 3), dtype=np.int64))
    _bad(TypeError, "class\\s+indices must be integers", x, np.zeros(4))
    _bad(TypeError, "target must hold", x, np.array(["a", "b", "c", "d"]))
    _bad(TypeError, "target must hold", x, np.zeros(4, dtype=bool))
    _bad(ValueError, "weight has shape", x, t, weight=np.ones(4))
    _bad(ValueError, "weight holds a negative", x, t, weight=np.array([1.0, -1.0, 1.0]))
    _bad(ValueError, "weight holds a non-finite", x, t, weight=np.array([1.0, np.nan, 1.0]))
    _bad(ValueError, "weight holds a non-finite", x, t, weight=np.array([1.0, np.inf, 1.0]))
    _bad(TypeError, "weight must be a real", x, t, weight=np.array(["a", "b", "c"]))
    _bad(ValueError, "reduction must be one of", x, t, reduction="avg")
    _bad(ValueError, "reduction must be one of", x, t, reduction=None)
    _bad(ValueError, "label_smoothing must lie in", x, t, label_smoothing=1.5)
    _bad(ValueError, "label_smoothing must lie in", x, t, label_smoothing=-0.1)
    _bad(ValueError, "label_smoothing must lie in", x, t, label_smoothing=float("nan"))
    _bad(TypeError, "label_smoothing must be a number", x, t, label_smoothing="a")
    _bad(TypeError, "ignore_index must be an integer", x, t, ignore_index=1.5)
    _bad(ValueError, "ignore_index must fit in int64", x, t, ignore_index=2**64)
    _bad(IndexError, "class index 3", x, np.array([0, 1, 3, 1]), weight=np.ones(3))
    _bad(TypeError, "logits must be a real", np.zeros((4, 3), dtype=complex), t)
    _bad(np.exceptions.AxisError, "axis 2 is out of bounds", x, t, axis=2)
    with pytest.raises(ValueError, match="at least one dimension"):
        fastsmce.cross_entropy(np.float64(1.0), 0)


def test_bad_grad_out_raises_naming_grad_out():
    x = np.zeros((4, 3))
    t = np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match="grad_out has shape"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=np.zeros((4, 4)))
    with pytest.raises(TypeError, match="grad_out has dtype"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=np.zeros((4, 3), dtype=np.float32))
    ro = np.zeros((4, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="grad_out is read-only"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=ro)
    with pytest.raises(TypeError, match="grad_out must be a numpy.ndarray"):
        fastsmce.cross_entropy_with_grad(x, t, grad_out=[[0.0] * 3] * 4)
