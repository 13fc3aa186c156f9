# Argument handling shared by every family (included by _core.pyx).  Typed, because a
# small call must cost about a microsecond; every error names the argument at fault.

cdef bint _usable(cnp.ndarray a) noexcept:
    """aligned and every stride a whole number of elements"""
    cdef int d
    cdef npy_intp isz = cnp.PyArray_ITEMSIZE(a)
    if not cnp.PyArray_ISALIGNED(a):
        return False
    for d in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_STRIDES(a)[d] % isz:
            return False
    return True


cdef cnp.ndarray _asarray(x, str name, dtype=None):
    """np.asarray(x[, dtype]), with an error naming the argument when NumPy cannot
    convert it (a ragged list, a string where a number is needed ...)"""
    if dtype is None and type(x) is np.ndarray:
        return x
    try:
        return np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    except TypeError as e:
        raise TypeError(f"{name} cannot be converted to an array: {e}") from None
    except ValueError as e:
        raise ValueError(f"{name} cannot be converted to an array: {e}") from None


cdef cnp.ndarray _F64 = np.empty(0)        # `like` for _real: float64


cdef cnp.ndarray _real(x, str name, cnp.ndarray like=None, bint contiguous=False):
    """x as a native-endian, aligned ndarray of real numbers, the one coercion of every
    floating argument.  like None: float32 / float64 stay as they are, other real dtypes
    (integers, bool, float16) become float64, as scipy.special does; else x takes like's
    dtype.  contiguous: C-contiguous too.  No copy when x already is what is asked,
    whatever its strides.  Anything but real numbers is a TypeError naming `name`."""
    cdef cnp.ndarray a = x if type(x) is np.ndarray else _asarray(x, name)
    cdef int t = cnp.PyArray_TYPE(a)
    if t != cnp.NPY_FLOAT and t != cnp.NPY_DOUBLE and a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real-valued array; got dtype {a.dtype}")
    if like is None:
        if t != cnp.NPY_FLOAT and t != cnp.NPY_DOUBLE:
            a = a.astype(np.float64)
        elif cnp.PyArray_ISBYTESWAPPED(a):
            a = a.astype(a.dtype.newbyteorder("="))
    elif t != cnp.PyArray_TYPE(like) or cnp.PyArray_ISBYTESWAPPED(a):
        a = a.astype(like.dtype)
    if contiguous and not cnp.PyArray_IS_C_CONTIGUOUS(a):
        a = np.ascontiguousarray(a)
    if not _usable(a):
        a = a.copy()
    return a


cdef cnp.ndarray _c_contig(a, dtype):
    """a as a C-contiguous, ALIGNED array of dtype, for the C core to read element by
    element (np.ascontiguousarray returns an unaligned contiguous array as it is)"""
    cdef cnp.ndarray r = np.ascontiguousarray(a, dtype=dtype)
    if not cnp.PyArray_ISALIGNED(r):
        r = r.copy()
    return r


cdef inline fs_dtype _dtype_of(cnp.ndarray a) noexcept:
    return FS_FLOAT32 if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT else FS_FLOAT64


cdef double _float_arg(value, str name) except? -1:
    """value as a float: a real number (not a string, not a sequence), else TypeError;
    an integer beyond the float range is a ValueError (not OverflowError)"""
    if not isinstance(value, (str, bytes)):
        try:
            return float(value)
        except OverflowError:
            r = repr(value)
            raise ValueError(f"{name} must be finite; got "
                             f"{r if len(r) < 40 else r[:36] + '...'}") from None
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name} must be a number; got {type(value).__name__}")


cdef object _int_arg(value, str name, Py_ssize_t lo):
    """value as an int in [lo, 2**63): TypeError for a non-integer, ValueError outside"""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}") from None
    if v < lo:
        raise ValueError(f"{name} must be >= {lo}; got {v}")
    if v >= 2 ** 63:
        raise ValueError(f"{name} must be < 2**63; got {v}")
    return v


cdef int64_t _ignore_index(value) except? -1:
    """ignore_index (of the cross-entropy losses) as an int64"""
    try:
        i = operator.index(value)
    except TypeError:
        raise TypeError(f"ignore_index must be an integer; got {type(value).__name__}") from None
    if not -(2 ** 63) <= i < 2 ** 63:
        raise ValueError(f"ignore_index must fit in int64; got {i}")
    return i


cdef double _smoothing(value) except? -1:
    """label_smoothing (of the cross-entropy losses), in [0, 1]"""
    cdef double eps = _float_arg(value, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1]; got {value!r}")
    return eps


cdef bint _flag(value, str name) except -1:
    """value as a bool (an array of several values is an error, not a guess)"""
    try:
        return bool(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__}") from None


_REDUCTIONS = ("none", "mean", "sum")


cdef str _reduction(reduction):
    """reduction, checked: one of "none", "mean", "sum" """
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of 'none', 'mean', 'sum'; got {reduction!r}")
    return reduction


cdef int _axis(axis, int ndim) except -1:
    try:
        ax = operator.index(axis)       # a Python int: any size compares (no OverflowError)
    except TypeError:
        raise TypeError(f"axis must be an integer; got {type(axis).__name__}") from None
    if ax < -ndim or ax >= ndim:
        raise AxisError(ax, ndim)
    return ax + ndim if ax < 0 else ax


cdef int _check_out(out, cnp.ndarray like, int ndim, npy_intp *shape, str name) except -1:
    """out must be a writeable ndarray of like's dtype and the given shape"""
    cdef cnp.ndarray o
    cdef int d
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray; got {type(out).__name__}")
    o = out
    if o.dtype != like.dtype:
        raise TypeError(f"{name} has dtype {o.dtype}; expected {like.dtype}")
    cdef bint same = cnp.PyArray_NDIM(o) == ndim
    for d in range(ndim):
        same = same and cnp.PyArray_DIMS(o)[d] == shape[d]
    if not same:
        expected = tuple([shape[d] for d in range(ndim)])
        raise ValueError(f"{name} has shape {(<object>o).shape}; expected {expected}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError(f"{name} is read-only")
    return 0


cdef cnp.ndarray _unalias(cnp.ndarray a, cnp.ndarray y):
    """a, copied if it overlaps the output y other than exactly (in place)"""
    if np.may_share_memory(a, y):
        if (cnp.PyArray_DATA(a) != cnp.PyArray_DATA(y) or cnp.PyArray_NDIM(a) != cnp.PyArray_NDIM(y)
                or (<object>a).strides != (<object>y).strides
                or (<object>a).shape != (<object>y).shape):
            return a.copy()
    return a


cdef cnp.ndarray _target(out, cnp.ndarray like, int ndim, npy_intp *shape, bint like_shape,
                         str name="out"):
    """the array the kernels write: out itself when usable, else a new one
    (of like's memory layout when like_shape, else C-ordered)"""
    if out is not None:
        _check_out(out, like, ndim, shape, name)
        if _usable(out):
            return out
    if like_shape:
        return np.empty_like(like)
    return cnp.PyArray_EMPTY(ndim, shape, cnp.PyArray_TYPE(like), 0)


cdef object _finish(out, cnp.ndarray y):
    """out, holding the result y (copied in when the kernels could not write out itself)"""
    if out is not None and y is not out:
        out[...] = y
        return out
    return y
