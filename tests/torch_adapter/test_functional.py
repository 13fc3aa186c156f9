"""Parity with torch.nn.functional / torch / torchvision: values and autograd gradients, every
option, float32 and float64, class dim 1 of (N, C, d1, d2), ignored rows."""

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = {torch.float32: dict(rtol=2e-5, atol=2e-6), torch.float64: dict(rtol=1e-12, atol=1e-13)}
DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
REDUCTIONS = pytest.mark.parametrize("reduction", ["mean", "sum", "none"])


def assert_parity(ours, theirs, inputs, dtype):
    """same values, and the same gradients for a random incoming gradient"""
    torch.testing.assert_close(ours, theirs, **TOL[dtype])
    g = torch.randn_like(theirs)
    ga = torch.autograd.grad(ours, inputs, g)
    gb = torch.autograd.grad(theirs, inputs, g)
    for a, b in zip(ga, gb):
        torch.testing.assert_close(a, b, **TOL[dtype])


def leaf(*shape, dtype, scale=1.0):
    return (torch.randn(*shape, dtype=dtype) * scale).requires_grad_()


@DTYPES
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(fst, dtype, dim, name):
    x = leaf(3, 4, 5, dtype=dtype, scale=3)
    assert_parity(getattr(fst, name)(x, dim), getattr(torch, name)(x, dim), (x,), dtype)


@DTYPES
@pytest.mark.parametrize("dim", [0, 2, -2, (1,), (0, 2), [-1, 0, 1], (2, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(fst, dtype, dim, keepdim):
    x = leaf(3, 4, 5, dtype=dtype, scale=3)
    assert_parity(fst.logsumexp(x, dim, keepdim), torch.logsumexp(x, dim, keepdim), (x,), dtype)
    assert_parity(fst.logsumexp(x, dim), torch.logsumexp(x, dim), (x,), dtype)


def test_logsumexp_repeated_dim_refused_like_torch(fst):
    with pytest.raises(RuntimeError, match="twice"):
        fst.logsumexp(torch.randn(2, 3, 4), (2, -1))


def test_softmax_dtype_argument(fst):
    x = torch.randn(4, 6)
    y = fst.softmax(x, -1, dtype=torch.float64)
    assert y.dtype == torch.float64
    torch.testing.assert_close(y, torch.softmax(x, -1, dtype=torch.float64))


def class_targets(shape, classes, ignore_index=-100):
    t = torch.randint(0, classes, shape)
    t.view(-1)[::3] = ignore_index  # every third example ignored
    return t


CE_OPTIONS = [
    {},
    {"label_smoothing": 0.2},
    {"weight": True},
    {"weight": True, "label_smoothing": 0.1},
    {"ignore_index": 2},
]


def ce_kwargs(opts, classes, dtype):
    kw = dict(opts)
    if kw.get("weight"):
        kw["weight"] = torch.rand(classes, dtype=dtype) + 0.1
    return kw


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 3), (5,)], ids=["NC", "NCd1d2", "C"])
def test_cross_entropy_indices(fst, dtype, reduction, opts, shape):
    x = leaf(*shape, dtype=dtype, scale=2)
    kw = ce_kwargs(opts, 5, dtype)
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    t = class_targets(tshape, 5, kw.get("ignore_index", -100)) if tshape else torch.tensor(3)
    assert_parity(fst.cross_entropy(x, t, reduction=reduction, **kw),
                  F.cross_entropy(x, t, reduction=reduction, **kw), (x,), dtype)


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.3}, {"weight": True}],
                         ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 3)], ids=["NC", "NCd1d2"])
