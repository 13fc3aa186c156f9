"""PyTorch adapter: fastsmce's kernels as differentiable torch functions and modules.

``import fastsmce.torch as fst`` (needs ``pip install "fastsmce[torch]"``; ``import fastsmce``
itself never imports torch).  The functions take torch's names, arguments, defaults and
semantics (``softmax(input, dim)``, ``cross_entropy(input, target, weight=None, ...)``, ...), on
CPU tensors.  float32 / float64 run natively; bfloat16 / float16 are computed in float32 and
returned in their dtype.  Contiguous CPU tensors are shared with NumPy without a copy (other
layouts go through fastsmce's strided paths); any other device raises an error naming it.

Every op is a ``torch.library.custom_op`` in the ``fastsmce`` namespace with a fake (meta)
implementation and an autograd formula built on fastsmce's fused kernels: the losses compute
their gradient in the forward pass (``*_with_grad``) and the backward only scales it by the
incoming gradient; softmax / log_softmax call ``softmax_backward`` / ``log_softmax_backward``
(themselves custom ops, so ``torch.compile`` traces the backward too).  In eager mode the
dispatcher's per-call cost would dominate small calls, so there the same forward / backward
functions run through a plain ``torch.autograd.Function`` (or directly when no gradient is
needed); under ``torch.compile``, tracers (``make_fx``, ``FakeTensorMode``) and functorch
transforms the custom ops are used.  Gradients are first-order (``create_graph=True`` raises).
"""

# no `from __future__ import annotations`: torch.library.custom_op reads the annotations as
# types to infer each op's schema (older torch releases refuse them as strings)
import numpy as np
import torch
from torch import Tensor
from typing import Optional

import fastsmce as _fs

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
    "sigmoid_focal_loss",
    "linear_cross_entropy",
    "sampled_softmax_loss",
    "CrossEntropyLoss",
    "BCEWithLogitsLoss",
    "LinearCrossEntropyLoss",
    "SampledSoftmaxLoss",
]

_HALF = (torch.float16, torch.bfloat16)
_EMPTY = (0,)  # shape of the placeholder "no gradient saved" output


# ---------------------------------------------------------------------------------------------
# tensor <-> array: the one conversion
# ---------------------------------------------------------------------------------------------

def _array(t: Optional[Tensor], name: str = "input"):
    """A CPU tensor as a NumPy array sharing its memory (half types: a float32 copy)."""
    if t is None:
        return None
    if t.device.type != "cpu":
        raise ValueError(f"fastsmce.torch: {name} is on device '{t.device}'; "
                         "fastsmce runs on CPU tensors only (move it with .cpu())")
    if t.dtype in _HALF:
        t = t.float()
    return (t.detach() if t.requires_grad else t).numpy()


def _tensor(a, dtype: torch.dtype) -> Tensor:
    """A NumPy result (array or scalar) as a tensor of ``dtype`` (a copy only for half types)."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    if not a.flags.c_contiguous:  # custom ops return contiguous tensors
        a = a.copy()
    t = torch.from_numpy(a)
    return t if t.dtype is dtype else t.to(dtype)


def _class_axis(input: Tensor) -> int:
    """torch's class dimension: 1 for (N, C, d1, ...), 0 for an unbatched (C,) input"""
    return 1 if input.dim() >= 2 else 0


def _scale(saved: Tensor, g: Tensor, axis: Optional[int], ops) -> Tensor:
    """chain rule for a loss whose gradient was saved in the forward pass; in eager mode the
    usual ``loss.backward()`` (a scalar 1) hands the saved gradient on without a pass over it
    (autograd copies it before accumulating into a leaf's ``.grad`` while the graph holds it)"""
    if g.dim() and axis is not None:
        g = g.unsqueeze(axis)
    if ops is _EAGER and not g.dim() and g.item() == 1.0:
        return saved
    return saved * g


# ---------------------------------------------------------------------------------------------
# registration: one helper makes the custom op, its fake, its autograd, and the eager path
# ---------------------------------------------------------------------------------------------

