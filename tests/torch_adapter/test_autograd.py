"""torch.autograd.gradcheck in float64 through every function, and torch.library.opcheck
(schema, fake, autograd registration, AOT dispatch) on every registered custom op."""

import pytest

import fastsmce

torch = pytest.importorskip("torch")

F64 = dict(dtype=torch.float64)


def targets():
    t = torch.randint(0, 5, (3, 2))
    t[0, 1] = -100
    return t


def leaf(*shape):
    return torch.randn(*shape, **F64).requires_grad_()


# name -> (function of the differentiable tensors, those tensors)
def cases(fst):
    t = targets()
    probs = torch.softmax(torch.randn(3, 5, 2, **F64), 1)
    bt = (torch.rand(3, 5, **F64) > 0.5).double()
    w = torch.rand(5, **F64) + 0.1
    return {
        "softmax": (lambda x: fst.softmax(x, 1), [leaf(3, 5, 2)]),
        "log_softmax": (lambda x: fst.log_softmax(x, -1), [leaf(3, 5)]),
        "logsumexp": (lambda x: fst.logsumexp(x, 0, keepdim=True), [leaf(3, 5)]),
        "cross_entropy": (lambda x: fst.cross_entropy(x, t, w, label_smoothing=0.1),
                          [leaf(3, 5, 2)]),
        "cross_entropy_none": (lambda x: fst.cross_entropy(x, t, reduction="none"),
                               [leaf(3, 5, 2)]),
        "cross_entropy_probs": (lambda x: fst.cross_entropy(x, probs, reduction="sum"),
                                [leaf(3, 5, 2)]),
        "bce": (lambda x: fst.binary_cross_entropy_with_logits(x, bt, pos_weight=w),
                [leaf(3, 5)]),
        "bce_none": (lambda x: fst.binary_cross_entropy_with_logits(x, bt, reduction="none"),
                     [leaf(3, 5)]),
        "focal": (lambda x: fst.sigmoid_focal_loss(x, bt), [leaf(3, 5)]),
        "linear": (lambda x, lw, b: fst.linear_cross_entropy(
            x, lw, t, linear_bias=b, z_loss=1e-2, softcap=3.0, label_smoothing=0.1),
            [leaf(3, 2, 4), leaf(5, 4), leaf(5)]),
        "linear_none": (lambda x, lw: fst.linear_cross_entropy(x, lw, t, reduction="none"),
                        [leaf(3, 2, 4), leaf(5, 4)]),
    }


NAMES = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "cross_entropy_none",
         "cross_entropy_probs", "bce", "bce_none", "focal", "linear", "linear_none"]


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(fst, name):
    fn, inputs = cases(fst)[name]
    assert torch.autograd.gradcheck(fn, inputs)


def opcheck_cases(fst):
    """(op, args) covering every registered op, with and without the forward's gradient"""
    x, t = leaf(3, 5, 2), targets()
    bt = (torch.rand(3, 5, **F64) > 0.5).double()
    w = torch.rand(5, **F64) + 0.1
    xl, lw, lb = leaf(3, 2, 4), leaf(5, 4), leaf(5)
    y = torch.softmax(x, 1).detach()
    sw, sb, sh = leaf(40, 4), leaf(40), leaf(3, 4)
    labels = torch.tensor([[1], [7], [30]])
    values = [torch.as_tensor(v) for v in fastsmce.sampling.log_uniform_candidate_sampler(
        labels.numpy(), 1, 6, True, 40, seed=2)]
    return [
        ("sampled_softmax_loss", (sw, sb, labels, sh, 6, 40, 1, *values, "log_uniform", True,
                                  True, None, "mean", False, True)),
        ("sampled_softmax_loss", (sw.detach(), sb.detach(), labels, sh.detach(), 6, 40, 1, None,
                                  None, None, "uniform", True, True, 5, "none", False, False)),
        ("softmax", (x, 1)),
        ("log_softmax", (x, -1)),
        ("logsumexp", (x, 1, False)),
        ("logsumexp", (x, 0, True)),
        ("softmax_backward", (torch.randn_like(y), y, 1)),
        ("log_softmax_backward", (torch.randn_like(y), y.log(), 1)),
        ("cross_entropy", (x, t, w, -100, "mean", 0.1, True)),
        ("cross_entropy", (x, t, None, -100, "none", 0.0, True)),
        ("cross_entropy", (x, t, None, -100, "sum", 0.0, False)),
        ("binary_cross_entropy_with_logits", (x[:, :, 0], bt, None, w, "mean", True)),
        ("binary_cross_entropy_with_logits", (x[:, :, 0], bt, w, None, "none", True)),
        ("sigmoid_focal_loss", (x[:, :, 0], bt, 0.25, 2.0, "none", True)),
        ("linear_cross_entropy", (xl, lw, t, lb, w, "mean", -100, 0.1, 1e-2, 3.0, True)),
        ("linear_cross_entropy", (xl, lw, t, None, None, "none", -100, 0.0, 0.0, None, False)),
        ("linear_cross_entropy_backward",
         (torch.rand(3, 2, **F64), xl.detach(), lw.detach(), t, lb.detach(), None, -100, 0.0,
          1e-2, None)),  # a backward op: no double backward
    ]


def test_every_op_has_an_opcheck_case(fst):
    registered = {op.op._qualname for op in fst._OPS.values()}
    checked = {f"fastsmce::{name}" for name, _ in opcheck_cases(fst)}
    assert registered == checked


@pytest.mark.parametrize("case", range(17))
def test_opcheck(fst, case):
    name, args = opcheck_cases(fst)[case]
    op = getattr(torch.ops.fastsmce, name).default
    result = torch.library.opcheck(op, args)
    assert set(result.values()) == {"SUCCESS"}, result