def test_cross_entropy_probabilities(fst, dtype, reduction, opts, shape):
    x = leaf(*shape, dtype=dtype, scale=2)
    t = torch.softmax(torch.randn(*shape, dtype=dtype), 1)
    kw = ce_kwargs(opts, 5, dtype)
    assert_parity(fst.cross_entropy(x, t, reduction=reduction, **kw),
                  F.cross_entropy(x, t, reduction=reduction, **kw), (x,), dtype)


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient(fst):
    x = leaf(4, 3, dtype=torch.float64)
    t = torch.full((4,), -100)
    loss = fst.cross_entropy(x, t)
    assert torch.isnan(loss) and torch.isnan(F.cross_entropy(x, t))
    (g,) = torch.autograd.grad(loss, x)
    assert torch.equal(g, torch.zeros_like(x))


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("opts", [{}, {"weight": "row"}, {"weight": "full"}, {"pos_weight": True},
                                  {"weight": "row", "pos_weight": True}],
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("soft", [False, True], ids=["binary", "soft"])
def test_binary_cross_entropy_with_logits(fst, dtype, reduction, opts, soft):
    x = leaf(6, 4, dtype=dtype, scale=4)
    t = torch.rand(6, 4, dtype=dtype)
    t = t if soft else (t > 0.5).to(dtype)
    kw = {}
    if opts.get("weight") == "row":
        kw["weight"] = torch.rand(6, 1, dtype=dtype)
    elif opts.get("weight") == "full":
        kw["weight"] = torch.rand(6, 4, dtype=dtype)
    if opts.get("pos_weight"):
        kw["pos_weight"] = torch.rand(4, dtype=dtype) * 3
    assert_parity(fst.binary_cross_entropy_with_logits(x, t, reduction=reduction, **kw),
                  F.binary_cross_entropy_with_logits(x, t, reduction=reduction, **kw), (x,), dtype)


def torchvision_focal(inputs, targets, alpha, gamma, reduction):
    """torchvision.ops.sigmoid_focal_loss, verbatim"""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.5, 0.0), (-1.0, 1.5)])
def test_sigmoid_focal_loss(fst, dtype, reduction, alpha, gamma):
    x = leaf(5, 3, dtype=dtype, scale=3)
    t = (torch.rand(5, 3, dtype=dtype) > 0.5).to(dtype)
    assert_parity(fst.sigmoid_focal_loss(x, t, alpha, gamma, reduction),
                  torchvision_focal(x, t, alpha, gamma, reduction), (x,), dtype)


def test_sigmoid_focal_loss_default_is_none(fst):
    x, t = torch.randn(4, 3), (torch.rand(4, 3) > 0.5).float()
    assert fst.sigmoid_focal_loss(x, t).shape == (4, 3)


def reference_linear(x, w, t, b=None, weight=None, reduction="mean", ignore_index=-100,
                     label_smoothing=0.0, z_loss=0.0, softcap=None):
    """logits through torch, then F.cross_entropy plus z_loss * lse**2 per counted row"""
    logits = F.linear(x, w, b)
    if softcap is not None:
        logits = softcap * torch.tanh(logits / softcap)
    logits, tt = logits.reshape(-1, w.shape[0]), t.reshape(-1)
    ce = F.cross_entropy(logits, tt, weight=weight, ignore_index=ignore_index,
                         reduction=reduction, label_smoothing=label_smoothing)
    counted = tt != ignore_index
    z = z_loss * torch.logsumexp(logits, -1) ** 2 * counted
    if reduction == "none":
        return (ce + z).reshape(t.shape)
    return ce + (z.sum() if reduction == "sum" else z.sum() / counted.sum())