class _Op:
    """One fastsmce op: ``fn`` (the real implementation, on the tensors' memory), ``fake``,
    and optionally ``save(ctx, inputs, outputs)`` + ``backward(ctx, ops, *grads)`` where ``ops``
    is the namespace of ops the backward may call (custom ops when traced, plain otherwise).

    ``self.op`` is the ``torch.library.custom_op``; calling the ``_Op`` runs the op: the custom
    op while ``torch.compile`` traces, a ``torch.autograd.Function`` when eager autograd needs
    it, the bare implementation otherwise.
    """

    def __init__(self, fn, fake, save=None, backward=None, grad_args=(0,)):
        name = fn.__name__.removesuffix("_op")
        self.impl = fn
        self.op = torch.library.custom_op(f"fastsmce::{name}", fn, mutates_args=())
        self.op.register_fake(fake)
        self.grad_args = grad_args
        self.autograd = None
        if backward is None:
            return
        self.op.register_autograd(lambda ctx, *g: backward(ctx, _TRACED, *g), setup_context=save)

        impl = fn

        class _Function(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *args):
                ctx.fs_impl = impl  # eager: _keep_grads may hand the gradients over
                out = impl(*args)
                save(ctx, args, out)
                if isinstance(out, tuple):
                    if getattr(ctx, "fs_grads", None) is not None:
                        # ctx holds the only reference (mark_non_differentiable would keep
                        # one more): the callers use out[0] only
                        out = (out[0],) + tuple(t.new_empty(0) for t in out[1:])
                    ctx.mark_non_differentiable(*out[1:])
                return out

            @staticmethod
            def backward(ctx, *g):
                if torch.is_grad_enabled():  # create_graph=True: the formulas are first-order
                    raise NotImplementedError(f"fastsmce.torch.{name}: no double backward "
                                              "(create_graph=True)")
                return backward(ctx, _EAGER, *g)

        _Function.__name__ = _Function.__qualname__ = f"{name}_function"
        self.autograd = _Function

    def needs_grad(self, args) -> bool:
        return torch.is_grad_enabled() and any(
            isinstance(args[i], Tensor) and args[i].requires_grad for i in self.grad_args)

    def __call__(self, *args):
        if _tracing():
            return self.op(*args)
        if self.autograd is not None and self.needs_grad(args):
            return self.autograd.apply(*args)
        return self.impl(*args)


def _tracing() -> bool:
    """torch.compile, a tracer (FakeTensorMode, make_fx) or a functorch transform is at work:
    the custom op (fake, autograd, dispatch) must run, not NumPy on the tensors' memory"""
    return (torch.compiler.is_compiling() or torch._C._len_torch_dispatch_stack() > 0
            or torch._C._functorch.maybe_current_level() is not None)


class _Namespace:
    """attribute access to the ops, either as custom ops or as their bare implementations"""

    def __init__(self, traced: bool):
        self._traced = traced

    def __getattr__(self, name):  # first use only: the result is kept as an attribute
        op = _OPS[name]
        fn = op.op if self._traced else op.impl
        setattr(self, name, fn)
        return fn


_OPS: dict = {}
_TRACED = _Namespace(True)
_EAGER = _Namespace(False)


def _register(fake, save=None, backward=None, grad_args=(0,)):
    def wrap(fn):
        op = _Op(fn, fake, save, backward, grad_args)
        _OPS[fn.__name__] = op
        return op
    return wrap


def _same(x: Tensor, *args) -> Tensor:
    return torch.empty_like(x)


def _grad_slot(x: Tensor, need_grad: bool) -> Tensor:
    return torch.empty_like(x) if need_grad else x.new_empty(_EMPTY)


def _result(a, like: Tensor) -> Tensor:
    """a result in the dtype of the tensor it derives from (a floating-point one, as torch's)"""
    if not like.is_floating_point():
        raise TypeError(f"fastsmce.torch: expected a floating-point tensor, got {like.dtype}")
    return _tensor(a, like.dtype)


# ---------------------------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------------------------

@_register(_same)
def softmax_backward(grad: Tensor, output: Tensor, dim: int) -> Tensor:
    return _result(_fs.softmax_backward(_array(grad, "grad"), _array(output), dim), output)


@_register(_same)
def log_softmax_backward(grad: Tensor, output: Tensor, dim: int) -> Tensor:
    return _result(_fs.log_softmax_backward(_array(grad, "grad"), _array(output), dim), output)


def _save_output(ctx, inputs, output):
    ctx.dim = inputs[1]
    ctx.save_for_backward(output)


