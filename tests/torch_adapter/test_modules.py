"""The nn.Module wrappers: torch's constructor options, buffers and state dicts, and small real
training loops whose loss curves match the ones trained with torch's own losses."""

import copy

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


def train(model, loss_fn, batches, steps=15, lr=0.5):
    """plain SGD; returns the loss curve"""
    opt = torch.optim.SGD([p for p in list(model.parameters()) + list(loss_fn.parameters())],
                          lr=lr, momentum=0.9)
    curve = []
    for step in range(steps):
        x, t = batches[step % len(batches)]
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        curve.append(loss.item())
    return curve


def batches(n, d, make_target, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, d, generator=g, dtype=torch.float64), make_target(g))
            for _ in range(n)]


def mlp(d_in, d_out):
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(d_in, 12), nn.Tanh(), nn.Linear(12, d_out)).double()


def assert_same_training(model, ours, theirs, data):
    lr = 0.5 / len(data[0][1]) if getattr(ours, "reduction", "mean") == "sum" else 0.5
    curve_ours = train(copy.deepcopy(model), ours, data, lr=lr)
    curve_theirs = train(copy.deepcopy(model), theirs, data, lr=lr)
    assert curve_ours[-1] < curve_ours[0]  # it learns
    torch.testing.assert_close(curve_ours, curve_theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.1, "ignore_index": 2},
                                  {"weight": True, "reduction": "sum"}])
def test_cross_entropy_training_matches_torch(fst, opts):
    kw = dict(opts)
    if kw.get("weight"):
        kw["weight"] = torch.linspace(0.5, 1.5, 6, dtype=torch.float64)
    data = batches(3, 10, lambda g: torch.randint(0, 6, (16,), generator=g))
    assert_same_training(mlp(10, 6), fst.CrossEntropyLoss(**kw), nn.CrossEntropyLoss(**kw), data)


def test_bce_training_matches_torch(fst):
    pos = torch.full((4,), 2.0, dtype=torch.float64)
    data = batches(3, 10, lambda g: (torch.rand(16, 4, generator=g) > 0.7).double())
    assert_same_training(mlp(10, 4), fst.BCEWithLogitsLoss(pos_weight=pos),
                         nn.BCEWithLogitsLoss(pos_weight=pos), data)


def test_linear_cross_entropy_training_matches_torch(fst):
    ours = fst.LinearCrossEntropyLoss(12, 9, bias=True, dtype=torch.float64,
                                      label_smoothing=0.05)
    theirs = nn.LinearCrossEntropyLoss(12, 9, bias=True, dtype=torch.float64,
                                       label_smoothing=0.05, ignore_index=-100)
    theirs.load_state_dict(ours.state_dict())  # same parameters, same keys
    torch.manual_seed(1)
    body = nn.Sequential(nn.Linear(10, 12), nn.Tanh()).double()
    data = batches(3, 10, lambda g: torch.randint(0, 9, (16,), generator=g))
    assert_same_training(body, ours, theirs, data)
    assert ours.linear.weight.grad is not None and ours.linear.bias.grad is not None


def test_module_options_and_buffers(fst):
    w = torch.rand(5)
    ce = fst.CrossEntropyLoss(weight=w, ignore_index=1, reduction="none", label_smoothing=0.2)
    assert torch.equal(dict(ce.named_buffers())["weight"], w)
    x, t = torch.randn(4, 5), torch.tensor([0, 1, 2, 3])
    torch.testing.assert_close(ce(x, t), nn.CrossEntropyLoss(
        weight=w, ignore_index=1, reduction="none", label_smoothing=0.2)(x, t))
    bce = fst.BCEWithLogitsLoss(weight=torch.rand(5), pos_weight=torch.rand(5))
    assert set(dict(bce.named_buffers())) == {"weight", "pos_weight"}
    lce = fst.LinearCrossEntropyLoss(3, 5, z_loss=1e-3, softcap=10.0, reduction="sum")
    assert lce.linear.bias is None and lce(torch.randn(2, 3), torch.tensor([0, 4])).dim() == 0
    with pytest.raises(NotImplementedError, match="reduction="):
        fst.CrossEntropyLoss(size_average=True)
