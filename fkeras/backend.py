"""Keras 2's backend functions (`import fkeras.backend as K`) on `jax.numpy`.

Names, argument names and semantics are Keras 2's (`K.mean(x, axis=None, keepdims=False)`,
`K.batch_dot(x, y, axes)`, `K.categorical_crossentropy(target, output)`), so Keras 2 code that
uses `K` in losses, metrics and `Lambda` layers runs unchanged; every function is pure and
works under `jax.jit`. Numerics follow Keras 3 where Keras 3 has the same function.

Where JAX differs from TensorFlow:

- `K.variable(value)` returns a `Variable`: a small mutable holder with `assign`, `numpy()`,
  `shape` and `dtype`, accepted by every `K` function and by NumPy. `K.zeros`, `K.ones` and
  `K.eye` return plain (immutable) JAX arrays; wrap them in `K.variable` to mutate them.
- `K.shape(x)` returns the static shape tuple (shapes are always static under `jax.jit`).
- `K.learning_phase()` always returns 0 and `K.set_learning_phase` only validates its argument:
  fkeras passes `training` explicitly, there is no global phase.
- Random functions take integer seeds; without one they draw it from NumPy's global generator,
  as Keras 2 did, so `np.random.seed(...)` makes them reproducible.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _naming
from fkeras import activations as _activations
from fkeras._config import (  # noqa: F401  (re-exported)  # noqa: F401
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

Array = jax.Array
Axis = int | Sequence[int] | None


@jax.tree_util.register_pytree_node_class
class Variable:
    """A mutable array holder, `K.variable`'s result (JAX arrays themselves are immutable).

    It supports `assign`, `assign_add`, `assign_sub`, `numpy()`, arithmetic operators and
    indexing, and passes through `jax.jit` as a pytree whose one leaf is its value.

    Args:
        value: Initial value (array-like).
        dtype: dtype of the value; `K.floatx()` when `None`.
        name: Optional name.
        constraint: Optional callable, kept for Keras 2 compatibility (not applied by `assign`).
    """

    def __init__(
        self,
        value: Any,
        dtype: Any = None,
        name: str | None = None,
        constraint: Callable[[Array], Array] | None = None,
    ):
        self._value = jnp.asarray(_unwrap(value), dtype=dtype or floatx())
        self.name = name
        self.constraint = constraint

    @property
    def value(self) -> Array:
        return self._value

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    @property
    def dtype(self) -> Any:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def assign(self, value: Any) -> Variable:
        """Replaces the value; the new value must have the same shape (it is cast to `dtype`)."""
        value = jnp.asarray(_unwrap(value), dtype=self.dtype)
        if value.shape != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to a variable of shape "
                f"{self.shape}. Received: value.shape={value.shape}"
            )
        self._value = value
        return self

    def assign_add(self, delta: Any) -> Variable:
        return self.assign(self._value + _unwrap(delta))

    def assign_sub(self, delta: Any) -> Variable:
        return self.assign(self._value - _unwrap(delta))

    def numpy(self) -> np.ndarray:
        return np.array(self._value)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self._value, dtype=dtype)

    def __jax_array__(self) -> Array:
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self):
        return iter(self._value)

    def __getitem__(self, index: Any) -> Array:
        return self._value[index]

    def __repr__(self) -> str:
        return f"<Variable name={self.name!r} shape={self.shape} dtype={self.dtype}>\n{self._value}"

    def tree_flatten(self) -> tuple[tuple[Array], tuple[str | None, Any]]:
        return (self._value,), (self.name, self.constraint)

    @classmethod
    def tree_unflatten(cls, aux: tuple[str | None, Any], children: tuple[Any]) -> Variable:
        var = object.__new__(cls)
        var._value, (var.name, var.constraint) = children[0], aux
        return var


def _binary_operator(op: Callable[[Any, Any], Any], reflected: bool = False):
    if reflected:
        return lambda self, other: op(_unwrap(other), self._value)
    return lambda self, other: op(self._value, _unwrap(other))


for _name, _op in {
    "add": jnp.add,
    "sub": jnp.subtract,
    "mul": jnp.multiply,
    "truediv": jnp.true_divide,
    "floordiv": jnp.floor_divide,
    "mod": jnp.mod,
    "pow": jnp.power,
    "matmul": jnp.matmul,
}.items():
    setattr(Variable, f"__{_name}__", _binary_operator(_op))
    setattr(Variable, f"__r{_name}__", _binary_operator(_op, reflected=True))
for _name, _op in {
    "lt": jnp.less,
    "le": jnp.less_equal,
    "gt": jnp.greater,
    "ge": jnp.greater_equal,
}.items():
    setattr(Variable, f"__{_name}__", _binary_operator(_op))
Variable.__neg__ = lambda self: -self._value
Variable.__abs__ = lambda self: jnp.abs(self._value)


def _unwrap(x: Any) -> Any:
    return x.value if isinstance(x, Variable) else x


def _t(x: Any) -> Array:
    """Any array-like (including a `Variable`) as a JAX array."""
    return jnp.asarray(_unwrap(x))


def _ax(axis: Axis) -> int | tuple[int, ...] | None:
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


# --- Session, configuration, introspection -------------------------------------------------


def backend() -> str:
    """The name of the backend: always `"jax"`."""
    return "jax"


def clear_session() -> None:
    """Resets the automatic layer names (`dense`, `dense_1`, ...), as Keras does."""
    _naming.reset()


def learning_phase() -> int:
    """Always 0: fkeras has no global learning phase (layers receive `training` explicitly)."""
    return 0


def set_learning_phase(value: int) -> None:
    """Accepted for Keras 2 compatibility and otherwise a no-op; `value` must be 0 or 1."""
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: value={value!r}")


def is_keras_tensor(x: Any) -> bool:
    """Whether `x` is a symbolic tensor from `Input(...)` or a layer call on one."""
    return hasattr(x, "_keras_history") or type(x).__name__ == "KerasTensor"


def shape(x: Any) -> tuple:
    """The shape of `x` as a tuple (static under `jax.jit`; None for unknown symbolic dims)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def int_shape(x: Any) -> tuple:
    """The shape of `x` as a tuple of ints (or None for unknown dims)."""
    return shape(x)