def _softmax_grad(backward_name):
    def backward(ctx, ops, g):
        (output,) = ctx.saved_tensors
        return getattr(ops, backward_name)(g, output, ctx.dim), None
    return backward


@_register(_same, _save_output, _softmax_grad("softmax_backward"))
def softmax_op(input: Tensor, dim: int) -> Tensor:
    return _result(_fs.softmax(_array(input), dim), input)


@_register(_same, _save_output, _softmax_grad("log_softmax_backward"))
def log_softmax_op(input: Tensor, dim: int) -> Tensor:
    return _result(_fs.log_softmax(_array(input), dim), input)


def _reduced_shape(x: Tensor, dim: int, keepdim: bool):
    shape = list(x.shape)
    dim = dim % max(x.dim(), 1)
    if keepdim:
        shape[dim] = 1
    else:
        del shape[dim:dim + 1]
    return shape


def _logsumexp_fake(input, dim, keepdim):
    return input.new_empty(_reduced_shape(input, dim, keepdim))


def _save_logsumexp(ctx, inputs, output):
    input, ctx.dim, ctx.keepdim = inputs
    ctx.save_for_backward(input)


def _logsumexp_grad(ctx, ops, g):
    (input,) = ctx.saved_tensors
    if not ctx.keepdim and input.dim():
        g = g.unsqueeze(ctx.dim)
    return ops.softmax_op(input, ctx.dim) * g, None, None


@_register(_logsumexp_fake, _save_logsumexp, _logsumexp_grad)
def logsumexp_op(input: Tensor, dim: int, keepdim: bool) -> Tensor:
    return _result(_fs.logsumexp(_array(input), dim, keepdims=keepdim), input)




def softmax(input: Tensor, dim: int, dtype: Optional[torch.dtype] = None) -> Tensor:
    """``torch.softmax``"""
    return softmax_op(input if dtype is None else input.to(dtype), int(dim))


