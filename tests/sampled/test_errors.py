"""Sampled softmax and NCE bad input: each raises the documented exception with a clear message.
(Every argument of every function: common/test_bad_inputs.py.)"""

import pytest

from helpers import SAMPLED_FUNCS, SAMPLED_MODES, sampled_problem


def _args(rng):
    W, b, lab, X, sv = sampled_problem(rng, nt=2)
    return dict(weights=W, biases=b, labels=lab, inputs=X, num_sampled=sv[0].size, num_classes=30,
                num_true=2, sampled_values=sv)


@pytest.mark.parametrize("mode", SAMPLED_MODES)
@pytest.mark.parametrize("change, exc, match", [
    (lambda a: a.update(sampled_values=None, num_sampled=31), ValueError, "num_sampled=31 exceeds"),
    (lambda a: a["labels"].__setitem__((0, 0), 30), ValueError, r"labels must lie in \[0, 30\)"),
    (lambda a: a["labels"].__setitem__((0, 0), -1), ValueError, "labels must lie in"),
    (lambda a: a.update(num_true=3), ValueError, "labels has shape"),
    (lambda a: a.update(labels=a["labels"][:-1]), ValueError, "labels has shape"),
    (lambda a: a.update(labels=a["labels"].astype(float)), TypeError, "labels must be an integer"),
    (lambda a: a.update(inputs=a["inputs"][:, :-1]), ValueError, "inputs has shape"),
    (lambda a: a.update(biases=a["biases"][:-1]), ValueError, "biases has shape"),
    (lambda a: a.update(num_classes=31), ValueError, "weights has shape"),
    (lambda a: a.update(num_sampled=8), ValueError, "sampled.* has shape"),
    (lambda a: a.update(sampled_values=a["sampled_values"][:2]), ValueError, "triple"),
    (lambda a: a.update(sampled_values=(a["sampled_values"][0] + 30,) + a["sampled_values"][1:]),
     ValueError, "sampled.*must lie in"),
    (lambda a: a.update(sampled_values=a["sampled_values"][:1] + (a["sampled_values"][1][:, :1],
                                                                 a["sampled_values"][2])),
     ValueError, "true_expected_count.*shape"),
    (lambda a: a.update(sampled_values=a["sampled_values"][:2] + (a["sampled_values"][2] * 0,)),
     ValueError, "must be > 0"),
    (lambda a: a.update(reduction="avg"), ValueError, "reduction"),
    (lambda a: a.update(sampled_values=None, sampler="zipf"), ValueError, "sampler must be"),
    (lambda a: a.update(weights=a["weights"].astype(complex)), TypeError, "weights must be a real"),
])
def test_bad_input_raises_with_a_clear_message(rng, mode, change, exc, match):
    a = _args(rng)
    change(a)
    f = SAMPLED_FUNCS[mode][1]
    with pytest.raises(exc, match=match):
        f(a.pop("weights"), a.pop("biases"), a.pop("labels"), a.pop("inputs"), a.pop("num_sampled"),
          a.pop("num_classes"), **a)
