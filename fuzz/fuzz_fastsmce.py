#!/usr/bin/env python
"""Fuzz harness for every public function of fastsmce.

Each input (a byte string) is decoded into one call: a function, its arrays
(shape 0-d to 4-d with zero-size and long dimensions, C / Fortran / strided /
negative-stride / transposed / stride-0 broadcast / unaligned / big-endian /
read-only layouts, any dtype) and its options (axis, keepdims, out= aliasing the
input or of a wrong shape, reductions, weights, ignore_index, label smoothing,
pos_weight, alpha / gamma, CSR targets, sampled softmax / NCE arguments, the
samplers).  A call is built in one of three ways:

  valid     a well-formed call: it must succeed, agree with the float64 NumPy
            references of tests/ (tolerances of DESIGN.md section 3, NaN / inf
            patterns equal) and leave its inputs unchanged (unless out= is one);
  invalid   a valid call with one known defect (wrong dtype, shape, axis,
            label, option, read-only out ...): it must raise TypeError,
            ValueError (AxisError included) or IndexError with a non-empty
            message and leave out= / grad_out= untouched;
  chaos     anything at all (garbage objects, odd kwargs): it may succeed or
            raise one of those three exceptions with a message.

Anything else (another exception, a wrong result, a modified input, a crash, a
sanitizer report) is a finding.

Run it
  python fuzz/fuzz_fastsmce.py [libFuzzer flags] CORPUS_DIR   with atheris
  python fuzz/fuzz_fastsmce.py --smoke N SEED                  N random inputs, no atheris
  python fuzz/fuzz_fastsmce.py --replay FILE...                re-run saved inputs
(see fuzz/README.md; under ASan use tools/sanitize.sh's build and LD_PRELOAD).
"""

import math
import os
import random
import sys
import time
import traceback
import warnings

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_TESTS = os.path.normpath(os.path.join(_HERE, os.pardir, "tests"))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

try:  # atheris is optional: --smoke and --replay run without it
    import atheris
except ImportError:  # pragma: no cover - depends on the environment
    atheris = None

if atheris is not None and __name__ == "__main__" and "--smoke" not in sys.argv \
        and "--replay" not in sys.argv:
    with atheris.instrument_imports(include=["fastsmce"]):
        import fastsmce
        from fastsmce import sampling
else:
    import fastsmce
    from fastsmce import sampling

from fastsmce import _core  # noqa: E402

from reference import binary as BIN  # noqa: E402  (tests/reference/: the tests' references)
from reference import sampled as SREF  # noqa: E402
from reference import softmax as REF  # noqa: E402
from reference.xent import cross_entropy_ref  # noqa: E402

ALLOWED = (TypeError, ValueError, IndexError)      # AxisError is a ValueError and an IndexError
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
REDUCTIONS = ("none", "mean", "sum")


class Finding(AssertionError):
    """A contract violation found by the fuzzer."""


# ---------------------------------------------------------------------------
# decoding bytes
# ---------------------------------------------------------------------------

