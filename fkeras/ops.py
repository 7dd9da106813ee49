"""`keras.ops`: Keras 3's spelling of the tensor functions (Keras 2 scripts use `keras.backend`).

Each function has Keras 3's signature and computes with `jax.numpy` / `jax.nn`, so it works on
NumPy and JAX arrays alike, inside `call` of a custom layer, in a loss, and under `jax.jit`.
This module holds the common part of `keras.ops` (NumPy-style math, reductions, shapes,
creation, activations, the three cross-entropies); a name it does not have raises an
`AttributeError` that says so (`jax.numpy` has most of the rest under the same name).
"""

from __future__ import annotations

from collections import namedtuple as _namedtuple

import jax
import jax.numpy as jnp
import jax.scipy.special

from fkeras import backend as _K

# ---- elementwise ----------------------------------------------------------------------------


def _unary(fn, name: str):
    def op(x):
        return fn(jnp.asarray(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise `{name}(x)`."
    return op


def _binary(fn, name: str):
    def op(x1, x2):
        return fn(x1, x2)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise `{name}(x1, x2)`, broadcasting."
    return op


_UNARY = {
    "abs": jnp.abs, "absolute": jnp.abs, "negative": jnp.negative, "sign": jnp.sign,
    "exp": jnp.exp, "expm1": jnp.expm1, "log": jnp.log, "log1p": jnp.log1p, "sqrt": jnp.sqrt,
    "square": jnp.square, "reciprocal": jnp.reciprocal, "floor": jnp.floor, "ceil": jnp.ceil,
    "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "tanh": jnp.tanh, "arctan": jnp.arctan,
    "isnan": jnp.isnan, "isfinite": jnp.isfinite, "isinf": jnp.isinf,
    "logical_not": jnp.logical_not, "ravel": jnp.ravel, "erf": jax.scipy.special.erf,
    "rsqrt": jax.lax.rsqrt, "relu": jax.nn.relu, "relu6": jax.nn.relu6, "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus, "softsign": jax.nn.soft_sign, "silu": jax.nn.silu,
    "swish": jax.nn.silu, "selu": jax.nn.selu, "hard_sigmoid": jax.nn.hard_sigmoid,
    "hard_silu": jax.nn.hard_silu, "hard_swish": jax.nn.hard_silu,
}  # fmt: skip
_BINARY = {
    "add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply, "divide": jnp.divide,
    "true_divide": jnp.true_divide, "floor_divide": jnp.floor_divide, "mod": jnp.mod,
    "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum, "matmul": jnp.matmul,
    "dot": jnp.dot, "outer": jnp.outer, "equal": jnp.equal, "not_equal": jnp.not_equal,
    "greater": jnp.greater, "greater_equal": jnp.greater_equal, "less": jnp.less,
    "less_equal": jnp.less_equal, "logical_and": jnp.logical_and, "logical_or": jnp.logical_or,
    "logical_xor": jnp.logical_xor, "arctan2": jnp.arctan2,
}  # fmt: skip
globals().update({name: _unary(fn, name) for name, fn in _UNARY.items()})
globals().update({name: _binary(fn, name) for name, fn in _BINARY.items()})


def clip(x, x_min, x_max):
    return jnp.clip(x, x_min, x_max)


def round(x, decimals=0):  # noqa: A001 (Keras's name)
    return jnp.round(x, decimals)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return jnp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def where(condition, x1=None, x2=None):
    """`x1` where `condition`, else `x2`; with neither, the indices where `condition` holds."""
    if x1 is None and x2 is None:
        return jnp.nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("`where` takes both `x1` and `x2`, or neither.")
    return jnp.where(condition, x1, x2)


def einsum(subscripts, *operands, **kwargs):
    return jnp.einsum(subscripts, *operands, **kwargs)


# ---- reductions -----------------------------------------------------------------------------


def _reduction(fn, name: str):
    def op(x, axis=None, keepdims=False):
        return fn(jnp.asarray(x), axis=axis, keepdims=keepdims)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"`{name}` over `axis` (None: all axes)."
    return op


_REDUCTIONS = {
    "sum": jnp.sum, "mean": jnp.mean, "std": jnp.std, "var": jnp.var, "all": jnp.all,
    "any": jnp.any, "argmax": jnp.argmax, "argmin": jnp.argmin, "median": jnp.median,
    "logsumexp": jax.nn.logsumexp,
}  # fmt: skip
globals().update({name: _reduction(fn, name) for name, fn in _REDUCTIONS.items()})


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return jnp.max(x, axis=axis, keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return jnp.min(x, axis=axis, keepdims=keepdims, initial=initial)


def prod(x, axis=None, keepdims=False, dtype=None):
    return jnp.prod(x, axis=axis, keepdims=keepdims, dtype=dtype)


def cumsum(x, axis=None, dtype=None):
    return jnp.cumsum(x, axis=axis, dtype=dtype)


def count_nonzero(x, axis=None):
    return jnp.count_nonzero(x, axis=axis)


def average(x, axis=None, weights=None):
    return jnp.average(x, axis=axis, weights=weights)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 (Keras's name)
    return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


# ---- shapes and indexing --------------------------------------------------------------------


def shape(x) -> tuple:
    return tuple(jnp.shape(x))


def ndim(x) -> int:
    return jnp.ndim(x)


def size(x) -> int:
    return jnp.size(x)


def dtype(x) -> str:
    return str(jnp.asarray(x).dtype)


def cast(x, dtype):  # noqa: A002
    return jnp.asarray(x).astype(dtype)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):  # noqa: A002
    if sparse or ragged:
        raise ValueError(
            "fkeras has no sparse or ragged tensors: pass sparse=None and ragged=None."
        )
    return jnp.asarray(x, dtype=dtype)


def convert_to_numpy(x):
    import numpy as np

    return np.asarray(x)


def reshape(x, newshape):
    return jnp.reshape(x, newshape)


def transpose(x, axes=None):
    return jnp.transpose(x, axes)


def expand_dims(x, axis):
    return jnp.expand_dims(x, axis)


def squeeze(x, axis=None):
    return jnp.squeeze(x, axis)


def swapaxes(x, axis1, axis2):
    return jnp.swapaxes(x, axis1, axis2)


def moveaxis(x, source, destination):
    return jnp.moveaxis(x, source, destination)


def broadcast_to(x, shape):  # noqa: A002 (shadows the function above only in here)
    return jnp.broadcast_to(x, shape)


def concatenate(xs, axis=0):
    return jnp.concatenate(xs, axis=axis)


def stack(x, axis=0):
    return jnp.stack(x, axis=axis)


def vstack(xs):
    return jnp.vstack(xs)


def hstack(xs):
    return jnp.hstack(xs)


def split(x, indices_or_sections, axis=0):
    return jnp.split(x, indices_or_sections, axis=axis)


def unstack(x, num=None, axis=0):
    x = jnp.asarray(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(
            f"`num` must equal the size of axis {axis} ({x.shape[axis]}). Received: num={num}"
        )
    return [jnp.squeeze(part, axis) for part in jnp.split(x, x.shape[axis], axis=axis)]


def repeat(x, repeats, axis=None):
    return jnp.repeat(x, repeats, axis=axis)


def tile(x, repeats):
    return jnp.tile(x, repeats)


def take(x, indices, axis=None):
    return jnp.take(x, indices, axis=axis)


def take_along_axis(x, indices, axis=None):
    return jnp.take_along_axis(x, indices, axis=axis)


def slice(inputs, start_indices, shape):  # noqa: A001,A002
    return jax.lax.dynamic_slice(inputs, start_indices, shape)


def flip(x, axis=None):
    return jnp.flip(x, axis=axis)


def roll(x, shift, axis=None):
    return jnp.roll(x, shift, axis=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    if constant_values is None:
        return jnp.pad(x, pad_width, mode=mode)
    return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)


def sort(x, axis=-1):
    return jnp.sort(x, axis=axis)


def argsort(x, axis=-1):
    return jnp.argsort(x, axis=axis)


TopK = _namedtuple("TopK", ["values", "indices"])


def top_k(x, k, sorted=True):  # noqa: A002
    """The `k` largest entries of the last axis and their indices, largest first."""
    del sorted  # always sorted, which Keras allows
    values, indices = jax.lax.top_k(x, k)
    return TopK(values, indices)


def tril(x, k=0):
    return jnp.tril(x, k)


def triu(x, k=0):
    return jnp.triu(x, k)


def diag(x, k=0):
    return jnp.diag(x, k)


def trace(x, offset=0, axis1=0, axis2=1):
    return jnp.trace(x, offset=offset, axis1=axis1, axis2=axis2)


# ---- creation -------------------------------------------------------------------------------


def zeros(shape, dtype=None):  # noqa: A002
    return jnp.zeros(shape, dtype=dtype or "float32")


def ones(shape, dtype=None):  # noqa: A002
    return jnp.ones(shape, dtype=dtype or "float32")


def full(shape, fill_value, dtype=None):  # noqa: A002
    return jnp.full(shape, fill_value, dtype=dtype)


def zeros_like(x, dtype=None):
    return jnp.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None):
    return jnp.ones_like(x, dtype=dtype)


def full_like(x, fill_value, dtype=None):
    return jnp.full_like(x, fill_value, dtype=dtype)


def arange(start, stop=None, step=None, dtype=None):
    return jnp.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return jnp.linspace(
        start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis
    )


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 (Keras's names)
    return jnp.eye(N, M, k, dtype=dtype or "float32")


def identity(n, dtype=None):
    return jnp.identity(n, dtype=dtype or "float32")


# ---- neural-network functions ---------------------------------------------------------------


def softmax(x, axis=-1):
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return jax.nn.log_softmax(x, axis=axis)


def gelu(x, approximate=True):
    return jax.nn.gelu(x, approximate=approximate)


def elu(x, alpha=1.0):
    return jax.nn.elu(x, alpha)


def leaky_relu(x, negative_slope=0.2):
    return jax.nn.leaky_relu(x, negative_slope)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    if sparse:
        raise ValueError("fkeras has no sparse tensors: pass sparse=False.")
    return jax.nn.one_hot(x, num_classes, dtype=dtype or "float32", axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    return _K.binary_crossentropy(target, output, from_logits=from_logits)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _K.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _K.sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def __getattr__(name: str):
    raise AttributeError(
        f"fkeras.ops has no {name!r}: it has the common part of keras.ops. Most of the rest is in "
        f"jax.numpy (or jax.nn) under the same name."
    )