def ndim(x: Any) -> int:
    """The number of axes of `x`."""
    return len(shape(x))


def dtype(x: Any) -> str:
    """The dtype of `x` as a string, e.g. `'float32'`."""
    return np.dtype(x.dtype).name if hasattr(x, "dtype") else np.asarray(x).dtype.name


def count_params(x: Any) -> int:
    """The number of scalars in `x`."""
    return int(math.prod(shape(x)))


def get_value(x: Any) -> Any:
    """The value of `x` as NumPy: `x.numpy()` when `x` has it, else `np.asarray(x)`."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


eval = get_value  # noqa: A001  (Keras 2's name)


def batch_get_value(tensors: Sequence[Any]) -> list[Any]:
    """`get_value` of each tensor."""
    return [get_value(x) for x in tensors]


_SET_VALUE_MESSAGE = (
    "`K.set_value` needs a mutable variable with an `assign` method, such as one made by "
    "`K.variable(...)`; JAX arrays are immutable. Instead of `K.set_value(array, v)`, create "
    "`var = K.variable(array)` and call `K.set_value(var, v)`. Received: x of type {}"
)


def set_value(x: Any, value: Any) -> None:
    """Sets `x` (anything with an `assign` method) to `value`.

    Raises:
        TypeError: if `x` has no `assign` method (e.g. a JAX or NumPy array).
    """
    if not hasattr(x, "assign"):
        raise TypeError(_SET_VALUE_MESSAGE.format(type(x).__name__))
    x_dtype = getattr(x, "dtype", None)
    x.assign(np.asarray(value, dtype=x_dtype) if x_dtype is not None else value)


def batch_set_value(tuples: Sequence[tuple[Any, Any]]) -> None:
    """`set_value(x, value)` for each `(x, value)` pair."""
    for x, value in tuples:
        set_value(x, value)


# --- Construction --------------------------------------------------------------------------


def variable(
    value: Any,
    dtype: Any = None,
    name: str | None = None,
    constraint: Callable[[Array], Array] | None = None,
) -> Variable:
    """A mutable `Variable` holding `value` (dtype `K.floatx()` by default)."""
    return Variable(value, dtype=dtype, name=name, constraint=constraint)


def constant(
    value: Any, dtype: Any = None, shape: Sequence[int] | None = None, name: str | None = None
) -> Array:
    """An array from `value`; with `shape`, a scalar is broadcast and a same-size value reshaped."""
    del name
    x = jnp.asarray(_unwrap(value), dtype=dtype or floatx())
    if shape is None:
        return x
    shape = tuple(shape)
    if x.size == 1:
        return jnp.full(shape, x.reshape(()))
    if x.size != math.prod(shape):
        raise ValueError(
            f"constant: `value` has {x.size} elements, which does not fit shape {shape}. "
            f"Received: shape={shape}"
        )
    return x.reshape(shape)


def zeros(shape: Sequence[int], dtype: Any = None, name: str | None = None) -> Array:
    """An array of zeros (dtype `K.floatx()` by default)."""
    del name
    return jnp.zeros(shape, dtype or floatx())


def ones(shape: Sequence[int], dtype: Any = None, name: str | None = None) -> Array:
    """An array of ones (dtype `K.floatx()` by default)."""
    del name
    return jnp.ones(shape, dtype or floatx())


def eye(size: int | tuple[int, int], dtype: Any = None, name: str | None = None) -> Array:
    """An identity matrix; `size` is `n` or `(rows, cols)`."""
    del name
    rows, cols = (size, size) if isinstance(size, int) else tuple(size)
    return jnp.eye(rows, cols, dtype=dtype or floatx())


def zeros_like(x: Any, dtype: Any = None, name: str | None = None) -> Array:
    """Zeros with the shape (and, by default, the dtype) of `x`."""
    del name
    return jnp.zeros_like(_t(x), dtype=dtype)


def ones_like(x: Any, dtype: Any = None, name: str | None = None) -> Array:
    """Ones with the shape (and, by default, the dtype) of `x`."""
    del name
    return jnp.ones_like(_t(x), dtype=dtype)


def cast(x: Any, dtype: Any) -> Array:
    """`x` converted to `dtype`."""
    return _t(x).astype(dtype)


def cast_to_floatx(x: Any) -> np.ndarray | Array:
    """`x` as `K.floatx()`; NumPy input stays NumPy."""
    if isinstance(x, (jax.Array, Variable)):
        return cast(x, floatx())
    return np.asarray(x, dtype=floatx())


def arange(start: int, stop: int | None = None, step: int = 1, dtype: Any = "int32") -> Array:
    """Evenly spaced integers (`arange(n)` counts from 0)."""
    return jnp.arange(start, stop, step, dtype=dtype)


# --- Reductions (bool input is cast to floatx for mean/std/var, as in Keras 2) ---------------


def _reduction(fn: Callable[..., Array], name: str, doc: str, bool_as_floatx: bool = False):
    def reduce(x: Any, axis: Axis = None, keepdims: bool = False) -> Array:
        x = _t(x)
        if bool_as_floatx and x.dtype == jnp.bool_:
            x = x.astype(floatx())
        return fn(x, axis=_ax(axis), keepdims=keepdims)

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = f"{doc} over `axis` (an int, a list of ints, or None for all axes)."
    return reduce


mean = _reduction(jnp.mean, "mean", "Mean", bool_as_floatx=True)
std = _reduction(jnp.std, "std", "Population standard deviation", bool_as_floatx=True)
var = _reduction(jnp.var, "var", "Population variance", bool_as_floatx=True)
sum = _reduction(jnp.sum, "sum", "Sum")  # noqa: A001
prod = _reduction(jnp.prod, "prod", "Product")
max = _reduction(jnp.max, "max", "Maximum")  # noqa: A001
min = _reduction(jnp.min, "min", "Minimum")  # noqa: A001
any = _reduction(jnp.any, "any", "Logical OR (nonzero counts as True)")  # noqa: A001
all = _reduction(jnp.all, "all", "Logical AND (nonzero counts as True)")  # noqa: A001


def argmax(x: Any, axis: int = -1) -> Array:
    """Index of the maximum along `axis`."""
    return jnp.argmax(_t(x), axis=axis)


def argmin(x: Any, axis: int = -1) -> Array:
    """Index of the minimum along `axis`."""
    return jnp.argmin(_t(x), axis=axis)


def cumsum(x: Any, axis: int = 0) -> Array:
    """Cumulative sum along `axis` (Keras 2's default axis is 0)."""
    return jnp.cumsum(_t(x), axis=axis)


def cumprod(x: Any, axis: int = 0) -> Array:
    """Cumulative product along `axis` (Keras 2's default axis is 0)."""
    return jnp.cumprod(_t(x), axis=axis)


# --- Elementwise ---------------------------------------------------------------------------


def _unary(fn: Callable[[Array], Array], name: str, doc: str):
    def op(x: Any) -> Array:
        return fn(_t(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(fn: Callable[[Array, Any], Array], name: str, doc: str):
    def op(x: Any, y: Any) -> Array:
        return fn(_t(x), _unwrap(y))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


square = _unary(jnp.square, "square", "Elementwise `x ** 2`.")
abs = _unary(jnp.abs, "abs", "Elementwise absolute value.")  # noqa: A001
exp = _unary(jnp.exp, "exp", "Elementwise `e ** x`.")
log = _unary(jnp.log, "log", "Elementwise natural logarithm.")
round = _unary(jnp.round, "round", "Rounds to the nearest integer, halves to even.")  # noqa: A001
sign = _unary(jnp.sign, "sign", "Elementwise sign: -1, 0 or 1.")
sin = _unary(jnp.sin, "sin", "Elementwise sine.")
cos = _unary(jnp.cos, "cos", "Elementwise cosine.")
maximum = _binary(jnp.maximum, "maximum", "Elementwise maximum of `x` and `y`.")
minimum = _binary(jnp.minimum, "minimum", "Elementwise minimum of `x` and `y`.")
equal = _binary(jnp.equal, "equal", "Elementwise `x == y`.")
not_equal = _binary(jnp.not_equal, "not_equal", "Elementwise `x != y`.")
greater = _binary(jnp.greater, "greater", "Elementwise `x > y`.")
greater_equal = _binary(jnp.greater_equal, "greater_equal", "Elementwise `x >= y`.")
less = _binary(jnp.less, "less", "Elementwise `x < y`.")
less_equal = _binary(jnp.less_equal, "less_equal", "Elementwise `x <= y`.")


def sqrt(x: Any) -> Array:
    """Square root; negative inputs give 0 (Keras 2 clamps them first)."""
    x = _t(x)
    return jnp.sqrt(jnp.maximum(x, jnp.zeros((), x.dtype)))


def pow(x: Any, a: Any) -> Array:  # noqa: A001
    """`x ** a`."""
    return jnp.power(_t(x), _unwrap(a))


def clip(x: Any, min_value: float | None, max_value: float | None) -> Array:
    """Clips to `[min_value, max_value]`; None means unbounded, and `max < min` clips to `min`."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)):
        max_value = builtins.max(max_value, min_value)
    x = _t(x)
    return jnp.clip(
        x, -np.inf if min_value is None else min_value, np.inf if max_value is None else max_value
    ).astype(x.dtype)


def stop_gradient(variables: Any) -> Any:
    """`x` with no gradient flowing back (a list gives a list)."""
    if isinstance(variables, (list, tuple)):
        return [jax.lax.stop_gradient(_t(v)) for v in variables]
    return jax.lax.stop_gradient(_t(variables))


# --- Shapes and layout ---------------------------------------------------------------------


def reshape(x: Any, shape: Sequence[int]) -> Array:
    return jnp.reshape(_t(x), tuple(shape))


def transpose(x: Any) -> Array:
    """Reverses the axes (a matrix transpose for rank 2)."""
    return jnp.transpose(_t(x))


def permute_dimensions(x: Any, pattern: Sequence[int]) -> Array:
    """Reorders the axes: output axis `i` is input axis `pattern[i]`."""
    return jnp.transpose(_t(x), tuple(pattern))


def expand_dims(x: Any, axis: int = -1) -> Array:
    return jnp.expand_dims(_t(x), axis)


def squeeze(x: Any, axis: int) -> Array:
    """Removes axis `axis`, which must have size 1."""
    return jnp.squeeze(_t(x), axis)


def flatten(x: Any) -> Array:
    """Flattens to rank 1."""
    return jnp.reshape(_t(x), (-1,))


def batch_flatten(x: Any) -> Array:
    """Flattens every axis but the first: `(batch, ...) -> (batch, prod(...))`."""
    x = _t(x)
    return jnp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


def concatenate(tensors: Sequence[Any], axis: int = -1) -> Array:
    return jnp.concatenate([_t(t) for t in tensors], axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Array:
    return jnp.stack([_t(t) for t in x], axis=axis)


def repeat(x: Any, n: int) -> Array:
    """Repeats a rank-2 `(batch, dim)` array `n` times: `(batch, n, dim)`."""
    x = _t(x)
    if x.ndim != 2:
        raise ValueError(f"Expected input `x` to have rank 2. Received: rank(x)={x.ndim}")
    return jnp.broadcast_to(x[:, None, :], (x.shape[0], n, x.shape[1]))


def repeat_elements(x: Any, rep: int, axis: int) -> Array:
    """Repeats each slice along `axis` `rep` times, like `np.repeat`."""
    return jnp.repeat(_t(x), rep, axis=axis)


def tile(x: Any, n: int | Sequence[int]) -> Array:
    """Tiles `x`; `n` is an int or one repetition count per axis."""
    return jnp.tile(_t(x), [n] if isinstance(n, int) else list(n))


def reverse(x: Any, axes: int | Sequence[int]) -> Array:
    return jnp.flip(_t(x), axis=_ax(axes))


def gather(reference: Any, indices: Any) -> Array:
    """Rows of `reference` (along axis 0) at `indices`."""
    return jnp.take(_t(reference), _t(indices), axis=0)


def one_hot(indices: Any, num_classes: int) -> Array:
    """One-hot encoding along a new last axis, in `K.floatx()`."""
    return jax.nn.one_hot(_t(indices), num_classes, dtype=floatx())


# --- Linear algebra ------------------------------------------------------------------------


def dot(x: Any, y: Any) -> Array:
    """Keras 2's `dot`: contracts the last axis of `x` with the second-to-last of `y`.

    For rank > 2 the result has shape `x.shape[:-1] + y.shape[:-2] + y.shape[-1:]`
    (NumPy's `dot` rule), e.g. `(2, 3) . (4, 3, 5) -> (2, 4, 5)`.
    """
    return jnp.dot(_t(x), _t(y))


def batch_dot(x: Any, y: Any, axes: int | Sequence[int] | None = None) -> Array:
    """Keras 2's batchwise dot product: per sample, contracts `x`'s axis `axes[0]` with `y`'s
    axis `axes[1]`.

    `axes` defaults to the last axis of `x` and the last (rank-2 `y`) or second-to-last axis of
    `y`; an int means the same axis in both. The result has shape `(batch,) + x's other axes
    + y's other axes`, except that two rank-2 inputs give `(batch, 1)`.

    Example: `x (32, 20, 1)`, `y (32, 30, 20)`, `axes=(1, 2)` gives `(32, 1, 30)`.

    Raises:
        ValueError: for inputs of rank < 2, different batch sizes, `axes` naming the batch
            axis, or contracted axes of different sizes.
    """
    x, y = _t(x), _t(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(
            "Cannot do batch_dot on inputs with rank < 2. "
            f"Received inputs with shapes {x.shape} and {y.shape}."
        )
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            "Cannot do batch_dot on inputs with different batch sizes. "
            f"Received inputs with shapes {x.shape} and {y.shape}."
        )
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    if len(axes) != 2 or not builtins.all(isinstance(a, int) for a in axes):
        raise ValueError(
            "Multiple target dimensions are not supported. Expected: None, int, (int, int). "
            f"Received: axes={axes}"
        )
    ax, ay = axes[0] % x.ndim, axes[1] % y.ndim
    if 0 in (ax, ay):
        raise ValueError(
            "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy "
            f"batch dimension with K.expand_dims(x, 0). Received: axes={axes}"
        )
    if x.shape[ax] != y.shape[ay]:
        raise ValueError(
            f"Cannot do batch_dot on inputs with shapes {x.shape} and {y.shape} with "
            f"axes={axes}: x.shape[{ax}] != y.shape[{ay}] ({x.shape[ax]} != {y.shape[ay]})."
        )
    # Batch axis 0 of both; the result is (batch, x's free axes, y's free axes), as in Keras 2.
    common = jnp.result_type(x, y)
    result = jax.lax.dot_general(x.astype(common), y.astype(common), (((ax,), (ay,)), ((0,), (0,))))
    if x.ndim == 2 and y.ndim == 2:
        result = result[:, None]
    return result


def l2_normalize(x: Any, axis: Axis = None) -> Array:
    """`x / sqrt(max(sum(x**2, axis), 1e-12))`, TensorFlow's `l2_normalize`."""
    x = _t(x)
    square_sum = jnp.sum(jnp.square(x), axis=_ax(axis), keepdims=True)
    return x * jax.lax.rsqrt(jnp.maximum(square_sum, jnp.asarray(1e-12, x.dtype)))


def bias_add(x: Any, bias: Any, data_format: str | None = None) -> Array:
    """Adds `bias` over the channel axis (`channels_last` or `channels_first`)."""
    x, bias = _t(x), _t(bias)
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"Unknown data_format. Received: data_format={data_format!r}")
    if bias.ndim not in (1, x.ndim - 1):
        raise ValueError(
            f"Unexpected bias dimensions {bias.ndim}: expected 1 or {x.ndim - 1}. "
            f"Received: bias.shape={bias.shape}"
        )
    if data_format == "channels_first" and x.ndim > 2:
        # A 1D bias goes on axis 1; a full bias is given channels-last and moved there.
        if bias.ndim == 1:
            bias = bias.reshape(bias.shape + (1,) * (x.ndim - 2))
        else:
            bias = jnp.moveaxis(bias, -1, 0)
    return x + bias.reshape((1,) * (x.ndim - bias.ndim) + bias.shape)


def switch(condition: Any, then_expression: Any, else_expression: Any) -> Array:
    """Chooses between two expressions by `condition`.

    A scalar condition selects one whole expression (callables are evaluated lazily with
    `lax.cond`); a tensor condition selects elementwise, with trailing size-1 axes appended to
    it until it has the rank of the expressions.

    Raises:
        ValueError: if `condition` has a higher rank than the expressions.
    """
    condition = _t(condition).astype(bool)
    if condition.ndim == 0:
        if callable(then_expression) and callable(else_expression):
            return jax.lax.cond(condition, then_expression, else_expression)
        then_expression = then_expression() if callable(then_expression) else then_expression
        else_expression = else_expression() if callable(else_expression) else else_expression
        return jnp.where(condition, _t(then_expression), _t(else_expression))
    then_expression = _t(then_expression() if callable(then_expression) else then_expression)
    else_expression = _t(else_expression() if callable(else_expression) else else_expression)
    if condition.ndim > then_expression.ndim:
        raise ValueError(
            "Rank of `condition` should be less than or equal to rank of `then_expression` and "
            f"`else_expression`. ndim(condition)={condition.ndim}, "
            f"ndim(then_expression)={then_expression.ndim}"
        )
    condition = condition.reshape(condition.shape + (1,) * (then_expression.ndim - condition.ndim))
    return jnp.where(condition, then_expression, else_expression)


def in_top_k(predictions: Any, targets: Any, k: int) -> Array:
    """Whether each target's prediction is among the `k` largest of its row."""
    predictions, targets = _t(predictions), _t(targets).astype(jnp.int32)
    target_scores = jnp.take_along_axis(predictions, targets[:, None], axis=-1)
    return jnp.sum(predictions > target_scores, axis=-1) < k


# --- Activations (Keras 2's backend forms) -------------------------------------------------


def softmax(x: Any, axis: int | Sequence[int] = -1) -> Array:
    """Softmax along `axis`."""
    return jax.nn.softmax(_t(x), axis=_ax(axis))


sigmoid = _unary(jax.nn.sigmoid, "sigmoid", "Logistic sigmoid `1 / (1 + exp(-x))`.")


def hard_sigmoid(x: Any) -> Array:
    """Keras 2's hard sigmoid `clip(0.2 * x + 0.5, 0, 1)` (not Keras 3's `activations` form)."""
    x = _t(x)
    return jnp.clip(x * jnp.asarray(0.2, x.dtype) + jnp.asarray(0.5, x.dtype), 0.0, 1.0)


def relu(
    x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Array:
    """ReLU with Keras 2's `alpha` (the slope below `threshold`), `max_value` and `threshold`."""
    return _activations.relu(_t(x), negative_slope=alpha, max_value=max_value, threshold=threshold)


def elu(x: Any, alpha: float = 1.0) -> Array:
    """`x` if `x > 0`, else `alpha * (exp(x) - 1)`."""
    return jax.nn.elu(_t(x), alpha=alpha)


tanh = _unary(jnp.tanh, "tanh", "Hyperbolic tangent.")
softplus = _unary(jax.nn.softplus, "softplus", "Softplus `log(exp(x) + 1)`.")
softsign = _unary(jax.nn.soft_sign, "softsign", "Softsign `x / (abs(x) + 1)`.")


def dropout(
    x: Any, level: float, noise_shape: Sequence[int] | None = None, seed: int | None = None
) -> Array:
    """Zeroes each entry with probability `level` and scales the rest by `1 / (1 - level)`."""
    x = _t(x)
    keep = 1.0 - level
    mask = jax.random.bernoulli(_key(seed), keep, tuple(noise_shape or x.shape))
    return jnp.where(mask, x / jnp.asarray(keep, x.dtype), jnp.zeros((), x.dtype))


# --- Random (integer seeds; see the module docstring) --------------------------------------


def _key(seed: int | None) -> Array:
    # Keras 3's key for an int seed on the JAX backend, so `K.random_normal(..., seed=s)`
    # matches `keras.random.normal(..., seed=s)`. Keras 2 drew a missing seed from NumPy.
    if seed is None:
        seed = int(np.random.randint(int(10e6)))
    return jnp.array([int(seed) % 2**32, 0], dtype=jnp.uint32)


def random_normal(
    shape: Sequence[int],
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: int | None = None,
) -> Array:
    """Samples from `N(mean, stddev**2)`."""
    return jax.random.normal(_key(seed), tuple(shape), dtype or floatx()) * stddev + mean


def truncated_normal(
    shape: Sequence[int],
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: int | None = None,
) -> Array:
    """Samples from `N(mean, stddev**2)` truncated to two standard deviations."""
    sample = jax.random.truncated_normal(_key(seed), -2.0, 2.0, tuple(shape), dtype or floatx())
    return sample * stddev + mean


def random_uniform(
    shape: Sequence[int],
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype: Any = None,
    seed: int | None = None,
) -> Array:
    """Samples uniformly from `[minval, maxval)` (integers for an integer dtype)."""
    dtype = jnp.dtype(dtype or floatx())
    if jnp.issubdtype(dtype, jnp.integer):
        return jax.random.randint(_key(seed), tuple(shape), minval, maxval, dtype)
    return jax.random.uniform(_key(seed), tuple(shape), dtype, minval, maxval)


def random_bernoulli(
    shape: Sequence[int], p: float = 0.0, dtype: Any = None, seed: int | None = None
) -> Array:
    """1 with probability `p`, else 0 (Keras 2: `uniform <= p`)."""
    dtype = dtype or floatx()
    return (jax.random.uniform(_key(seed), tuple(shape), dtype) <= p).astype(dtype)


random_binomial = random_bernoulli


# --- Losses (Keras 2's argument order: target first) ---------------------------------------


def _clip_probs(output: Array) -> Array:
    eps = epsilon()
    return jnp.clip(output, eps, 1.0 - eps)


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Array:
    """Crossentropy between one-hot (or soft) `target` and `output`, reduced over `axis`.

    Probabilities are renormalized to sum to 1 and clipped to `[eps, 1 - eps]`; logits go
    through `log_softmax`.

    Raises:
        ValueError: if `target` and `output` have different shapes.
    """
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        log_prob = jnp.log(_clip_probs(output / jnp.sum(output, axis, keepdims=True)))
    return -jnp.sum(target * log_prob, axis=axis)


def sparse_categorical_crossentropy(
    target: Any,
    output: Any,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
) -> Array:
    """Crossentropy between integer `target` and `output` (class scores along `axis`).

    `target` has `output`'s shape without `axis`, or with a trailing 1. Entries whose label is
    `ignore_class` give 0.

    Raises:
        ValueError: if `target`'s shape does not match `output`'s other axes.
    """
    output = jnp.moveaxis(_t(output), axis, -1)
    target = _t(target).astype(jnp.int32)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target[..., 0]
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the class axis. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=-1)
    else:
        log_prob = jnp.log(_clip_probs(output / jnp.sum(output, -1, keepdims=True)))
    valid = target != ignore_class if ignore_class is not None else None
    labels = jnp.where(valid, target, 0) if valid is not None else target
    loss = -jnp.take_along_axis(log_prob, labels[..., None], axis=-1)[..., 0]
    return jnp.where(valid, loss, jnp.zeros((), loss.dtype)) if valid is not None else loss


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Array:
    """Elementwise binary crossentropy (no reduction, as in Keras 2).

    Probabilities are clipped to `[eps, 1 - eps]`; logits use `log_sigmoid` for stability.
    """
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(-output)
    output = _clip_probs(output)
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))