def log_softmax(input: Tensor, dim: int, dtype: Optional[torch.dtype] = None) -> Tensor:
    """``torch.log_softmax``"""
    return log_softmax_op(input if dtype is None else input.to(dtype), int(dim))


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``torch.logsumexp``; several dims are moved last and flattened into one (torch ops, so
    autograd goes through them) for the one-axis kernel"""
    if not isinstance(dim, (tuple, list)):
        return logsumexp_op(input, int(dim), bool(keepdim))
    nd = max(input.dim(), 1)
    dims = sorted(int(d) % nd for d in dim)
    if len(set(dims)) < len(dims):
        raise RuntimeError(f"fastsmce.torch.logsumexp: a dim appears twice in {tuple(dim)}")
    if len(dims) == 1:
        return logsumexp_op(input, dims[0], bool(keepdim))
    kept = input.dim() - len(dims)
    x = input.movedim(dims, list(range(kept, input.dim())))
    out = logsumexp_op(x.reshape(*x.shape[:kept], -1), -1, False)
    if keepdim:
        for d in dims:
            out = out.unsqueeze(d)
    return out


# ---------------------------------------------------------------------------------------------
# losses: the forward computes (loss, gradient) in one fused pass and saves the gradient
# ---------------------------------------------------------------------------------------------

def _loss_shape(input: Tensor, reduction: str, drop_axis: Optional[int] = None):
    if reduction != "none":
        return ()
    shape = list(input.shape)
    if drop_axis is not None:
        del shape[drop_axis]
    return shape


def _keep_grads(ctx, inputs, grads):
    """Keep a loss's gradients (computed by its forward) for the backward.  Traced (custom
    op): saved tensors.  Eager: held on ctx and handed over by the first backward, so that
    autograd takes the tensor as the leaf's ``.grad`` instead of copying it (AccumulateGrad
    copies a gradient that something else, such as saved_tensors, still holds: 1.1 ms of a
    2.4 ms cross-entropy step at 4096x1000).  A second backward through a retained graph
    recomputes them from the inputs, unless an input changed in place since the forward."""
    if getattr(ctx, "fs_impl", None) is None:
        ctx.save_for_backward(*grads)
        return
    ctx.fs_grads = list(grads)
    ctx.fs_inputs = inputs
    ctx.fs_versions = [a._version if isinstance(a, Tensor) else None for a in inputs]


def _kept_grads(ctx):
    if getattr(ctx, "fs_impl", None) is None:
        return ctx.saved_tensors
    grads, ctx.fs_grads = ctx.fs_grads, None
    if grads is None:  # backward again (retain_graph=True)
        now = [a._version if isinstance(a, Tensor) else None for a in ctx.fs_inputs]
        if now != ctx.fs_versions:
            raise RuntimeError("fastsmce.torch: an input of this loss was modified by an "
                               "in-place operation after the forward pass; its gradient "
                               "cannot be computed again")
        grads = list(ctx.fs_impl(*ctx.fs_inputs)[1:])
    return grads


def _save_grads(axis_of):
    """setup_context of a loss: keep the gradients its forward computed (of the first input),
    and the axis the incoming gradient broadcasts over (``reduction="none"``)"""
    def save(ctx, inputs, output):
        ctx.axis = axis_of(inputs)
        ctx.positions = (0,)
        ctx.n_inputs = len(inputs)
        _keep_grads(ctx, inputs, output[1:])
    return save


def _scaled_grads(ctx, ops, g, *unused):
    """backward of a loss: the saved gradients times the incoming one, for the inputs at
    ``ctx.positions`` (None for the rest and for an empty placeholder)"""
    grads = [None] * ctx.n_inputs
    for i, s in zip(ctx.positions, _kept_grads(ctx)):
        if s.numel() or not s.dim():
            grads[i] = _scale(s, g, ctx.axis, ops)
    return tuple(grads)


def _elementwise_axis(inputs):
    return None


def _ce_axis(inputs):
    input, reduction = inputs[0], inputs[4]
    return _class_axis(input) if reduction == "none" else None


def _ce_fake(input, target, weight, ignore_index, reduction, label_smoothing, need_grad):
    loss = input.new_empty(_loss_shape(input, reduction, _class_axis(input)))
    return loss, _grad_slot(input, need_grad)


def _loss_and_grad(input: Tensor, need_grad: bool, plain, with_grad, *args, **kw):
    """run a fastsmce loss (its ``_with_grad`` twin when the gradient is needed); tensors out"""
    if not need_grad:
        return _result(plain(*args, **kw), input), input.new_empty(_EMPTY)
    loss, grad = with_grad(*args, **kw)
    return _result(loss, input), _result(grad, input)


@_register(_ce_fake, _save_grads(_ce_axis), _scaled_grads)
def cross_entropy_op(input: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int,
                     reduction: str, label_smoothing: float,
                     need_grad: bool) -> tuple[Tensor, Tensor]:
    return _loss_and_grad(
        input, need_grad, _fs.cross_entropy, _fs.cross_entropy_with_grad,
        _array(input), _array(target, "target"), axis=_class_axis(input),
        weight=_array(weight, "weight"), ignore_index=ignore_index, reduction=reduction,
        label_smoothing=label_smoothing)


def _elementwise_fake(input, target, *args):
    reduction, need_grad = args[-2], args[-1]
    return input.new_empty(_loss_shape(input, reduction)), _grad_slot(input, need_grad)


@_register(_elementwise_fake, _save_grads(_elementwise_axis), _scaled_grads)
def binary_cross_entropy_with_logits_op(input: Tensor, target: Tensor, weight: Optional[Tensor],
                                        pos_weight: Optional[Tensor], reduction: str,
                                        need_grad: bool) -> tuple[Tensor, Tensor]:
    return _loss_and_grad(
        input, need_grad, _fs.binary_cross_entropy_with_logits,
        _fs.binary_cross_entropy_with_logits_with_grad,
        _array(input), _array(target, "target"), weight=_array(weight, "weight"),
        pos_weight=_array(pos_weight, "pos_weight"), reduction=reduction)


@_register(_elementwise_fake, _save_grads(_elementwise_axis), _scaled_grads)
def sigmoid_focal_loss_op(inputs: Tensor, targets: Tensor, alpha: float, gamma: float,
                          reduction: str, need_grad: bool) -> tuple[Tensor, Tensor]:
    return _loss_and_grad(
        inputs, need_grad, _fs.sigmoid_focal_loss, _fs.sigmoid_focal_loss_with_grad,
        _array(inputs), _array(targets, "targets"), alpha=alpha, gamma=gamma,
        reduction=reduction)


def _need_grad(*tensors, **fixed) -> bool:
    """whether autograd wants the gradient of ``tensors``; the ``fixed`` ones (targets, class
    weights) get none, so one that requires a gradient is refused, not silently left out"""
    if not torch.is_grad_enabled():
        return False
    for name, t in fixed.items():
        if isinstance(t, Tensor) and t.requires_grad:
            raise NotImplementedError(f"fastsmce.torch: no gradient with respect to {name}; "
                                      f"pass {name}.detach()")
    return any(t is not None and t.requires_grad for t in tensors)


def cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """``torch.nn.functional.cross_entropy`` (class indices or class probabilities; class
    dimension 1 of (N, C, d1, ...), or 0 of an unbatched (C,) input)"""
    _no_legacy(size_average, reduce)
    return cross_entropy_op(input, target, weight, int(ignore_index), reduction,
                            float(label_smoothing),
                            _need_grad(input, target=target, weight=weight))[0]


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Optional[Tensor] = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Optional[Tensor] = None) -> Tensor:
    """``torch.nn.functional.binary_cross_entropy_with_logits`` (``target`` gets no gradient)"""
    _no_legacy(size_average, reduce)
    return binary_cross_entropy_with_logits_op(input, target, weight, pos_weight, reduction,
                                               _need_grad(input, target=target, weight=weight,
                                                          pos_weight=pos_weight))[0]


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> Tensor:
    """``torchvision.ops.sigmoid_focal_loss`` (``targets`` gets no gradient)"""
    return sigmoid_focal_loss_op(inputs, targets, float(alpha), float(gamma), reduction,
                                 _need_grad(inputs, targets=targets))[0]


def _no_legacy(size_average, reduce):
    if size_average is not None or reduce is not None:
        raise NotImplementedError("fastsmce.torch: size_average / reduce are deprecated in "
                                  "torch; pass reduction=")


# ---------------------------------------------------------------------------------------------
# fused linear + cross-entropy
# ---------------------------------------------------------------------------------------------

def _linear_grad_slots(input, linear_weight, linear_bias, need_grad):
    bias = linear_bias if linear_bias is not None else input.new_empty(_EMPTY)
    return (_grad_slot(input, need_grad), _grad_slot(linear_weight, need_grad),
            _grad_slot(bias, need_grad and linear_bias is not None))


def _linear_fake(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
                 label_smoothing, z_loss, softcap, need_grad):
    loss = input.new_empty(_loss_shape(input, reduction, input.dim() - 1))
    return (loss,) + _linear_grad_slots(input, linear_weight, linear_bias, need_grad)


def _linear_kwargs(linear_bias, weight, ignore_index, label_smoothing, z_loss, softcap):
    return dict(linear_bias=_array(linear_bias, "linear_bias"), weight=_array(weight, "weight"),
                ignore_index=ignore_index, label_smoothing=label_smoothing, z_loss=z_loss,
                softcap=softcap)


def _save_linear(ctx, inputs, output):
    """``mean`` / ``sum``: the gradients of the forward pass; ``none``: the inputs (each row's
    incoming gradient weighs its share of the weight gradient, see linear_cross_entropy_backward)"""
    ctx.none = inputs[5] == "none"
    ctx.n_inputs = len(inputs)
    if ctx.none:
        ctx.options = inputs[4:]
        ctx.save_for_backward(*inputs[:4])
    else:
        ctx.axis, ctx.positions = None, (0, 1, 3)
        _keep_grads(ctx, inputs, output[1:])


def _linear_grads(ctx, ops, g, *unused):
    if not ctx.none:
        return _scaled_grads(ctx, ops, g)
    input, linear_weight, target, linear_bias = ctx.saved_tensors
    weight, reduction, *options, need_grad = ctx.options
    gi, gw, gb = ops.linear_cross_entropy_backward(g, input, linear_weight, target, linear_bias,
                                                   weight, *options)
    return (gi, gw, None, gb if linear_bias is not None else None) + (None,) * 7


@_register(_linear_fake, _save_linear, _linear_grads, grad_args=(0, 1, 3))
def linear_cross_entropy_op(input: Tensor, linear_weight: Tensor, target: Tensor,
                            linear_bias: Optional[Tensor], weight: Optional[Tensor],
                            reduction: str, ignore_index: int, label_smoothing: float,
                            z_loss: float, softcap: Optional[float],
                            need_grad: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    args = (_array(input), _array(linear_weight, "linear_weight"), _array(target, "target"))
    kw = _linear_kwargs(linear_bias, weight, ignore_index, label_smoothing, z_loss, softcap)
    if not need_grad:
        return (_result(_fs.linear_cross_entropy(*args, reduction=reduction, **kw), input),) + \
            _linear_grad_slots(input, linear_weight, linear_bias, False)
    loss, grads = _fs.linear_cross_entropy_with_grad(*args, reduction=reduction, **kw)
    bias = grads.linear_bias if linear_bias is not None else np.empty(_EMPTY)
    return (_result(loss, input), _result(grads.input, input),
            _result(grads.linear_weight, linear_weight), _result(bias, input))


def _linear_backward_fake(grad, input, linear_weight, target, linear_bias, *options):
    return _linear_grad_slots(input, linear_weight, linear_bias, True)


@_register(_linear_backward_fake)
def linear_cross_entropy_backward(grad: Tensor, input: Tensor, linear_weight: Tensor,
                                  target: Tensor, linear_bias: Optional[Tensor],
                                  weight: Optional[Tensor], ignore_index: int,
                                  label_smoothing: float, z_loss: float,
                                  softcap: Optional[float]) -> tuple[Tensor, Tensor, Tensor]:
    """``reduction="none"``: sum of the per-row losses weighted by ``grad``, differentiated by
    the fused kernel once per distinct value of ``grad`` (one call when all rows weigh the same)"""
    g = _array(grad, "grad").reshape(-1)
    x = _array(input)
    x = x.reshape(-1, x.shape[-1])
    w = _array(linear_weight, "linear_weight")
    t = _array(target, "target").reshape(-1)
    kw = _linear_kwargs(linear_bias, weight, ignore_index, label_smoothing, z_loss, softcap)
    gi, gw = np.zeros_like(x), np.zeros_like(w)
    gb = np.zeros(w.shape[0], w.dtype) if linear_bias is not None else np.empty(_EMPTY, w.dtype)
    for value in np.unique(g):
        if value == 0:
            continue
        rows = np.flatnonzero(g == value) if value == value else np.flatnonzero(g != g)
        _, grads = _fs.linear_cross_entropy_with_grad(x[rows], w, t[rows], reduction="sum", **kw)
        gi[rows] = value * grads.input
        gw += value * grads.linear_weight
        if linear_bias is not None:
            gb += value * grads.linear_bias
    return (_result(gi.reshape(input.shape), input), _result(gw, linear_weight),
            _result(gb, input))


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Optional[Tensor] = None, weight: Optional[Tensor] = None,
                         reduction: str = "mean", ignore_index: int = -100,
                         label_smoothing: float = 0.0, z_loss: float = 0.0,
                         softcap: Optional[float] = None) -> Tensor:
    """``torch.nn.functional.linear_cross_entropy``: ``cross_entropy(input @ linear_weight.T +
    linear_bias, target)`` without the logits, plus ``z_loss`` and ``softcap`` (see
    ``fastsmce.linear_cross_entropy``); gradients for input, linear_weight and linear_bias"""
    return linear_cross_entropy_op(
        input, linear_weight, target, linear_bias, weight, reduction, int(ignore_index),
        float(label_smoothing), float(z_loss), None if softcap is None else float(softcap),
        _need_grad(input, linear_weight, linear_bias, weight=weight) and reduction != "none")[0]


# ---------------------------------------------------------------------------------------------
# sampled softmax: gradients of the touched class rows only (sparse COO, or scattered densely)
# ---------------------------------------------------------------------------------------------

def _no_sampled_grads(weights, biases, labels, inputs):
    return (inputs.new_empty(_EMPTY), labels.new_empty(_EMPTY, dtype=torch.int64),
            weights.new_empty(_EMPTY), biases.new_empty(_EMPTY))


def _sampled_fake(weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled,
                  true_expected, sampled_expected, sampler, remove_accidental_hits,
                  subtract_log_q, seed, reduction, sparse_grad, need_grad):
    loss = inputs.new_empty(inputs.shape[:1] if reduction == "none" else ())
    if not need_grad:
        return (loss,) + _no_sampled_grads(weights, biases, labels, inputs)
    k = torch.library.get_ctx().new_dynamic_size()  # the number of distinct classes touched
    return (loss, torch.empty_like(inputs), labels.new_empty((k,), dtype=torch.int64),
            weights.new_empty((k, weights.shape[1])), biases.new_empty((k,)))


def _save_sampled(ctx, inputs, output):
    ctx.shape = inputs[0].shape
    ctx.sparse = inputs[15]
    ctx.n_inputs = len(inputs)
    ctx.save_for_backward(*output[1:])


def _sampled_grads(ctx, ops, g, *unused):
    """d inputs scaled; the (K, D) rows of d weights / d biases put at their class ids"""
    g_inputs, ids, g_weights, g_biases = ctx.saved_tensors
    if g.dim():
        raise NotImplementedError("fastsmce.torch.sampled_softmax_loss: gradients need "
                                  "reduction='mean' or 'sum'")
    grads = [None] * ctx.n_inputs
    grads[3] = _scale(g_inputs, g, None, ops)
    for i, rows in ((0, g_weights), (1, g_biases)):
        rows, shape = _scale(rows, g, None, ops), ctx.shape[:rows.dim()]
        if ctx.sparse:  # ids are unique (not sorted)
            grads[i] = torch.sparse_coo_tensor(ids.unsqueeze(0), rows, shape,
                                               check_invariants=False)
        else:
            grads[i] = rows.new_zeros(shape).index_add(0, ids, rows)
    return tuple(grads)


@_register(_sampled_fake, _save_sampled, _sampled_grads, grad_args=(0, 1, 3))
def sampled_softmax_loss_op(weights: Tensor, biases: Tensor, labels: Tensor, inputs: Tensor,
                            num_sampled: int, num_classes: int, num_true: int,
                            sampled: Optional[Tensor], true_expected: Optional[Tensor],
                            sampled_expected: Optional[Tensor], sampler: str,
                            remove_accidental_hits: bool, subtract_log_q: bool,
                            seed: Optional[int], reduction: str, sparse_grad: bool,
                            need_grad: bool) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    values = None if sampled is None else (
        _array(sampled, "sampled"), _array(true_expected, "true_expected"),
        _array(sampled_expected, "sampled_expected"))
    args = (_array(weights, "weights"), _array(biases, "biases"), _array(labels, "labels"),
            _array(inputs, "inputs"), num_sampled, num_classes)
    kw = dict(num_true=num_true, sampled_values=values, sampler=sampler,
              remove_accidental_hits=remove_accidental_hits, subtract_log_q=subtract_log_q,
              seed=seed, reduction=reduction)
    if not need_grad:
        return (_result(_fs.sampled_softmax_loss(*args, **kw), inputs),
                *_no_sampled_grads(weights, biases, labels, inputs))
    loss, grads = _fs.sampled_softmax_loss_with_grad(*args, **kw)
    return (_result(loss, inputs), _result(grads.inputs, inputs), torch.from_numpy(grads.ids),
            _result(grads.weights, weights), _result(grads.biases, biases))


def sampled_softmax_loss(weights: Tensor, biases: Tensor, labels: Tensor, inputs: Tensor,
                         num_sampled: int, num_classes: int, num_true: int = 1,
                         sampled_values=None, remove_accidental_hits: bool = True, *,
                         sampler: str = "log_uniform", subtract_log_q: bool = True,
                         seed: Optional[int] = None, reduction: str = "mean",
                         sparse: bool = False) -> Tensor:
    """``tf.nn.sampled_softmax_loss``'s arguments on tensors (see
    ``fastsmce.sampled_softmax_loss``); differentiable in weights, biases and inputs (with
    ``reduction="mean"`` / ``"sum"``).  ``sampled_values``: (sampled, true_expected_count,
    sampled_expected_count) tensors.  ``sparse=True``: the gradients of ``weights`` and
    ``biases`` are sparse COO tensors of the touched rows (for ``SparseAdam`` / ``SGD``)."""
    need_grad = _need_grad(weights, biases, inputs)
    if need_grad and reduction == "none":
        raise NotImplementedError("fastsmce.torch.sampled_softmax_loss: reduction='none' is "
                                  "not differentiable here; use 'mean' or 'sum'")
    sampled, true_expected, sampled_expected = (
        (None, None, None) if sampled_values is None else
        (torch.as_tensor(v) for v in sampled_values))
    return sampled_softmax_loss_op(
        weights, biases, labels, inputs, int(num_sampled), int(num_classes), int(num_true),
        sampled, true_expected, sampled_expected, sampler, bool(remove_accidental_hits),
        bool(subtract_log_q), seed, reduction, bool(sparse), need_grad)[0]


# ---------------------------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------------------------

class CrossEntropyLoss(torch.nn.Module):
    """``torch.nn.CrossEntropyLoss`` on :func:`cross_entropy` (``weight`` is a buffer)"""

    def __init__(self, weight: Optional[Tensor] = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__()
        _no_legacy(size_average, reduce)
        self.register_buffer("weight", weight)
        self.ignore_index, self.reduction = ignore_index, reduction
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCEWithLogitsLoss(torch.nn.Module):
    """``torch.nn.BCEWithLogitsLoss`` on :func:`binary_cross_entropy_with_logits`"""

    def __init__(self, weight: Optional[Tensor] = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Optional[Tensor] = None):
        super().__init__()
        _no_legacy(size_average, reduce)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class LinearCrossEntropyLoss(torch.nn.Module):
    """``torch.nn.LinearCrossEntropyLoss`` on :func:`linear_cross_entropy`: owns ``linear``
    (an ``nn.Linear(in_features, num_classes, bias)``, the same state-dict keys as torch's) and
    returns the loss of ``linear(input)`` against ``target``; adds ``z_loss`` and ``softcap``"""

    def __init__(self, in_features: int, num_classes: int, *, bias: bool = False, device=None,
                 dtype=None, reduction: str = "mean", weight: Optional[Tensor] = None,
                 ignore_index: int = -100, label_smoothing: float = 0.0, z_loss: float = 0.0,
                 softcap: Optional[float] = None):
        super().__init__()
        self.linear = torch.nn.Linear(in_features, num_classes, bias=bias, device=device,
                                      dtype=dtype)
        self.register_buffer("weight", weight)
        self.reduction, self.ignore_index = reduction, ignore_index
        self.label_smoothing, self.z_loss, self.softcap = label_smoothing, z_loss, softcap

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return linear_cross_entropy(
            input, self.linear.weight, target, linear_bias=self.linear.bias, weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, z_loss=self.z_loss, softcap=self.softcap)


class SampledSoftmaxLoss(torch.nn.Module):
    """A sampled-softmax output layer: owns ``weight`` (num_classes, in_features) and ``bias``
    (num_classes,); ``forward(input, target, sampled_values=None)`` returns the mean loss.
    With ``sparse=True`` their gradients are sparse COO tensors of the touched rows, like
    ``nn.Embedding(sparse=True)``.  ``seed``: reproducible draws (a new seed each call, drawn
    from a generator seeded once)."""

    def __init__(self, num_classes: int, in_features: int, num_sampled: int, *,
                 num_true: int = 1, sampler: str = "log_uniform",
                 remove_accidental_hits: bool = True, subtract_log_q: bool = True,
                 sparse: bool = True, seed: Optional[int] = None, device=None, dtype=None):
        super().__init__()
        self.num_classes, self.in_features, self.num_sampled = num_classes, in_features, \
            num_sampled
        self.num_true, self.sampler, self.sparse = num_true, sampler, sparse
        self.remove_accidental_hits, self.subtract_log_q = remove_accidental_hits, subtract_log_q
        self._seeds = None if seed is None else np.random.default_rng(seed)
        factory = dict(device=device, dtype=dtype)
        bound = in_features ** -0.5
        self.weight = torch.nn.Parameter(
            torch.empty(num_classes, in_features, **factory).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(torch.zeros(num_classes, **factory))

    def forward(self, input: Tensor, target: Tensor, sampled_values=None) -> Tensor:
        seed = None if self._seeds is None else int(self._seeds.integers(2 ** 62))
        return sampled_softmax_loss(
            self.weight, self.bias, target, input, self.num_sampled, self.num_classes,
            self.num_true, sampled_values, self.remove_accidental_hits, sampler=self.sampler,
            subtract_log_q=self.subtract_log_q, seed=seed, sparse=self.sparse)
