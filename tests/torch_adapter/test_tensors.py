"""What crosses the tensor <-> array boundary: zero-copy for contiguous CPU tensors, other
layouts, half dtypes, the device error, the fake (meta) implementations."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_contiguous_cpu_tensors_are_shared_not_copied(fst):
    x = torch.randn(4, 5)
    a = fst._array(x)
    assert a.ctypes.data == x.data_ptr() and a.shape == (4, 5)
    r = np.ones((2, 3), np.float32)
    assert fst._tensor(r, torch.float32).data_ptr() == r.ctypes.data


def test_requires_grad_tensor_is_detached_not_copied(fst):
    x = torch.randn(4, 5, requires_grad=True)
    assert fst._array(x).ctypes.data == x.data_ptr()


def test_non_contiguous_inputs(fst):
    base = torch.randn(6, 10, 4, dtype=torch.float64)
    x = base[::2, ::3].transpose(0, 2).requires_grad_()  # (4, 4, 3), strided both ways
    assert not x.is_contiguous()
    for dim in (0, 1, 2):
        torch.testing.assert_close(fst.softmax(x, dim), torch.softmax(x, dim))
    t = torch.randint(0, 4, (4, 3))
    ours, theirs = fst.cross_entropy(x, t), F.cross_entropy(x, t)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(torch.autograd.grad(ours, x)[0], torch.autograd.grad(theirs, x)[0])
    y = (torch.rand(3, 4, 4, dtype=torch.float64) > 0.5).double().transpose(0, 2)
    torch.testing.assert_close(fst.binary_cross_entropy_with_logits(x, y),
                               F.binary_cross_entropy_with_logits(x, y))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_types_computed_in_float32(fst, dtype):
    x = (torch.randn(8, 6) * 3).to(dtype).requires_grad_()
    x32 = x.detach().float().requires_grad_()
    t = torch.randint(0, 6, (8,))
    for ours, ref in [
        (fst.softmax(x, -1), torch.softmax(x32, -1)),
        (fst.log_softmax(x, 0), torch.log_softmax(x32, 0)),
        (fst.logsumexp(x, 1), torch.logsumexp(x32, 1)),
        (fst.cross_entropy(x, t, label_smoothing=0.1),
         F.cross_entropy(x32, t, label_smoothing=0.1)),
        (fst.binary_cross_entropy_with_logits(x, (x > 0).to(dtype)),
         F.binary_cross_entropy_with_logits(x32, (x32 > 0).float())),
    ]:
        assert ours.dtype == dtype
        torch.testing.assert_close(ours, ref.to(dtype))
        g = torch.randn_like(ref).to(dtype)  # the backward sees half inputs: half accuracy
        (ga,) = torch.autograd.grad(ours, x, g)
        (gb,) = torch.autograd.grad(ref, x32, g.float())
        assert ga.dtype == dtype
        torch.testing.assert_close(ga.float(), gb, rtol=2e-2, atol=2e-2)


def test_half_linear_cross_entropy(fst):
    x = torch.randn(6, 4).bfloat16().requires_grad_()
    w = torch.randn(9, 4).bfloat16().requires_grad_()
    t = torch.randint(0, 9, (6,))
    loss = fst.linear_cross_entropy(x, w, t)
    assert loss.dtype == torch.bfloat16
    torch.testing.assert_close(loss, F.cross_entropy(x.float() @ w.float().T, t).bfloat16())
    gx, gw = torch.autograd.grad(loss, (x, w))
    assert gx.dtype == gw.dtype == torch.bfloat16


def test_other_devices_are_refused_naming_the_device(fst):
    x = torch.randn(4, 5, device="meta")
    t = torch.zeros(4, dtype=torch.long, device="meta")
    with pytest.raises(ValueError, match="device 'meta'.*CPU"):
        fst.softmax(x, -1)
    with pytest.raises(ValueError, match="device 'meta'"):
        fst.cross_entropy(x.requires_grad_(), t)
    with pytest.raises(ValueError, match="target is on device 'meta'"):
        fst.cross_entropy(torch.randn(4, 5), t)


def test_fake_implementations_give_shapes_and_dtypes(fst):
    """the custom ops on meta tensors run their fake implementation"""
    ops = torch.ops.fastsmce
    x = torch.empty(3, 5, 2, device="meta", dtype=torch.bfloat16)
    t = torch.empty(3, 2, device="meta", dtype=torch.long)
    assert ops.softmax(x, 1).shape == (3, 5, 2)
    assert ops.logsumexp(x, 1, False).shape == (3, 2)
    assert ops.logsumexp(x, -1, True).shape == (3, 5, 1)
    loss, grad = ops.cross_entropy(x, t, None, -100, "none", 0.0, True)
    assert loss.shape == (3, 2) and grad.shape == x.shape and loss.dtype == torch.bfloat16
    loss, grad = ops.cross_entropy(x, t, None, -100, "mean", 0.0, False)
    assert loss.shape == () and grad.numel() == 0
    w = torch.empty(7, 2, device="meta")
    xl = torch.empty(3, 4, 2, device="meta")
    loss, gi, gw, gb = ops.linear_cross_entropy(xl, w, t, None, None, "none", -100, 0., 0.,
                                                None, True)
    assert loss.shape == (3, 4) and gi.shape == xl.shape and gw.shape == w.shape
    assert gb.numel() == 0
