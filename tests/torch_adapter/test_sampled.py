"""sampled_softmax_loss on tensors and SampledSoftmaxLoss: the NumPy-level function's loss and
gradients given the same sampled_values, dense or sparse COO gradients, sparse optimisers."""

import numpy as np
import pytest

import fastsmce

torch = pytest.importorskip("torch")

C, D, N, S = 60, 5, 7, 10


def problem(dtype, num_true=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(C, D, generator=g, dtype=dtype).requires_grad_()
    b = torch.randn(C, generator=g, dtype=dtype).requires_grad_()
    h = torch.randn(N, D, generator=g, dtype=dtype).requires_grad_()
    labels = torch.randint(0, C, (N, num_true), generator=g)
    values = fastsmce.sampling.log_uniform_candidate_sampler(labels.numpy(), num_true, S, True,
                                                             C, seed=seed)
    return w, b, h, labels, values


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("num_true", [1, 2])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_matches_the_numpy_function(fst, dtype, num_true, sparse, reduction):
    w, b, h, labels, values = problem(dtype, num_true)
    loss = fst.sampled_softmax_loss(w, b, labels, h, S, C, num_true,
                                    [torch.as_tensor(v) for v in values],
                                    reduction=reduction, sparse=sparse)
    want, grads = fastsmce.sampled_softmax_loss_with_grad(
        w.detach().numpy(), b.detach().numpy(), labels.numpy(), h.detach().numpy(), S, C,
        num_true=num_true, sampled_values=values, reduction=reduction)
    assert loss.dtype == dtype and loss.item() == pytest.approx(float(want), rel=1e-6)
    gw, gb, gh = torch.autograd.grad(loss * 2, (w, b, h))
    assert gw.is_sparse == gb.is_sparse == sparse and gw.shape == w.shape
    if sparse:
        assert gw._nnz() == len(grads.ids)
    gw, gb = gw.to_dense(), gb.to_dense()
    np.testing.assert_array_equal(gh.numpy(), 2 * grads.inputs)
    np.testing.assert_array_equal(gw.numpy()[grads.ids], 2 * grads.weights)
    np.testing.assert_array_equal(gb.numpy()[grads.ids], 2 * grads.biases)
    untouched = np.setdiff1d(np.arange(C), grads.ids)
    assert not gw[untouched].any() and not gb[untouched].any()


def test_gradcheck(fst):
    w, b, h, labels, values = problem(torch.float64, 2)
    values = [torch.as_tensor(v) for v in values]
    assert torch.autograd.gradcheck(
        lambda w, b, h: fst.sampled_softmax_loss(w, b, labels, h, S, C, 2, values), (w, b, h))


def test_reduction_none_values_and_no_gradient(fst):
    w, b, h, labels, values = problem(torch.float64)
    with torch.no_grad():
        loss = fst.sampled_softmax_loss(w, b, labels, h, S, C, sampled_values=values,
                                        reduction="none")
    want = fastsmce.sampled_softmax_loss(w.detach().numpy(), b.detach().numpy(),
                                         labels.numpy(), h.detach().numpy(), S, C,
                                         sampled_values=values, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), want)
    with pytest.raises(NotImplementedError, match="reduction='none'"):
        fst.sampled_softmax_loss(w, b, labels, h, S, C, reduction="none")


def test_module_trains_with_sparse_adam_and_is_reproducible(fst):
    def run():
        torch.manual_seed(0)
        layer = fst.SampledSoftmaxLoss(500, 8, 32, seed=3)
        assert layer.weight.shape == (500, 8) and layer.bias.shape == (500,)
        opt = torch.optim.SparseAdam(list(layer.parameters()), lr=0.05)
        x = torch.randn(16, 8)
        t = torch.randint(0, 20, (16, 1))
        curve = []
        for _ in range(12):
            opt.zero_grad()
            loss = layer(x, t)
            loss.backward()
            assert layer.weight.grad.is_sparse and layer.bias.grad.is_sparse
            opt.step()
            curve.append(loss.item())
        return curve

    first = run()
    assert first == run()  # seed: the same draws
    assert np.mean(first[-3:]) < np.mean(first[:3])


def test_module_dense_gradients_and_given_samples(fst):
    layer = fst.SampledSoftmaxLoss(C, D, S, sparse=False, dtype=torch.float64)
    w, b, h, labels, values = problem(torch.float64)
    loss = layer(h, labels, sampled_values=values)
    loss.backward()
    assert not layer.weight.grad.is_sparse
    want = fastsmce.sampled_softmax_loss(layer.weight.detach().numpy(),
                                         layer.bias.detach().numpy(), labels.numpy(),
                                         h.detach().numpy(), S, C, sampled_values=values)
    assert loss.item() == pytest.approx(float(want), rel=1e-12)