class Data:
    """Decodes the fuzz input; past its end every read gives the lowest choice, so
    short inputs are simple calls.  One decoder for atheris and the seeded driver,
    so a saved input replays the same call in both."""

    def __init__(self, b):
        self.b = bytes(b)
        self.i = 0

    def byte(self):
        if self.i < len(self.b):
            self.i += 1
            return self.b[self.i - 1]
        return 0

    def int(self, lo, hi):
        """integer in [lo, hi]"""
        n = hi - lo + 1
        if n <= 1:
            return lo
        v = 0
        for _ in range(((n - 1).bit_length() + 7) // 8):
            v = (v << 8) | self.byte()
        return lo + v % n

    def bool(self):
        return bool(self.byte() & 1)

    def chance(self, k):
        """true with probability about 1/k"""
        return self.int(0, k - 1) == 0

    def pick(self, seq):
        return seq[self.int(0, len(seq) - 1)]


# ---------------------------------------------------------------------------
# values, shapes, layouts
# ---------------------------------------------------------------------------

FLT_MAX = float(np.finfo(np.float32).max)
TAME = [0.0, -0.0, 5e-324, 1e-310, 1e-45, 1e-40, 1.0, -1.0, 2.0, 0.5, 1e-3, 100.0, -100.0, 7.0]
WILD = TAME + [math.nan, math.inf, -math.inf, 1e30, -1e30, 1e300, -1e300, FLT_MAX, -FLT_MAX,
               1e4, -1e4, 88.7, -87.4, 709.8, -745.2, 3e38, -math.nan]
SCALES = [1.0, 1.0, 3.0, 1e-3, 30.0, 0.0, 300.0]
DIMS = [0, 1, 1, 1, 2, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100]
LONG = [2047, 2049, 4100, 16385, 33000, 65537, 70001]

REAL_DTYPES = [F64, F32, F64, F32, F64, F32, np.dtype(">f8"), np.dtype(">f4"), np.dtype("f2"),
               np.dtype("i1"), np.dtype("i4"), np.dtype("i8"), np.dtype("u1"), np.dtype("u8"),
               np.dtype("?"), np.dtype("g")]
BAD_DTYPES = [np.dtype("c8"), np.dtype("c16"), np.dtype("O"), np.dtype("U3"), np.dtype("S2"),
              np.dtype("M8[s]"), np.dtype("m8[s]")]


def floats(d, n, wild, scale=None):
    """n float64 values: normal * scale from a seeded generator, a few specials"""
    if scale is None:
        scale = d.pick(SCALES)
    v = np.random.default_rng(d.int(0, 2 ** 32 - 1)).standard_normal(n) * scale
    for _ in range(d.int(0, 4)):
        if n == 0:
            break
        v[d.int(0, n - 1)] = d.pick(WILD if wild else TAME)
    return v


def values_for(d, n, dtype, wild=False, scale=None, lo=None, hi=None):
    """n values suited to dtype, as an array of that dtype"""
    k = dtype.kind
    if k == "f":
        v = floats(d, n, wild, scale)
        if lo is not None:
            v = np.clip(v, lo, hi)
        with np.errstate(all="ignore"):
            return v.astype(dtype)
    if k in "iu":
        info = np.iinfo(dtype)
        a, b = (-6, 6) if k == "i" else (0, 9)
        if lo is not None:
            a, b = int(lo), int(hi)
        v = np.random.default_rng(d.int(0, 2 ** 32 - 1)).integers(max(a, info.min), min(b, info.max) + 1,
                                                                    n)
        if wild and n and d.chance(4):
            v = v.astype(object)
            v[d.int(0, n - 1)] = d.pick([info.min, info.max])
        return np.asarray(v).astype(dtype)
    if k == "b":
        return np.random.default_rng(d.int(0, 2 ** 32 - 1)).random(n) < 0.5
    if k == "c":
        v = floats(d, n, wild) + 1j * floats(d, n, wild)
        return v.astype(dtype)
    if k == "O":
        return np.array([float(x) for x in floats(d, n, wild)] + [None] * 0, dtype=object)
    if k in "US":
        return np.array(["1.5"] * n, dtype=dtype)
    if k == "M":
        return np.arange(n).astype(dtype)
    if k == "m":
        return np.arange(n).astype(dtype)
    return np.zeros(n, dtype=dtype)


def shape_of(d, min_nd=0, max_nd=4, cap=4096):
    nd = d.int(min_nd, max_nd)
    dims = [d.pick(DIMS) for _ in range(nd)]
    if nd and d.chance(48):                          # one long dimension, the others small
        j = d.int(0, nd - 1)
        dims = [min(x, 2) for x in dims]
        dims[j] = d.pick(LONG)
        return tuple(dims)
    while int(np.prod(dims, dtype=np.int64)) > cap:
        dims[dims.index(max(dims))] //= 2
    return tuple(dims)


def layout(d, a, writeable=False):
    """a, re-laid out in memory: same values (or, for a broadcast, values repeated
    along the broadcast axes), a different memory layout.  writeable: an output
    (no broadcast, no other byte order, never read-only)"""
    kind = d.int(0, 9)
    shape, dt = a.shape, a.dtype
    if kind <= 2 or a.ndim == 0:
        v = a
    elif kind == 3:
        v = np.asfortranarray(a)
    elif kind == 4:                                  # strided, some axes reversed
        steps = [d.pick([1, 2, 3, -1, -2]) for _ in shape]
        big = np.zeros([max(n, 1) * abs(s) for n, s in zip(shape, steps)], dtype=dt)
        v = big[tuple(slice(None, None, s) for s in steps)]
        v = v[tuple(slice(0, n) for n in shape)]
        v[...] = a
    elif kind == 5:                                  # another axis order in memory
        perm = list(range(a.ndim))
        random.Random(d.byte()).shuffle(perm)
        tmp = np.empty([shape[p] for p in perm], dtype=dt)
        v = tmp.transpose(np.argsort(perm))
        v[...] = a
    elif kind == 6 and not writeable:                # stride 0 along some axes (read-only)
        idx = tuple(slice(0, 1) if d.bool() else slice(None) for _ in shape)
        v = np.broadcast_to(a[idx], shape)
    elif kind == 7 and dt.itemsize > 1 and dt.kind != "O":   # unaligned
        buf = np.zeros(a.size * dt.itemsize + 1, dtype=np.uint8)
        v = np.ndarray(shape, dtype=dt, buffer=buf, offset=1)
        v[...] = a
    elif kind == 8 and not writeable and dt.kind not in "OUSMmb" and dt.itemsize > 1:   # byte order
        v = a.astype(dt.newbyteorder("S"))
    else:
        v = np.array(a, copy=True)
    if not writeable and d.chance(5) and v.flags.writeable:
        v = v.view()
        v.flags.writeable = False
    return v


def array(d, shape, dtype, wild=False, scale=None, lo=None, hi=None, read_only=True):
    n = int(np.prod(shape, dtype=np.int64))
    a = values_for(d, n, np.dtype(dtype), wild, scale, lo, hi).reshape(shape)
    return layout(d, a, writeable=not read_only)


def result_dtype(x):
    dt = np.asarray(x).dtype
    return F32 if dt.kind == "f" and dt.itemsize == 4 else F64


def exact(x):
    """the values the library computes on: float32 / float64 as they are, others in float64"""
    a = np.asarray(x)
    if a.dtype.kind == "f" and a.dtype.itemsize in (4, 8):
        return a.astype(a.dtype.newbyteorder("="))
    return a.astype(np.float64)


def out_like(d, shape, dtype):
    """a writeable output array of the given shape and dtype, garbage-filled"""
    a = np.full(shape, 12345.0, dtype=dtype) if dtype.kind == "f" else np.zeros(shape, dtype)
    return layout(d, a, writeable=True)


def snapshot(a):
    if isinstance(a, np.ndarray) and a.dtype.kind != "O":
        return a.tobytes()
    return None


def garbage(d):
    """an arbitrary argument for chaos calls"""
    k = d.int(0, 17)
    if k == 0:
        return None
    if k == 1:
        return "softmax"
    if k == 2:
        return {"a": 1}
    if k == 3:
        return [[1.0, 2.0], [3.0]]                   # ragged
    if k == 4:
        return d.pick([0, 1, -1, 2 ** 70, -2 ** 70, 2 ** 63, 10 ** 400, True, 1.5, math.nan, math.inf])
    if k == 5:
        return np.float32(d.pick([0.5, -1.0, math.nan]))
    if k == 6:
        return array(d, shape_of(d, 0, 3, 64), d.pick(BAD_DTYPES))
    if k == 7:
        return array(d, shape_of(d, 0, 4, 256), d.pick(REAL_DTYPES), wild=True)
    if k == 8:
        return [1, 2, 3]
    if k == 9:
        return object()
    if k == 10:
        return np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    if k == 11:
        return (np.zeros(3, np.int64), np.ones(2), np.ones(3))
    if k == 12:
        return np.array(3.0)
    if k == 13:
        return lambda *a, **k: (np.zeros(1, np.int64), np.ones(1), np.ones(1))
    if k == 14:
        return b"\x00\x01"
    if k == 15:
        return np.int64(d.int(-3, 40))
    if k == 16:
        return array(d, shape_of(d, 1, 2, 64), np.dtype(np.int64), lo=-3, hi=60)
    return 1j


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------

def fail(msg):
    raise Finding(msg)


def check_type(got, shape, dtype, what):
    if not isinstance(got, (np.ndarray, np.generic)):
        fail(f"{what}: returned {type(got).__name__}, not a NumPy array / scalar")
    if got.dtype != dtype:
        fail(f"{what}: dtype {got.dtype}, expected {dtype}")
    if tuple(np.shape(got)) != tuple(shape):
        fail(f"{what}: shape {np.shape(got)}, expected {shape}")


def close(got, ref, tol, what):
    """|got - ref| <= tol elementwise, NaN and inf exactly where ref has them (a finite
    reference beyond the result dtype's range must come out as that infinity)"""
    dt = np.asarray(got).dtype
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if dt == F32:
        with np.errstate(over="ignore"):
            ref = np.where(np.isfinite(ref) & np.isinf(ref.astype(F32)), ref.astype(F32), ref)
    if got.shape != ref.shape:
        fail(f"{what}: shape {got.shape} != reference {ref.shape}")
    nan = np.isnan(got) != np.isnan(ref)
    if nan.any():
        i = tuple(np.argwhere(nan)[0])
        fail(f"{what}: NaN mismatch at {i}: got {got[i]!r}, reference {ref[i]!r}")
    inf = (np.isinf(got) | np.isinf(ref)) & (got != ref) & ~np.isnan(ref)
    if inf.any():
        i = tuple(np.argwhere(inf)[0])
        fail(f"{what}: inf mismatch at {i}: got {got[i]!r}, reference {ref[i]!r}")
    fin = np.isfinite(got) & np.isfinite(ref)
    with np.errstate(all="ignore"):
        err = np.where(fin, np.abs(got - ref), 0.0)
    tol = np.asarray(tol, dtype=np.float64)
    if dt.kind == "f":             # results below the normal range may flush to 0 (DESIGN.md s. 4)
        tol = tol + np.finfo(dt).tiny
    tol = np.broadcast_to(tol, err.shape)
    bad = err > tol
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        fail(f"{what}: {int(bad.sum())} of {bad.size} values out of tolerance; first at {i}: "
             f"got {got[i]!r}, reference {ref[i]!r}, tolerance {tol[i]:.3g}")


def ref_check(fn, what):
    """run a reference assertion of tests/reference/softmax.py; its AssertionError is a finding"""
    try:
        fn()
    except AssertionError as e:
        raise Finding(f"{what}: {e}") from None


# ---------------------------------------------------------------------------
# a call and its verdict
# ---------------------------------------------------------------------------

class Call:
    def __init__(self, name, fn, args, kwargs, mode, check=None, outs=(), aliases=()):
        self.name, self.fn, self.args, self.kwargs = name, fn, args, kwargs
        self.mode = mode                  # "valid", "invalid", "chaos"
        self.check = check                # check(result) for valid calls
        self.outs = list(outs)            # buffers that must stay untouched on error
        self.aliases = list(aliases)      # inputs that are also outputs (may change)
        self.defect = ""                  # what is wrong with an invalid call

    def describe(self):
        def show(v):
            if isinstance(v, np.ndarray):
                return (f"ndarray(shape={v.shape}, dtype={v.dtype}, strides={v.strides}, "
                        f"writeable={v.flags.writeable}, aligned={v.flags.aligned})")
            r = repr(v)
            return r if len(r) < 120 else r[:117] + "..."
        args = ", ".join(show(a) for a in self.args)
        kw = ", ".join(f"{k}={show(v)}" for k, v in self.kwargs.items())
        return f"[{self.mode}{': ' + self.defect if self.defect else ''}] {self.name}({args}{', ' if kw else ''}{kw})"


def _inputs(call):
    seen = []
    for v in list(call.args) + list(call.kwargs.values()):
        if isinstance(v, (tuple, list)):
            seen += [a for a in v if isinstance(a, np.ndarray)]
        elif isinstance(v, np.ndarray):
            seen.append(v)
        elif hasattr(v, "indptr") and hasattr(v, "indices"):
            seen += [a for a in (v.indptr, v.indices, getattr(v, "data", None)) if isinstance(a, np.ndarray)]
    return [a for a in seen if not any(a is o for o in call.outs)
            and not any(a is o or np.may_share_memory(a, o) for o in call.aliases)]


def run(call):
    ins = [(a, snapshot(a)) for a in _inputs(call)]
    outs = [(a, snapshot(a)) for a in call.outs if isinstance(a, np.ndarray)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            res = call.fn(*call.args, **call.kwargs)
        except ALLOWED as e:
            if not str(e).strip():
                fail(f"{type(e).__name__} with an empty message from {call.describe()}")
            if call.mode == "valid":
                fail(f"valid call raised {type(e).__name__}: {e}\n  {call.describe()}")
            for a, s in outs:
                if s is not None and a.tobytes() != s:
                    fail(f"{type(e).__name__} ({e}) raised after writing to an output buffer\n  "
                         f"{call.describe()}")
            res = None
            raised = e
        except (KeyboardInterrupt, Finding):
            raise
        except BaseException as e:
            fail(f"{type(e).__name__} is not a documented exception: {e}\n  {call.describe()}")
        else:
            raised = None
    for a, s in ins:
        if s is not None and a.tobytes() != s:
            fail(f"an input array was modified\n  {call.describe()}")
    if raised is None:
        if call.mode == "invalid":
            fail(f"invalid call accepted ({call.defect})\n  {call.describe()}")
        if call.mode == "valid" and call.check is not None:
            try:
                call.check(res)
            except Finding as e:
                raise Finding(f"{e}\n  {call.describe()}") from None
    return res


# ---------------------------------------------------------------------------
# the softmax family
# ---------------------------------------------------------------------------

def _axis_for(d, nd):
    return d.int(-nd, nd - 1) if nd else d.pick([0, -1])


def gen_softmax_family(d, mode):
    name = d.pick(["softmax", "log_softmax", "logsumexp", "softmax_backward", "log_softmax_backward"])
    fn = getattr(fastsmce, name)
    backward = name.endswith("backward")
    shape = shape_of(d, 1 if mode == "valid" else 0)
    nd = len(shape)
    wild = (not backward) and d.chance(3)
    xdt = d.pick(REAL_DTYPES)
    x = array(d, shape, xdt, wild=wild)
    args = [x]
    if backward:
        pdt = xdt if d.bool() else d.pick(REAL_DTYPES)
        if name == "softmax_backward":
            p = array(d, shape, pdt, scale=1.0, lo=0.0, hi=1.0)
        else:
            p = array(d, shape, pdt, scale=3.0, lo=-40.0, hi=0.0)
        if d.chance(6) and nd:                       # broadcast shapes
            pshape = tuple(1 if d.bool() else n for n in shape)
            p = array(d, pshape, pdt, scale=1.0, lo=0.0 if name == "softmax_backward" else -40.0,
                      hi=1.0 if name == "softmax_backward" else 0.0)
        args.append(p)
    axis = _axis_for(d, nd)
    kw = {}
    if d.bool():
        kw["axis"] = axis
    else:
        axis = -1
    keepdims = False
    if name == "logsumexp" and d.bool():
        keepdims = d.bool()
        kw["keepdims"] = keepdims
    # the result
    if backward:
        try:
            bshape = np.broadcast_shapes(*(np.shape(a) for a in args))
        except ValueError:
            bshape = shape
        rdt = F32 if all(result_dtype(a) == F32 for a in args) else F64
    else:
        bshape, rdt = shape, result_dtype(x)
    ax = axis % nd if nd else 0
    if name == "logsumexp":
        oshape = tuple((1 if i == ax else n) for i, n in enumerate(bshape) if keepdims or i != ax)
    else:
        oshape = bshape
    outs, aliases = [], []
    if d.chance(3):
        k = d.int(0, 3)
        if k == 0 and isinstance(x, np.ndarray) and x.dtype == rdt and x.flags.writeable \
                and x.shape == oshape:
            kw["out"] = x                             # in place
            aliases.append(x)
        elif k == 1 and isinstance(x, np.ndarray) and x.dtype == rdt and x.flags.writeable \
                and x.ndim and x.shape == oshape:
            kw["out"] = x[::-1]                       # same memory, another order
            aliases.append(x)
        elif k == 2 and name == "logsumexp" and x.dtype == rdt and x.flags.writeable \
                and not keepdims and nd and shape[ax] > 0:
            kw["out"] = x[(slice(None),) * ax + (0, Ellipsis)]    # an array, 0-d too
            aliases.append(x)
        else:
            kw["out"] = out_like(d, oshape, rdt)
        outs.append(kw["out"])
    ref_args = [exact(a) for a in args]
    call = Call(name, fn, tuple(args), kw, "valid", outs=outs, aliases=aliases)

    def check(got):
        if "out" in kw and got is not kw["out"]:
            fail(f"{name}: out= given but another array returned")
        if name == "logsumexp" and not oshape and "out" not in kw:
            if not isinstance(got, np.generic):
                fail(f"logsumexp over all axes returned {type(got).__name__}, not a NumPy scalar")
        check_type(got, oshape, rdt, name)
        if backward:
            g, p = (np.broadcast_to(a, bshape).astype(rdt) for a in ref_args)
            if name == "softmax_backward":
                ref = REF.softmax_backward_ref(g, p, axis)
                scale = REF.softmax_backward_scale(g, p, axis)
            else:
                ref = REF.log_softmax_backward_ref(g, p, axis)
                scale = REF.log_softmax_backward_scale(g, p, axis)
            rtol = 1e-5 if rdt == F32 else 1e-13
            scale = scale + np.finfo(rdt).tiny / rtol      # results below the normal range flush
            ref_check(lambda: REF.assert_scaled_close(got, ref, scale, rtol, name), name)
        elif name == "softmax":
            ref = REF.softmax_ref(ref_args[0], axis)
            if rdt == F64:
                # KNOWN (reported, not fixed): float64 exp(x - max) does not correct the
                # rounding of x - max (float32 does), so probabilities below ~1e-39
                # (|x - max| > 90) are within |x - max| * 2**-53 relative, not 1e-14.
                # Checked down to 1e-30 relative, absolutely below.
                g64 = np.asarray(got, dtype=np.float64)
                with np.errstate(invalid="ignore"):
                    near = np.isfinite(ref) & (np.abs(ref) < 1e-30) & (np.abs(g64 - ref) <= 1e-30)
                got = np.where(near, ref, g64)
            ref_check(lambda: REF.assert_probs_close(got, ref, rdt, name), name)
        elif name == "log_softmax":
            ref_check(lambda: REF.assert_log_close(got, REF.log_softmax_ref(ref_args[0], axis), rdt,
                                                   name), name)
        else:
            ref_check(lambda: REF.assert_log_close(got, REF.logsumexp_ref(ref_args[0], axis, keepdims),
                                                   rdt, name), name)

    call.check = check
    if mode == "valid":
        return call
    # one defect
    call.mode = "invalid"
    k = d.int(0, 8)
    if k == 0:
        bad = d.pick([nd, -nd - 1, nd + 5, -nd - 9, 2 ** 40, 2 ** 70, -2 ** 64])
        call.kwargs["axis"], call.defect = bad, "axis out of range"
    elif k == 1:
        call.kwargs["axis"], call.defect = d.pick([1.0, "0", None, [0], np.float64(0)]), "axis not an integer"
    elif k == 2:
        call.args = (array(d, shape, d.pick(BAD_DTYPES)),) + call.args[1:]
        call.defect = "input dtype not real"
    elif k == 3 and backward:
        call.args = (call.args[0], array(d, shape, d.pick(BAD_DTYPES)))
        call.defect = "second input dtype not real"
    elif k == 4:
        o = out_like(d, tuple(n + 1 for n in oshape) or (1,), rdt)
        call.kwargs["out"], call.outs, call.aliases = o, [o], []
        call.defect = "out of a wrong shape"
    elif k == 5:
        o = out_like(d, oshape, d.pick([F32, F64, np.dtype("i8"), np.dtype(">f8"), np.dtype("c16")]))
        if o.dtype == rdt:
            o = out_like(d, oshape, np.dtype(np.int32))
        call.kwargs["out"], call.outs, call.aliases = o, [o], []
        call.defect = "out of a wrong dtype"
    elif k == 6:
        o = out_like(d, oshape, rdt)
        o.flags.writeable = False
        call.kwargs["out"], call.outs, call.aliases = o, [o], []
        call.defect = "read-only out"
    elif k == 7 and backward and any(n != 1 for n in shape):
        j = [i for i, n in enumerate(shape) if n != 1][0]
        bad = shape[:j] + (shape[j] + 2,) + shape[j + 1:]
        call.args = (call.args[0], array(d, bad, result_dtype(x)))
        call.defect = "shapes do not broadcast"
    else:
        call.kwargs["out"], call.outs, call.aliases = d.pick([[0.0], (1,), "out", 3.0]), [], []
        call.defect = "out not an ndarray"
    return call


# ---------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------

def _softmax64(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def gen_cross_entropy(d, mode):
    with_grad = d.bool()
    name = "cross_entropy_with_grad" if with_grad else "cross_entropy"
    fn = getattr(fastsmce, name)
    shape = shape_of(d, 1, 4, cap=2048)
    nd = len(shape)
    axis = _axis_for(d, nd)
    ax = axis % nd
    C = shape[ax]
    bshape = shape[:ax] + shape[ax + 1:]
    xdt = d.pick(REAL_DTYPES)
    scale = d.pick([1.0, 3.0, 0.01, 30.0, 0.0])
    x = array(d, shape, xdt, scale=scale)
    rdt = result_dtype(x)
    reduction = d.pick(REDUCTIONS)
    kw = {}
    if axis != -1 or d.bool():
        kw["axis"] = axis
    if reduction != "mean" or d.bool():
        kw["reduction"] = reduction
    eps = 0.0
    if d.chance(3):
        eps = d.pick([0.0, 0.1, 0.5, 1.0, 1e-7])
        kw["label_smoothing"] = eps
    ign = -100
    probs = d.chance(4)
    if probs:
        t = array(d, shape, d.pick([F32, F64, np.dtype("f2"), np.dtype(">f8")]), scale=1.0)
        if d.bool():                                  # proper distributions
            t = np.abs(exact(t)).astype(t.dtype)
    else:
        idt = d.pick([np.dtype("i8"), np.dtype("i4"), np.dtype("i1"), np.dtype("u1"), np.dtype("u8"),
                      np.dtype(">i8"), np.dtype("i2")])
        if C == 0:
            lab = np.full(bshape, 0, dtype=np.int64)
            ign = 0
            kw["ignore_index"] = 0
        else:
            lab = np.random.default_rng(d.int(0, 2 ** 32 - 1)).integers(0, C, bshape)
            if d.chance(3) and lab.size:
                ign = d.pick([-100, -1, 0, C - 1, 3, 2 ** 62]) if idt.kind == "i" else d.pick([0, C - 1])
                if ign != -100:
                    kw["ignore_index"] = ign
                if -2 ** 63 <= ign < 2 ** 63 and (idt.kind == "i" or ign >= 0) \
                        and np.iinfo(idt).min <= ign <= np.iinfo(idt).max:
                    flat = lab.reshape(-1)
                    for _ in range(d.int(1, 3)):
                        flat[d.int(0, flat.size - 1)] = ign
        lab = np.clip(lab, np.iinfo(idt).min, np.iinfo(idt).max).astype(idt)
        t = layout(d, lab)
    w = None
    if d.chance(3):
        w = array(d, (C,), d.pick([F32, F64, np.dtype("i4"), np.dtype("f2")]), scale=1.0, lo=0.0, hi=5.0)
        w = np.abs(w) if w.dtype.kind != "u" else w
        if rdt == F32:
            # KNOWN (reported, not fixed): float32 logits with a counted weight total
            # below ~1e-38 ("mean" scale 1 / total beyond float32) give inf gradients
            w = np.where(np.abs(exact(w)) < 1e-30, 0, w).astype(w.dtype)
        kw["weight"] = w
    outs, aliases = [], []
    if with_grad and d.chance(3):
        k = d.int(0, 2)
        if k == 0 and isinstance(x, np.ndarray) and x.dtype == rdt and x.flags.writeable:
            kw["grad_out"] = x                        # in place, as documented
            aliases.append(x)
        elif k == 1 and probs and t.dtype == rdt and t.flags.writeable:
            kw["grad_out"] = t                        # over the probability targets
            aliases.append(t)
        else:
            kw["grad_out"] = out_like(d, shape, rdt)
        outs.append(kw["grad_out"])
    xr = exact(x)
    tr = np.array(t, copy=True)
    wr = None if w is None else exact(w).astype(rdt).astype(np.float64)
    call = Call(name, fn, (x, t), kw, "valid", outs=outs, aliases=aliases)

    def check(res):
        loss, grad = res if with_grad else (res, None)
        lshape = bshape if reduction == "none" else ()
        check_type(loss, lshape, rdt, name + " loss")
        if with_grad:
            check_type(grad, shape, rdt, name + " grad")
        if C == 0:                                     # no classes: every loss 0, grad empty
            R = int(np.prod(bshape))
            lo = np.asarray(loss, dtype=np.float64)
            if reduction == "mean" and (probs and R) and lo != 0:
                fail(f"{name}: loss over no classes {loss!r}")
            if reduction == "mean" and not (probs and R) and not np.isnan(lo):
                fail(f"{name}: mean with nothing counted must be NaN, got {loss!r}")
            if reduction != "mean" and np.any(lo != 0):
                fail(f"{name}: loss over no classes {loss!r}")
            return
        x64 = np.moveaxis(xr.astype(np.float64), ax, -1)
        if probs:
            tt = np.moveaxis(exact(tr).astype(rdt).astype(np.float64), ax, -1)
            tref = np.moveaxis(tt, -1, ax)
        else:
            tref = tr.astype(np.int64)
        with np.errstate(all="ignore"):
            ref = cross_entropy_ref(xr.astype(np.float64), tref, axis=ax, weight=wr, ignore_index=ign,
                                    reduction=reduction, label_smoothing=eps)
            # error scale: every term u_c * |x_c - max| and the log-sum
            wv = np.ones(C) if wr is None else wr
            if probs:
                # the size of the terms: (1 - eps) t + eps / C cancels for negative t, and
                # float32 rounds 1 - eps and eps / C (harmless for t >= 0)
                u = ((1 - eps) * np.abs(tt) + eps / max(C, 1)) * np.abs(wv)
                keep = np.ones(x64.shape[:-1], bool)
            else:
                y = tref
                keep = y != ign
                ys = np.where(keep, y, 0)
                u = eps / max(C, 1) * np.broadcast_to(wv, x64.shape).copy()
                if C:
                    np.put_along_axis(u, ys[..., None],
                                      np.take_along_axis(u, ys[..., None], -1) + (1 - eps) * wv[ys][..., None], -1)
                u = np.where(keep[..., None], u, 0)
            m = np.max(x64, axis=-1, keepdims=True, initial=-np.inf) if C else np.zeros(x64.shape[:-1] + (1,))
            mag = (u * (np.abs(x64 - m) + 1 + np.log(max(C, 1)))).sum(-1)
        rtol = 2e-5 if rdt == F32 else 1e-12
        mag = mag + np.finfo(rdt).tiny / rtol          # the loss is rounded to the logits' dtype
        if reduction == "none":
            close(loss, ref, rtol * (np.abs(ref) + mag) + 1e-300, name + " loss")
        else:
            denom = 1.0
            if reduction == "mean":
                denom = x64[..., 0].size if probs or C == 0 else np.where(keep, (wv[ys] if C else 0), 0).sum()
            if reduction == "mean" and denom == 0:
                if not np.isnan(loss):
                    fail(f"{name}: mean over no counted target must be NaN, got {loss!r}")
            else:
                close(loss, ref, rtol * (abs(float(ref)) + mag.sum() / (denom if denom else 1.0)) + 1e-300,
                      name + " loss")
        if not with_grad:
            return
        if "grad_out" in kw and grad is not kw["grad_out"]:
            fail(f"{name}: grad_out= given but another array returned")
        with np.errstate(all="ignore"):
            if C:
                p = _softmax64(x64)
                if probs:
                    uu = ((1 - eps) * tt + eps / C) * wv
                else:
                    uu = eps / C * np.broadcast_to(wv, x64.shape).copy()
                    np.put_along_axis(uu, ys[..., None],
                                      np.take_along_axis(uu, ys[..., None], -1) + (1 - eps) * wv[ys][..., None], -1)
                    uu = np.where(keep[..., None], uu, 0)
                s = 1.0
                if reduction == "mean":
                    s = 1.0 / denom if denom else 0.0
                if not np.isfinite(s):
                    return                     # denormal total weight: 1 / total overflows
                # scaled first: class weights may be denormal, their products lose digits
                su = s * uu
                g = p * su.sum(-1, keepdims=True) - su
                sa = s * (((1 - eps) * np.abs(tt) + eps / C) * np.abs(wv) if probs else np.abs(uu))
                gscale = (p * sa.sum(-1, keepdims=True) + sa) * (1 + np.abs(x64 - m))
                # exp flushes results below the smallest normal to 0 (DESIGN.md section 4)
                gscale = gscale + s * np.abs(uu).sum(-1, keepdims=True) * np.finfo(rdt).tiny / rtol
            else:
                g = gscale = np.zeros(x64.shape)
        close(grad, np.moveaxis(g, -1, ax), rtol * np.moveaxis(gscale, -1, ax) + 1e-300, name + " grad")

    call.check = check
    if mode == "valid":
        return call
    call.mode = "invalid"
    k = d.int(0, 11)
    if k == 0:
        call.kwargs["axis"], call.defect = d.pick([nd, -nd - 1, 99, 2 ** 40, 2 ** 70]), "axis out of range"
    elif k == 1:
        call.kwargs["reduction"], call.defect = d.pick(["avg", "", None, "MEAN", 1]), "unknown reduction"
    elif k == 2:
        call.kwargs["label_smoothing"], call.defect = d.pick([-0.1, 1.5, math.nan, math.inf]), "bad smoothing"
    elif k == 3 and not probs and np.size(t):
        bad = np.array(t, dtype=np.int64, order="C")
        v = d.pick([C, C + 7, -1, -5, 2 ** 40, -2 ** 63])
        if v == ign:
            v = C + 1 if ign != C + 1 else C + 2
        bad.reshape(-1)[d.int(0, bad.size - 1)] = v
        call.args, call.defect = (x, bad), "label out of range"
    elif k == 4:
        call.args = (x, array(d, tuple(n + 1 for n in bshape) or (2,), np.dtype(np.int64), lo=0, hi=0))
        call.defect = "target of a wrong shape"
    elif k == 5:
        call.args = (x, array(d, shape, d.pick(BAD_DTYPES)))
        call.defect = "target dtype neither integer nor floating"
    elif k == 6:
        wb = np.ones(C + 1) if d.bool() else np.ones((C, 1))
        call.kwargs["weight"], call.defect = wb, "weight of a wrong shape"
    elif k == 7 and C > 0:
        wb = np.ones(C)
        wb[d.int(0, C - 1)] = d.pick([-1.0, math.nan, math.inf, -1e-30])
        call.kwargs["weight"], call.defect = wb, "negative or non-finite weight"
    elif k == 8 and with_grad:
        g = out_like(d, d.pick([tuple(n + 1 for n in shape), shape + (2,)]), rdt)
        call.kwargs["grad_out"], call.outs, call.aliases = g, [g], []
        call.defect = "grad_out of a wrong shape"
    elif k == 9 and with_grad:
        g = out_like(d, shape, rdt)
        g.flags.writeable = False
        call.kwargs["grad_out"], call.outs, call.aliases = g, [g], []
        call.defect = "read-only grad_out"
    elif k == 10:
        call.kwargs["ignore_index"], call.defect = d.pick([1.5, "x", None, 2 ** 64]), "bad ignore_index"
    else:
        call.args = (array(d, shape, d.pick(BAD_DTYPES)), t)
        call.defect = "logits dtype not real"
    return call


# ---------------------------------------------------------------------------
# sigmoid family
# ---------------------------------------------------------------------------

def _expit(x):
    with np.errstate(all="ignore"):
        return BIN.expit(x)


def gen_sigmoid(d, mode):
    name = d.pick(["sigmoid", "log_sigmoid"])
    fn = getattr(fastsmce, name)
    shape = shape_of(d, 0)
    x = array(d, shape, d.pick(REAL_DTYPES), wild=d.bool())
    rdt = result_dtype(x)
    kw, outs, aliases = {}, [], []
    if d.chance(3):
        if d.bool() and isinstance(x, np.ndarray) and x.dtype == rdt and x.flags.writeable:
            kw["out"] = x
            aliases.append(x)
        elif d.bool() and x.dtype == rdt and x.flags.writeable and x.ndim:
            kw["out"] = x[::-1]
            aliases.append(x)
        else:
            kw["out"] = out_like(d, shape, rdt)
        outs.append(kw["out"])
    xr = exact(x).astype(np.float64)
    call = Call(name, fn, (x,), kw, "valid", outs=outs, aliases=aliases)

    def check(got):
        if "out" in kw and got is not kw["out"]:
            fail(f"{name}: out= given but another array returned")
        check_type(got, shape, rdt, name)
        if name == "sigmoid":
            with np.errstate(all="ignore"):
                ref = BIN.sigmoid_ref(xr).astype(np.float64)
            floor = 2e-38 if rdt == F32 else 3e-308       # exp flushes below the normal range
            rtol = 5e-7 if rdt == F32 else 1e-15
            close(got, ref, rtol * np.abs(ref) + floor, name)
        else:
            with np.errstate(all="ignore"):
                ref = BIN.log_sigmoid_ref(xr).astype(np.float64)
            rtol = 5e-7 if rdt == F32 else 2e-15
            with np.errstate(all="ignore"):
                tol = rtol * np.maximum(1, np.abs(ref)) + (2e-38 if rdt == F32 else 3e-308)
            close(got, ref, tol, name)

    call.check = check
    if mode == "valid":
        return call
    call.mode = "invalid"
    k = d.int(0, 3)
    if k == 0:
        call.args, call.defect = (array(d, shape, d.pick(BAD_DTYPES)),), "dtype not real"
    elif k == 1:
        o = out_like(d, tuple(n + 1 for n in shape) or (2,), rdt)
        call.kwargs["out"], call.outs, call.aliases, call.defect = o, [o], [], "out of a wrong shape"
    elif k == 2:
        o = out_like(d, shape, F64 if rdt == F32 else F32)
        call.kwargs["out"], call.outs, call.aliases, call.defect = o, [o], [], "out of a wrong dtype"
    else:
        o = out_like(d, shape, rdt)
        o.flags.writeable = False
        call.kwargs["out"], call.outs, call.aliases, call.defect = o, [o], [], "read-only out"
    return call


class _CSR:
    """a duck-typed CSR target (indptr, indices, data, shape): what the docs accept
    besides scipy.sparse"""

    def __init__(self, indptr, indices, data, shape):
        self.indptr, self.indices, self.shape = indptr, indices, shape
        if data is not None:
            self.data = data


def _csr(d, z, n, c):
    """z (n x c, values in [0, 1]) as a CSR target whose dense form is z"""
    import scipy.sparse as sps
    k = d.int(0, 3)
    if k == 0:
        return sps.csr_matrix(z)
    if k == 1:
        return sps.csr_array(z)
    rows, cols = np.nonzero(z)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(d.pick([np.int64, np.int32]))
    data = z[rows, cols]
    perm = np.arange(cols.size)
    if d.bool():                                      # unsorted columns within rows
        for r in range(n):
            lo, hi = indptr[r], indptr[r + 1]
            perm[lo:hi] = perm[lo:hi][::-1]
    cols, data = cols[perm], data[perm]
    if k == 2 and np.all(data == 1):
        return _CSR(indptr, cols.astype(np.int32), None, None if d.bool() else (n, c))
    return _CSR(indptr, cols, data, (n, c))


def gen_binary(d, mode):
    focal = d.chance(3)
    with_grad = d.bool()
    name = ("sigmoid_focal_loss" if focal else "binary_cross_entropy_with_logits") + ("_with_grad" if with_grad else "")
    fn = getattr(fastsmce, name)
    sparse = not focal and d.chance(4)
    shape = shape_of(d, 2, 2, 2048) if sparse else shape_of(d, 0, 4, 2048)
    nd = len(shape)
    xdt = d.pick(REAL_DTYPES)
    wild = d.chance(4)
    x = array(d, shape, xdt, wild=wild, scale=d.pick([1.0, 4.0, 30.0, 0.01]))
    rdt = result_dtype(x)
    zdt = d.pick([rdt, rdt, F32, F64, np.dtype("f2"), np.dtype("?"), np.dtype("u1")])
    soft = d.bool()
    z64 = np.random.default_rng(d.int(0, 2 ** 32 - 1)).random(shape)
    z64 = z64 if soft else (z64 < 0.3).astype(np.float64)
    if zdt.kind in "biu":
        z64 = np.round(z64)
    if sparse:
        z64 = np.where(z64 > 0.5, z64, 0.0)
        t = _csr(d, z64.astype(np.float64), shape[0], shape[1])
        zeff = z64
    else:
        t = layout(d, z64.astype(zdt))
        zeff = np.asarray(t).astype(rdt).astype(np.float64)
    reduction = d.pick(REDUCTIONS)
    kw = {}
    if reduction != "mean" or d.bool():
        kw["reduction"] = reduction
    w = pw = None
    alpha, gamma = 0.25, 2.0
    if focal:
        if d.bool():
            alpha = d.pick([0.25, -1.0, 0.5, 0.0, 1.0, 0.9])
            kw["alpha"] = alpha
        if d.bool():
            gamma = d.pick([2.0, 0.0, 0.5, 1.0, 3.7])
            kw["gamma"] = gamma
    else:
        if d.chance(3):
            wshape = tuple(n if d.bool() else 1 for n in shape)[d.int(0, nd):] if nd else ()
            w = array(d, wshape, d.pick([rdt, F64, np.dtype("i4")]), scale=1.0, lo=0.0, hi=3.0)
            kw["weight"] = w
        if d.chance(3):
            pshape = (shape[-1],) if nd and d.bool() else tuple(n if d.bool() else 1 for n in shape)
            pw = array(d, pshape, d.pick([rdt, F64]), scale=2.0, lo=0.0, hi=5.0)
            kw["pos_weight"] = pw
    outs, aliases = [], []
    if with_grad and d.chance(3):
        k = d.int(0, 3)
        other = [a for a in (t, w, pw) if isinstance(a, np.ndarray) and a.shape == shape
                 and a.dtype == rdt and a.flags.writeable]
        if k == 0 and isinstance(x, np.ndarray) and x.dtype == rdt and x.flags.writeable:
            kw["grad_out"] = x                        # in place, as documented
            aliases.append(x)
        elif k == 1 and other:
            kw["grad_out"] = other[d.int(0, len(other) - 1)]   # over the target or a weight
            aliases.append(kw["grad_out"])
        else:
            kw["grad_out"] = out_like(d, shape, rdt)
        outs.append(kw["grad_out"])
    x64 = exact(x).astype(np.float64)
    cast = lambda a: None if a is None else np.broadcast_to(exact(a).astype(rdt).astype(np.float64), shape)  # noqa: E731
    w64, pw64 = cast(w), cast(pw)
    call = Call(name, fn, (x, t), kw, "valid", outs=outs, aliases=aliases)

    def check(res):
        loss, grad = res if with_grad else (res, None)
        check_type(loss, shape if reduction == "none" else (), rdt, name + " loss")
        if with_grad:
            check_type(grad, shape, rdt, name + " grad")
            if "grad_out" in kw and grad is not kw["grad_out"]:
                fail(f"{name}: grad_out= given but another array returned")
        if wild and (not np.all(np.isfinite(x64)) or np.abs(x64).max(initial=0) > 1e30):
            return                                     # specials: no crash, right type is all
        n = x64.size
        with np.errstate(all="ignore"):
            if focal:
                s = _expit(x64)
                ce = np.maximum(x64, 0) - x64 * zeff + np.log1p(np.exp(-np.abs(x64)))
                q = 1 - (s * zeff + (1 - s) * (1 - zeff))
                at = alpha * zeff + (1 - alpha) * (1 - zeff) if alpha >= 0 else np.ones_like(x64)
                qg = q ** gamma
                el = BIN.focal_ref(x64, zeff, alpha, gamma, reduction="none")
                mag = np.abs(at) * (np.abs(ce) + 1) * (qg + 1e-300)
                g = at * ((s - zeff) * qg - gamma * ce * np.where(q > 0, q ** (gamma - 1), 0) * s * (1 - s) * (2 * zeff - 1))
                gmag = np.abs(at) * (1 + gamma * (1 + np.abs(ce)))
            else:
                wv = np.ones_like(x64) if w64 is None else w64
                pv = np.ones_like(x64) if pw64 is None else pw64
                sp, sn = BIN.softplus(x64), BIN.softplus(-x64)
                el, g = BIN.bce_ref(x64, zeff, weight=wv, pos_weight=pv, reduction="none")
                mag = np.abs(wv) * ((1 - zeff) * sp + pv * zeff * sn + 1)
                gmag = np.abs(wv) * (1 + pv)
        rtol = 2e-5 if rdt == F32 else 1e-12
        mag = mag + np.finfo(rdt).tiny / rtol          # results below the normal range flush
        if focal and (gamma < 1 or np.any(np.abs(x64) > 30)):
            return    # the direct float64 formula loses accuracy here; the kernel is in log space
        if reduction == "none":
            close(loss, el, rtol * mag + 1e-300, name + " loss")
        elif n == 0:
            if reduction == "mean" and not np.isnan(loss):
                fail(f"{name}: mean over no element must be NaN, got {loss!r}")
            if reduction == "sum" and loss != 0:
                fail(f"{name}: sum over no element must be 0, got {loss!r}")
        else:
            div = n if reduction == "mean" else 1
            close(loss, el.sum() / div, rtol * mag.sum() / div + 1e-300, name + " loss")
        if with_grad:
            s = 1.0 / n if reduction == "mean" and n else 1.0
            close(grad, g * s, rtol * gmag * s + 1e-300, name + " grad")

    call.check = check
    if mode == "valid":
        return call
    call.mode = "invalid"
    k = d.int(0, 10)
    if k == 0:
        call.kwargs["reduction"], call.defect = d.pick(["avg", None, "", 0]), "unknown reduction"
    elif k == 1 and not sparse and np.size(t):
        zb = np.array(np.asarray(t), dtype=rdt, order="C")
        zb.reshape(-1)[d.int(0, zb.size - 1)] = d.pick([-0.5, 1.5, math.nan, 2.0, -1e-30])
        call.args, call.defect = (x, zb), "target outside [0, 1]"
    elif k == 2:
        call.args = (x, np.zeros(tuple(n + 1 for n in shape) or (2,), rdt))
        call.defect = "target of a wrong shape"
    elif k == 3:
        call.args, call.defect = (x, array(d, shape, d.pick(BAD_DTYPES))), "target dtype not real"
    elif k == 4:
        call.args, call.defect = (array(d, shape, d.pick(BAD_DTYPES)), t), "logits dtype not real"
    elif k == 5 and not focal:
        call.kwargs[d.pick(["weight", "pos_weight"])] = np.ones(tuple(n + 2 for n in shape) or (3,))
        call.defect = "weight that does not broadcast"
    elif k == 6 and focal:
        call.kwargs[d.pick(["alpha", "gamma"])] = d.pick([math.nan, math.inf])
        call.defect = "non-finite alpha / gamma"
    elif k == 7 and focal:
        call.kwargs["gamma"], call.defect = d.pick([-1.0, -1e-9]), "negative gamma"
    elif k == 8 and sparse:
        import scipy.sparse as sps
        call.args = (x, d.pick([sps.csc_matrix(z64), sps.coo_matrix(z64)]))
        call.defect = "sparse target not CSR"
    elif k == 9 and sparse and shape[0] * shape[1]:
        indptr = np.zeros(shape[0] + 1, np.int64)
        indptr[-1] = 1
        call.args = (x, _CSR(indptr, np.array([d.pick([shape[1], -1, 2 ** 40])]), None, shape))
        call.defect = "sparse column index out of range"
    elif k == 10 and with_grad:
        g = out_like(d, shape, rdt)
        g.flags.writeable = False
        call.kwargs["grad_out"], call.outs, call.aliases, call.defect = g, [g], [], "read-only grad_out"
    elif focal and sparse is False and d.bool():
        import scipy.sparse as sps
        if nd == 2:
            call.args, call.defect = (x, sps.csr_matrix(np.asarray(zeff))), "sparse target for focal loss"
        else:
            call.args, call.defect = (array(d, shape, d.pick(BAD_DTYPES)), t), "logits dtype not real"
    else:
        o = out_like(d, tuple(n + 1 for n in shape) or (2,), rdt)
        if with_grad:
            call.kwargs["grad_out"], call.outs, call.aliases, call.defect = o, [o], [], "grad_out of a wrong shape"
        else:
            call.args, call.defect = (array(d, shape, d.pick(BAD_DTYPES)), t), "logits dtype not real"
    return call


# ---------------------------------------------------------------------------
# candidate samplers
# ---------------------------------------------------------------------------

def _sampler_probs(kind, n, unigrams=None, distortion=1.0):
    k = np.arange(n, dtype=np.float64)
    if kind == "uniform":
        return np.full(n, 1.0 / n)
    if kind == "log_uniform":
        return (np.log(k + 2) - np.log(k + 1)) / np.log(n + 1)
    w = np.asarray(unigrams, dtype=np.float64) ** distortion
    return w / w.sum()


def _unigrams(d, n):
    w = np.random.default_rng(d.int(0, 2 ** 32 - 1)).integers(0, 10, n).astype(np.float64)
    w[d.int(0, n - 1)] = d.pick([1.0, 50.0])
    return w


def gen_sampler(d, mode):
    kind = d.pick(["uniform", "log_uniform", "unigram", "FixedUnigramSampler"])
    big = d.chance(16)
    n = d.pick([10 ** 6, 2 ** 40, 2 ** 62]) if big and kind in ("uniform", "log_uniform") else d.int(1, 60)
    nt = d.int(1, 3)
    B = d.int(0, 5)
    unique = d.bool() and not big
    tc = layout(d, np.random.default_rng(d.int(0, 2 ** 32 - 1)).integers(0, n, (B, nt)).astype(
        d.pick([np.int64, np.int32, np.int64]) if n < 2 ** 31 else np.int64))
    unigrams, distortion = None, 1.0
    if kind in ("unigram", "FixedUnigramSampler"):
        unigrams = _unigrams(d, n)
        if d.chance(3):
            distortion = d.pick([0.75, 0.5, 2.0, 1.0])
        possible = int(np.count_nonzero(unigrams))
    else:
        possible = n
    S = d.int(0, min(possible, 24)) if unique else d.int(0, 24)
    seed = d.int(0, 2 ** 64 - 1) if d.bool() else d.int(0, 5)
    kw = {"seed": seed}
    if kind == "uniform":
        fn, args = sampling.uniform_candidate_sampler, (tc, nt, S, unique, n)
    elif kind == "log_uniform":
        fn, args = sampling.log_uniform_candidate_sampler, (tc, nt, S, unique, n)
    elif kind == "unigram":
        fn, args = sampling.fixed_unigram_candidate_sampler, (tc, nt, S, unique, n)
        kw["unigrams"] = unigrams
        if distortion != 1.0:
            kw["distortion"] = distortion
    else:
        fn = sampling.FixedUnigramSampler(unigrams, distortion)
        args = (tc, nt, S, unique, n)
    p = None if big else _sampler_probs("unigram" if unigrams is not None else kind, n, unigrams, distortion)
    call = Call(f"sampling.{kind}", fn, args, kw, "valid")

    def check(res):
        sampled, tec, sec = res
        check_type(sampled, (S,), np.dtype(np.int64), "sampled")
        check_type(tec, (B, nt), F32, "true_expected_count")
        check_type(sec, (S,), F32, "sampled_expected_count")
        if S and (sampled.min() < 0 or sampled.max() >= n):
            fail(f"sampled class outside [0, {n})")
        if unique and np.unique(sampled).size != S:
            fail("unique=True drew a class twice")
        again = fn(*args, **kw)
        if not all(np.array_equal(a, b) for a, b in zip(res, again)):
            fail("the same seed gave different draws")
        if p is None:
            return
        if S and np.any(p[sampled] == 0):
            fail("drew a class of probability 0")
        for what, cls, ec in (("true", np.asarray(tc), tec), ("sampled", sampled, sec)):
            pc = p[cls.astype(np.int64)]
            if not unique:
                close(ec, pc * S, 1e-6 * pc * S + 1e-30, f"{what}_expected_count")
            elif ec.size:
                direct = np.isclose(ec, pc * S, rtol=1e-6, atol=1e-30)
                if not np.all(direct) and not np.all((ec >= 0) & (ec <= 1 + 1e-6)):
                    fail(f"{what}_expected_count outside [0, 1] with rejected draws: {ec}")

    call.check = check
    if mode == "valid":
        return call
    call.mode = "invalid"
    call.check = None
    k = d.int(0, 10)
    a = list(args)
    if k == 0:
        a[4], call.defect = d.pick([0, -3]), "range_max < 1"
        if kind == "FixedUnigramSampler":
            a[4], call.defect = n + 1, "range_max differs from the sampler's"
    elif k == 1 and B:
        bad = np.array(tc, dtype=np.int64)
        bad[d.int(0, B - 1), d.int(0, nt - 1)] = d.pick([n, -1, n + 10])
        a[0], call.defect = bad, "true class out of range"
    elif k == 2:
        a[0], call.defect = np.asarray(tc, dtype=d.pick([np.float64, np.complex128, object])), "true classes not integers"
    elif k == 3:
        a[0], call.defect = np.zeros((B, nt + 1), np.int64), "true classes with the wrong num_true"
    elif k == 4:
        a[2], call.defect = d.pick([-1, -100]), "negative num_sampled"
    elif k == 5 and not big:
        a[2], a[3], call.defect = possible + d.int(1, 3), True, "more unique samples than classes"
    elif k == 6:
        kw = dict(kw, seed=d.pick([1.5, "1", [1]]))
        call.defect = "seed not an integer"
    elif k == 7 and kind == "unigram":
        ub = np.array(unigrams)
        j = d.int(0, 2)
        if j == 0:
            ub = np.append(ub, 1.0)
        elif j == 1:
            ub[d.int(0, n - 1)] = d.pick([-1.0, math.nan, math.inf])
        else:
            ub = ub * 0
        kw = dict(kw, unigrams=ub)
        call.defect = "bad unigrams"
    elif k == 8 and kind in ("unigram", "FixedUnigramSampler"):
        ub = d.pick([np.asarray(unigrams) + 0j, np.asarray(unigrams).astype("U8")])
        if kind == "unigram":
            kw = dict(kw, unigrams=ub)
        else:
            call.fn = sampling.FixedUnigramSampler
            a, kw = [ub], {}
        call.defect = "complex unigrams"
    elif k == 9:
        a[1], call.defect = d.pick([0, -1]), "num_true < 1"
    else:
        a[0], call.defect = np.zeros((B * nt,), np.int64), "1-D true classes"
    call.args, call.kwargs = tuple(a), kw
    return call


# ---------------------------------------------------------------------------
# sampled softmax and NCE
# ---------------------------------------------------------------------------

def gen_sampled(d, mode):
    nce = d.bool()
    with_grad = d.bool()
    name = ("nce_loss" if nce else "sampled_softmax_loss") + ("_with_grad" if with_grad else "")
    fn = getattr(fastsmce, name)
    C = d.int(1, 40) if not d.chance(16) else d.int(41, 400)
    D = d.int(0, 9)
    N = d.int(0, 9)
    nt = d.int(1, 3)
    dt = d.pick([F64, F32, F64, F32, np.dtype("i4")])
    wild = d.chance(5)
    W = array(d, (C, D), dt if d.chance(4) is False else d.pick([F32, F64]), wild=wild, scale=1.0)
    b = array(d, (C,), dt if d.chance(4) is False else d.pick([F32, F64]), wild=wild, scale=1.0)
    X = array(d, (N, D), dt, wild=wild, scale=1.0)
    rdt = np.result_type(exact(W).dtype, exact(b).dtype, exact(X).dtype)
    lab = np.random.default_rng(d.int(0, 2 ** 32 - 1)).integers(0, C, (N, nt))
    if N and nt > 1 and d.bool():
        lab[0, 1] = lab[0, 0]                          # a repeated label
    labels = lab[:, 0] if nt == 1 and d.bool() else lab
    labels = layout(d, labels.astype(d.pick([np.int64, np.int32, np.int64, np.uint16])))
    lab = np.asarray(labels).astype(np.int64).reshape(N, nt)     # what the call sees
    S = d.int(0, C) if not d.chance(8) else d.int(0, min(C, 3))
    seed = d.int(0, 2 ** 63)
    kw = {}
    if nt != 1 or d.bool():
        kw["num_true"] = nt
    remove = d.bool()
    subq = not d.chance(4)
    kw["remove_accidental_hits"] = remove
    if not subq:
        kw["subtract_log_q"] = False
    reduction = d.pick(REDUCTIONS)
    if reduction != "mean" or d.bool():
        kw["reduction"] = reduction
    src = d.int(0, 5)
    if S == 0 and src <= 4 and subq:
        S = 1                          # no draw has no expected count to subtract (ValueError)
    sv = None
    if src == 0:                                       # default sampler
        kw["seed"] = seed
        sv = sampling.log_uniform_candidate_sampler(lab, nt, S, True, C, seed=seed)
    elif src == 1:
        kw["sampler"] = "uniform"
        kw["seed"] = seed
        sv = sampling.uniform_candidate_sampler(lab, nt, S, True, C, seed=seed)
    elif src == 2:
        u = np.ones(C)
        free = np.setdiff1d(np.arange(C), lab.ravel())     # true classes keep a probability > 0
        u[np.random.default_rng(seed).permutation(free)[:max(0, C - max(S, 1) - lab.size)]] = d.pick([0.0, 1.0, 3.0])
        kw["sampler"] = u
        kw["seed"] = seed
        sv = sampling.fixed_unigram_candidate_sampler(lab, nt, S, True, C, unigrams=u, seed=seed)
    elif src == 3:
        s = sampling.FixedUnigramSampler(np.arange(1, C + 1, dtype=np.float64))
        kw["sampler"] = s
        kw["seed"] = seed
        sv = s(lab, nt, S, True, C, seed=seed)
    elif src == 4:                                     # explicit, maybe with repeats
        unique = d.bool() and S <= C
        sv = sampling.log_uniform_candidate_sampler(lab, nt, S, unique, C, seed=seed)
        if not unique and S > 1 and d.bool():
            sv = (np.concatenate([sv[0][:-1], sv[0][:1]]), sv[1], sv[2])
        kw["sampled_values"] = sv
    else:                                              # explicit, arbitrary counts
        rng = np.random.default_rng(seed)
        sampled = rng.integers(0, C, S)
        tec = rng.uniform(0.01, 3.0, (N, nt))
        sec = rng.uniform(0.01, 3.0, S)
        if not subq and d.bool():
            tec, sec = tec * 0, -sec                    # unused when subtract_log_q=False
        sv = (layout(d, sampled.astype(d.pick([np.int64, np.int32]))),
              layout(d, (tec[:, 0] if nt == 1 and d.bool() else tec).astype(d.pick([F32, F64]))),
              layout(d, sec.astype(d.pick([F32, F64]))))
        kw["sampled_values"] = sv
    args = (W, b, labels, X, S, C)
    call = Call(name, fn, args, kw, "valid")
    mode_ref = "nce" if nce else "softmax"

    def check(res):
        loss, g = res if with_grad else (res, None)
        check_type(loss, (N,) if reduction == "none" else (), rdt, name + " loss")
        if with_grad:
            check_type(g.inputs, (N, D), rdt, "grads.inputs")
            if g.ids.dtype != np.int64 or g.ids.ndim != 1:
                fail(f"grads.ids: dtype {g.ids.dtype}, ndim {g.ids.ndim}")
            K = g.ids.size
            check_type(g.weights, (K, D), rdt, "grads.weights")
            check_type(g.biases, (K,), rdt, "grads.biases")
            want = set(lab.ravel().tolist()) | set(np.asarray(sv[0]).tolist())
            if set(g.ids.tolist()) != want or np.unique(g.ids).size != K:
                fail("grads.ids are not the distinct true and sampled classes")
        if wild or N == 0:
            if N == 0 and reduction != "none" and ((reduction == "mean") != bool(np.isnan(loss)) or (reduction == "sum" and loss != 0)):
                fail(f"{name}: empty batch gave {loss!r}")
            return
        svr = tuple(np.asarray(a) for a in sv)
        W64, b64, X64 = (exact(a).astype(rdt).astype(np.float64) for a in (W, b, X))
        svr = (svr[0], exact(svr[1]).astype(np.float64).reshape(N, nt),
               exact(svr[2]).astype(np.float64))
        if rdt == F32:   # the corrections are rounded to float32 before the kernel adds them
            pass
        with np.errstate(all="ignore"):
            per = SREF.loss(mode_ref, W64, b64, lab, X64, svr, remove, subq)
        rtol = 3e-5 if rdt == F32 else 1e-11
        mag = 1 + np.abs(per) + (np.abs(X64).sum(1) + 1) * (np.abs(W64).max(initial=0) + np.abs(b64).max(initial=0) + 1) \
            * (nt + S) + (np.abs(np.log(np.abs(svr[1]) + 1e-300)).sum(1) + np.abs(np.log(np.abs(svr[2]) + 1e-300)).sum() if subq else 0)
        if reduction == "none":
            close(loss, per, rtol * mag, name + " loss")
        elif N == 0:
            if (reduction == "mean") != bool(np.isnan(loss)) or (reduction == "sum" and loss != 0):
                fail(f"{name}: empty batch gave {loss!r}")
        else:
            div = N if reduction == "mean" else 1
            close(loss, per.sum() / div, rtol * mag.sum() / div, name + " loss")
        if not with_grad or D == 0:      # (the reference's reshape needs D > 0)
            return
        with np.errstate(all="ignore"):
            gx, gw, gb = SREF.grads(mode_ref, W64, b64, lab, X64, svr, remove, subq)
        s = 1.0 / N if reduction == "mean" and N else 1.0
        dw, db = SREF.dense(g, C)
        gm = rtol * (1 + np.abs(X64).max(initial=0) + np.abs(W64).max(initial=0)) * (N + 1) * (nt + S + 1)
        close(g.inputs, gx * s, gm * s, "grads.inputs")
        close(dw, gw * s, gm * s, "grads.weights")
        close(db, gb * s, gm * s, "grads.biases")

    call.check = check
    if mode == "valid":
        return call
    call.mode = "invalid"
    k = d.int(0, 13)
    a = list(args)
    if k == 0:
        call.kwargs["reduction"], call.defect = d.pick(["avg", None, ""]), "unknown reduction"
    elif k == 1:
        a[0], call.defect = array(d, (C + 1, D), F64), "weights with the wrong class count"
    elif k == 2:
        a[1], call.defect = array(d, (C, 1), F64), "biases not 1-D"
    elif k == 3:
        a[3], call.defect = array(d, (N, D + 1), F64), "inputs of the wrong dim"
    elif k == 4 and N:
        lb = np.array(lab)
        lb[d.int(0, N - 1), d.int(0, nt - 1)] = d.pick([C, -1, C + 100])
        a[2], call.defect = lb, "label out of range"
    elif k == 5:
        a[2], call.defect = np.asarray(lab, dtype=d.pick([np.float64, object])), "labels not integers"
    elif k == 6:
        a[d.int(0, 3)] = array(d, (2, 2), d.pick(BAD_DTYPES))
        call.defect = "an array of a bad dtype"
    elif k == 7:
        a[4], call.defect = d.pick([-1, 1.5, "3"]), "bad num_sampled"
    elif k == 8:
        a[5], call.defect = d.pick([0, -1, 2.0]), "bad num_classes"
    elif k == 9 and "sampled_values" not in kw:
        call.kwargs["sampler"], call.defect = d.pick(["zipf", "", np.ones(C + 2), -np.ones(C)]), "bad sampler"
    elif k == 10 and "sampled_values" in kw:
        sv2 = list(sv)
        j = d.int(0, 3)
        if j == 0 and S:
            s0 = np.array(sv[0], dtype=np.int64)
            s0[0] = d.pick([C, -1])
            sv2[0] = s0
        elif j == 1:
            sv2[2] = np.ones(S + 1)
        elif j == 2 and subq and N:
            t1 = np.array(np.asarray(sv[1]), dtype=np.float64, order="C")
            t1.reshape(-1)[0] = d.pick([0.0, -1.0, math.nan])
            sv2[1] = t1
        elif j == 3:
            sv2[d.int(1, 2)] = d.pick([np.asarray(sv[1]) + 0.5j, np.asarray(sv[1]).astype("U8"),
                                       np.asarray(sv[2]).astype(object)])
        else:
            sv2 = sv2[:2]
        call.kwargs["sampled_values"], call.defect = tuple(sv2), "bad sampled_values"
    elif k == 11 and "sampled_values" not in kw:
        a[4], call.defect = C + d.int(1, 5), "more unique samples than classes"
    elif k == 12:
        call.kwargs["num_true"], call.defect = nt + 1, "labels of the wrong num_true"
        if nt + 1 == 1:
            call.kwargs["num_true"] = 3
    else:
        call.kwargs["seed"], call.defect = d.pick([1.5, "x"]), "seed not an integer"
        call.kwargs.pop("sampled_values", None)
    call.args = tuple(a)
    return call


# ---------------------------------------------------------------------------
# chaos: anything goes, only the exception types and messages are checked
# ---------------------------------------------------------------------------

PUBLIC = ["softmax", "log_softmax", "logsumexp", "softmax_backward", "log_softmax_backward",
          "cross_entropy", "cross_entropy_with_grad", "sigmoid", "log_sigmoid",
          "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_with_grad",
          "sigmoid_focal_loss", "sigmoid_focal_loss_with_grad", "sampled_softmax_loss",
          "sampled_softmax_loss_with_grad", "nce_loss", "nce_loss_with_grad"]
SAMPLERS = ["uniform_candidate_sampler", "log_uniform_candidate_sampler",
            "fixed_unigram_candidate_sampler", "FixedUnigramSampler"]
KWARGS = ["axis", "out", "keepdims", "weight", "ignore_index", "reduction", "label_smoothing",
          "grad_out", "pos_weight", "alpha", "gamma", "num_true", "sampled_values", "sampler",
          "remove_accidental_hits", "subtract_log_q", "seed", "unigrams", "distortion", "bogus"]


def gen_chaos(d, mode):
    if d.chance(4):
        name = d.pick(SAMPLERS)
        fn = getattr(sampling, name)
        name = "sampling." + name
    else:
        name = d.pick(PUBLIC)
        fn = getattr(fastsmce, name)
    args = tuple(garbage(d) for _ in range(d.int(0, 7)))
    kw = {}
    for _ in range(d.int(0, 3)):
        kw[d.pick(KWARGS)] = garbage(d)
    return Call(name, fn, args, kw, "chaos")


def gen_threads(d, mode):
    """set_num_threads / get_num_threads / show_config with odd arguments"""
    k = d.int(0, 2)
    if k == 0:
        v = d.pick([1, 2, None, 0, -1, 2 ** 70, 1.5, "2", True, np.int64(2)])
        return Call("set_num_threads", fastsmce.set_num_threads, (v,), {}, "chaos")
    if k == 1:
        return Call("get_num_threads", fastsmce.get_num_threads, (), {}, "valid")
    return Call("show_config", fastsmce.show_config, (d.pick(["dicts", "bogus", None]),), {}, "chaos")


GENERATORS = [gen_softmax_family, gen_softmax_family, gen_softmax_family, gen_cross_entropy,
              gen_cross_entropy, gen_sigmoid, gen_binary, gen_binary, gen_sampler, gen_sampled,
              gen_sampled, gen_chaos, gen_threads]


def one_input(data):
    """decode one input and run its call (raises Finding on a violation)"""
    d = Data(data)
    gen = d.pick(GENERATORS)
    r = d.int(0, 9)
    mode = "valid" if r < 6 else "invalid"
    threads = d.pick([1, 1, 2, 2, 3])
    fastsmce.set_num_threads(threads)
    old_min = None
    if d.chance(4):
        old_min = _core._set_sampled_parallel_min(0)   # thread the sampled kernels at any size
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call = gen(d, mode)
            run(call)
    finally:
        fastsmce.set_num_threads(None)
        if old_min is not None:
            _core._set_sampled_parallel_min(old_min)


# ---------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------

def smoke(n, seed, max_len=256, verbose=False, stop_on_finding=True, progress=0):
    """run n seeded random inputs without atheris; return the list of findings
    (each a (input bytes, message) pair); progress=k prints a line every k inputs"""
    rng = random.Random(seed)
    findings = []
    t0 = time.time()
    for i in range(n):
        if progress and i and i % progress == 0:
            dt = time.time() - t0
            print(f"#{i} {dt:.0f} s {i / max(dt, 1e-9):.0f}/s findings: {len(findings)}", flush=True)
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, max_len)))
        try:
            one_input(data)
        except Finding as e:
            findings.append((data, str(e)))
            if verbose:
                print(f"FINDING at iteration {i} (input {data.hex()}):\n{e}\n", flush=True)
            if stop_on_finding:
                break
    return findings