LINEAR_OPTIONS = [
    {},
    {"bias": True},
    {"bias": True, "weight": True, "label_smoothing": 0.1},
    {"z_loss": 1e-2, "softcap": 4.0},
    {"bias": True, "z_loss": 1e-3, "ignore_index": 1},
]


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("opts", LINEAR_OPTIONS, ids=lambda o: ",".join(o) or "default")
def test_linear_cross_entropy(fst, dtype, reduction, opts):
    kw = dict(opts)
    x, w = leaf(2, 5, 4, dtype=dtype), leaf(7, 4, dtype=dtype)
    inputs = [x, w]
    b = leaf(7, dtype=dtype) if kw.pop("bias", False) else None
    if b is not None:
        inputs.append(b)
    if kw.get("weight"):
        kw["weight"] = torch.rand(7, dtype=dtype) + 0.1
    t = class_targets((2, 5), 7, kw.get("ignore_index", -100))
    ours = fst.linear_cross_entropy(x, w, t, linear_bias=b, reduction=reduction, **kw)
    assert_parity(ours, reference_linear(x, w, t, b, reduction=reduction, **kw), inputs, dtype)


def test_linear_cross_entropy_matches_torchs_own(fst):
    x, w, b = leaf(6, 4, dtype=torch.float64), leaf(9, 4, dtype=torch.float64), \
        leaf(9, dtype=torch.float64)
    t = class_targets((6,), 9)
    assert_parity(fst.linear_cross_entropy(x, w, t, linear_bias=b, label_smoothing=0.1),
                  F.linear_cross_entropy(x, w, t, linear_bias=b, ignore_index=-100,
                                         label_smoothing=0.1), (x, w, b), torch.float64)


def test_no_grad_and_detached_inputs(fst):
    x = leaf(4, 5, dtype=torch.float64)
    t = torch.randint(0, 5, (4,))
    with torch.no_grad():
        loss = fst.cross_entropy(x, t)
    assert loss.grad_fn is None and not loss.requires_grad
    assert fst.cross_entropy(x.detach(), t).grad_fn is None


def test_backward_twice_with_retained_graph_accumulates(fst):
    """the saved gradient handed on as is for a scalar 1 must not be changed by accumulation"""
    x = leaf(5, 4, dtype=torch.float64)
    t = torch.randint(0, 4, (5,))
    loss = fst.cross_entropy(x, t)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward(retain_graph=True)
    loss.backward()
    torch.testing.assert_close(x.grad, 3 * first)
    (g,) = torch.autograd.grad(F.cross_entropy(x, t), x)
    torch.testing.assert_close(first, g)


def test_second_backward_after_in_place_change_raises(fst):
    """eager mode hands the forward's gradient to autograd (no copy) and computes it again
    for a second backward through a retained graph: not from inputs changed since"""
    x = leaf(5, 4, dtype=torch.float64)
    t = torch.randint(0, 4, (5,))
    z = x * 1.0
    loss = fst.cross_entropy(z, t)
    loss.backward(retain_graph=True)
    with torch.no_grad():
        z.add_(1.0)
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()


def test_targets_and_weights_get_no_gradient_and_say_so(fst):
    x = leaf(4, 5, dtype=torch.float64)
    probs = torch.softmax(torch.randn(4, 5, dtype=torch.float64), 1).requires_grad_()
    with pytest.raises(NotImplementedError, match="target.detach"):
        fst.cross_entropy(x, probs)
    with pytest.raises(NotImplementedError, match="pos_weight"):
        fst.binary_cross_entropy_with_logits(x, probs.detach(),
                                             pos_weight=torch.ones(5).double().requires_grad_())
    with pytest.raises(NotImplementedError, match="targets"):
        fst.sigmoid_focal_loss(x, probs)
    with torch.no_grad():  # nothing is differentiated: fine
        fst.cross_entropy(x, probs)
    fst.cross_entropy(x, probs.detach()).backward()


def test_integer_inputs_are_refused_like_torch(fst):
    with pytest.raises(TypeError, match="floating-point"):
        fst.softmax(torch.arange(6).reshape(2, 3), 1)


def test_double_backward_is_refused(fst):
    x = leaf(3, 4, dtype=torch.float64)
    with pytest.raises(NotImplementedError, match="double backward"):
        torch.autograd.grad(fst.log_softmax(x, 1).sum(), x, create_graph=True)
