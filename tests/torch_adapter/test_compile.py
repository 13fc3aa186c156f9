"""torch.compile(fullgraph=True) traces models that use every op (forward and backward) with no
graph break, and gives eager's results."""

import pytest

torch = pytest.importorskip("torch")


class Model(torch.nn.Module):
    def __init__(self, fst):
        super().__init__()
        self.fst = fst
        self.proj = torch.nn.Linear(6, 5, dtype=torch.float64)
        self.head = torch.nn.Parameter(torch.randn(7, 6, dtype=torch.float64))

    def forward(self, x, t, bt):
        fst = self.fst
        h = self.proj(x)
        losses = [
            fst.cross_entropy(h, t, label_smoothing=0.1),
            fst.cross_entropy(h, t, reduction="none").mean(),
            fst.binary_cross_entropy_with_logits(h, bt, pos_weight=torch.full((5,), 2.0,
                                                                              dtype=h.dtype)),
            fst.sigmoid_focal_loss(h, bt, reduction="mean"),
            (fst.softmax(h, -1) * fst.log_softmax(h, -1)).sum(),
            fst.logsumexp(h, 1).mean(),
            fst.logsumexp(h, (0, 1), keepdim=True).sum(),
            fst.linear_cross_entropy(x, self.head, t, z_loss=1e-3),
            fst.linear_cross_entropy(x, self.head, t, reduction="none").sum(),
        ]
        return torch.stack(losses).sum()


@pytest.mark.parametrize("backend", ["aot_eager"])
def test_compile_fullgraph_matches_eager(fst, backend):
    torch.manual_seed(0)
    torch._dynamo.reset()
    model = Model(fst)
    x = torch.randn(4, 6, dtype=torch.float64)
    t = torch.randint(0, 5, (4,))
    t[1] = -100
    bt = (torch.rand(4, 5, dtype=torch.float64) > 0.5).double()
    compiled = torch.compile(model, fullgraph=True, backend=backend)
    params = list(model.parameters())
    eager_loss = model(x, t, bt)
    eager_grads = torch.autograd.grad(eager_loss, params)
    compiled_loss = compiled(x, t, bt)
    assert "Compiled" in type(compiled_loss.grad_fn).__name__  # went through AOTAutograd
    compiled_grads = torch.autograd.grad(compiled_loss, params)
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=1e-12, atol=1e-12)
    for a, b in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_compiled_graph_calls_the_custom_ops(fst):
    torch._dynamo.reset()
    seen = []

    def backend(gm, example_inputs):
        seen.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
        return gm

    f = torch.compile(lambda x: fst.log_softmax(x, 1), fullgraph=True, backend=backend)
    x = torch.randn(3, 4)
    torch.testing.assert_close(f(x), torch.log_softmax(x, 1))
    assert any("fastsmce.log_softmax" in s for s in seen), seen


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_compile_sampled_softmax(fst, sparse):
    """a data-dependent number of touched rows (an unbacked size in the fake) still traces"""
    import fastsmce

    torch._dynamo.reset()
    g = torch.Generator().manual_seed(0)
    w = torch.randn(50, 4, generator=g, dtype=torch.float64).requires_grad_()
    b = torch.randn(50, generator=g, dtype=torch.float64).requires_grad_()
    h = torch.randn(6, 4, generator=g, dtype=torch.float64).requires_grad_()
    y = torch.randint(0, 50, (6, 1), generator=g)
    values = [torch.as_tensor(v) for v in fastsmce.sampling.log_uniform_candidate_sampler(
        y.numpy(), 1, 8, True, 50, seed=1)]

    def f(w, b, h, *values):
        return 3 * fst.sampled_softmax_loss(w, b, y, h, 8, 50, sampled_values=values,
                                            sparse=sparse)

    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    got, want = compiled(w, b, h, *values), f(w, b, h, *values)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=0)
    for a, e in zip(torch.autograd.grad(got, (w, b, h)), torch.autograd.grad(want, (w, b, h))):
        assert a.is_sparse == e.is_sparse
        torch.testing.assert_close(a.to_dense(), e.to_dense(), rtol=1e-12, atol=1e-14)


def test_tracers_get_the_custom_ops_not_constants(fst):
    """make_fx and FakeTensorMode see the op (never NumPy baking a constant into a graph)"""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.proxy_tensor import make_fx

    gm = make_fx(lambda x, t: fst.cross_entropy(fst.log_softmax(x, 1), t))(
        torch.randn(3, 4), torch.tensor([0, 1, 3]))
    targets = {str(n.target) for n in gm.graph.nodes if n.op == "call_function"}
    assert {"fastsmce.log_softmax.default", "fastsmce.cross_entropy.default"} <= targets
    assert not any(n.op == "get_attr" for n in gm.graph.nodes)
    with FakeTensorMode():
        x = torch.randn(5, 3, requires_grad=True)
        assert fst.logsumexp(x, 0).shape == (3,)
        assert fst.cross_entropy(x, torch.zeros(5, dtype=torch.long)).shape == ()