def _main_smoke(argv):
    n = int(argv[0]) if argv else 1000
    seed = int(argv[1]) if len(argv) > 1 else 0
    t0 = time.time()
    findings = smoke(n, seed, verbose=True, stop_on_finding=False, progress=10000)
    dt = time.time() - t0
    print(f"smoke: {n} inputs, seed {seed}, {dt:.1f} s ({n / max(dt, 1e-9):.0f}/s), "
          f"{len(findings)} finding(s)", flush=True)
    return 1 if findings else 0


def _main_replay(files):
    bad = 0
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        try:
            one_input(data)
            print(f"{f}: ok")
        except Finding as e:
            bad += 1
            print(f"{f}: FINDING\n{e}")
        except Exception:
            bad += 1
            print(f"{f}: ERROR\n{traceback.format_exc()}")
    return 1 if bad else 0


def test_one_input(data):
    """atheris entry point"""
    one_input(data)


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "--smoke":
        sys.exit(_main_smoke(argv[1:]))
    if argv and argv[0] == "--replay":
        sys.exit(_main_replay(argv[1:]))
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris, or use --smoke N SEED")
    # coverage of this harness's branches guides the search (the C core is built by gcc,
    # without libFuzzer's -fsanitize=fuzzer instrumentation)
    g = globals()
    for k, v in list(g.items()):
        if callable(v) and getattr(v, "__module__", None) == __name__ and hasattr(v, "__code__"):
            g[k] = atheris.instrument_func(v)
    global GENERATORS
    GENERATORS = [g[f.__name__] for f in GENERATORS]
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
