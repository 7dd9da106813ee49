"""Keras 3 activation functions on `jax.numpy`, with `get`, `serialize` and `deserialize`.

Every activation is a pure function of an array and static (Python) settings, so it runs
unchanged under `jax.jit`, `jax.grad` and `jax.vmap`. Names, signatures and formulas follow
`keras.activations` in Keras 3; Keras 2 spellings (`swish`, `hard_swish`) resolve to the same
functions.

Example:
    >>> import fkeras.activations as activations
    >>> activations.get("relu")(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fkeras import _custom_objects

Array = jax.Array
ActivationFn = Callable[..., Array]

__all__ = [
    "celu",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
]


def relu(
    x: Array,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Array:
    """Rectified linear unit, with Keras's optional slope, ceiling and threshold.

    With the defaults this is `max(x, 0)`. Otherwise, for `x > threshold` the output is `x`
    (clipped to `max_value` when given) and below the threshold it is
    `negative_slope * (x - threshold)`.

    Args:
        x: Input array.
        negative_slope: Slope for values below `threshold`.
        max_value: Largest value the function returns, or `None` for no ceiling.
        threshold: Values at or below it are damped (or zeroed when `negative_slope` is 0).

    Returns:
        An array of the same shape and dtype as `x`.
    """
    x = jnp.asarray(x)
    # The branches mirror keras.activations.relu so that results match Keras bit for bit.
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return jax.nn.leaky_relu(x, negative_slope=negative_slope)
        negative_part = jax.nn.relu(threshold - x) if threshold != 0 else jax.nn.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = jnp.where(x > jnp.asarray(threshold, x.dtype), x, jnp.zeros((), x.dtype))
    elif max_value == 6:
        x = jax.nn.relu6(x)
        clip_max = False
    else:
        x = jax.nn.relu(x)
    if clip_max:
        x = jnp.clip(x, jnp.zeros((), x.dtype), jnp.asarray(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x: Array, negative_slope: float = 0.2) -> Array:
    """Leaky ReLU: `x` if `x >= 0`, else `negative_slope * x`."""
    return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=negative_slope)


def relu6(x: Array) -> Array:
    """ReLU capped at 6: `min(max(x, 0), 6)`."""
    return jax.nn.relu6(jnp.asarray(x))


def _warn_if_unit_axis(x: Array, axis: int | tuple[int, ...]) -> None:
    # Keras warns here too: a softmax over a size-1 axis is always 1 (a common mistake is
    # `Dense(1, activation="softmax")`). Shapes are static, so this is safe under jit.
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {x.shape}. "
            "This axis has size 1, so the softmax always returns 1. Did you mean sigmoid?",
            stacklevel=3,
        )


def softmax(x: Array, axis: int | tuple[int, ...] = -1) -> Array:
    """Softmax along `axis`: `exp(x) / sum(exp(x))`, computed stably.

    Args:
        x: Input array (the log-odds of the result).
        axis: Axis, or tuple of axes, along which the outputs sum to 1.

    Returns:
        An array of the same shape as `x` whose slices along `axis` sum to 1.
    """
    x = jnp.asarray(x)
    _warn_if_unit_axis(x, axis)
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x: Array, axis: int | tuple[int, ...] = -1) -> Array:
    """Logarithm of the softmax along `axis`, computed stably."""
    return jax.nn.log_softmax(jnp.asarray(x), axis=axis)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """Exponential linear unit: `x` if `x > 0`, else `alpha * (exp(x) - 1)`.

    Reference: Clevert et al., 2016, https://arxiv.org/abs/1511.07289
    """
    return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def selu(x: Array) -> Array:
    """Scaled ELU: `scale * elu(x, alpha)` with `alpha=1.67326324`, `scale=1.05070098`.

    Pair it with the `LecunNormal` initializer. Reference: Klambauer et al., 2017,
    https://arxiv.org/abs/1706.02515
    """
    return jax.nn.selu(jnp.asarray(x))


def celu(x: Array, alpha: float = 1.0) -> Array:
    """Continuously differentiable ELU: `x` if `x >= 0`, else `alpha * (exp(x / alpha) - 1)`."""
    return jax.nn.celu(jnp.asarray(x), alpha=alpha)


def softplus(x: Array) -> Array:
    """Softplus: `log(exp(x) + 1)`."""
    return jax.nn.softplus(jnp.asarray(x))


def softsign(x: Array) -> Array:
    """Softsign: `x / (abs(x) + 1)`."""
    return jax.nn.soft_sign(jnp.asarray(x))


def silu(x: Array) -> Array:
    """SiLU, also called swish: `x * sigmoid(x)`.

    Reference: Ramachandran et al., 2017, https://arxiv.org/abs/1710.05941
    """
    return jax.nn.silu(jnp.asarray(x))


def gelu(x: Array, approximate: bool = False) -> Array:
    """Gaussian error linear unit: `x * P(X <= x)` for `X ~ N(0, 1)`.

    Args:
        x: Input array.
        approximate: If True, use the tanh approximation; by default (as in Keras 3) the
            exact form `0.5 * x * (1 + erf(x / sqrt(2)))`.

    Reference: Hendrycks et al., 2016, https://arxiv.org/abs/1606.08415
    """
    return jax.nn.gelu(jnp.asarray(x), approximate=approximate)


def glu(x: Array, axis: int = -1) -> Array:
    """Gated linear unit: split `x` in halves `a, b` along `axis`, return `a * sigmoid(b)`."""
    x = jnp.asarray(x)
    if x.shape[axis] % 2:
        raise ValueError(
            "glu: the size of `axis` must be even to split the input in two halves. "
            f"Received: axis={axis} for input shape {x.shape}"
        )
    return jax.nn.glu(x, axis=axis)


def tanh(x: Array) -> Array:
    """Hyperbolic tangent."""
    return jnp.tanh(jnp.asarray(x))


def tanh_shrink(x: Array) -> Array:
    """Tanh shrink: `x - tanh(x)`."""
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def hard_tanh(x: Array) -> Array:
    """Hard tanh: `x` clipped to `[-1, 1]`."""
    return jax.nn.hard_tanh(jnp.asarray(x))


def sigmoid(x: Array) -> Array:
    """Logistic sigmoid: `1 / (1 + exp(-x))`."""
    return jax.nn.sigmoid(jnp.asarray(x))


def log_sigmoid(x: Array) -> Array:
    """Logarithm of the sigmoid, `-softplus(-x)`, computed stably."""
    return jax.nn.log_sigmoid(jnp.asarray(x))


def hard_sigmoid(x: Array) -> Array:
    """Hard sigmoid, Keras 3's formula: `relu6(x + 3) / 6`.

    That is 0 for `x <= -3`, 1 for `x >= 3` and `x / 6 + 0.5` between. Keras 2 used
    `clip(0.2 * x + 0.5, 0, 1)`; `fkeras.backend.hard_sigmoid` keeps that older form.
    """
    return jax.nn.hard_sigmoid(jnp.asarray(x))


def hard_silu(x: Array) -> Array:
    """Hard SiLU (hard swish): `x * hard_sigmoid(x)`.

    Reference: Howard et al., 2019, https://arxiv.org/abs/1905.02244
    """
    return jax.nn.hard_silu(jnp.asarray(x))


def sparse_sigmoid(x: Array) -> Array:
    """Sparse sigmoid: `0.5 * (x + 1)` clipped to `[0, 1]`."""
    return jax.nn.sparse_sigmoid(jnp.asarray(x))


def sparse_plus(x: Array) -> Array:
    """Sparse plus: 0 for `x <= -1`, `(x + 1)**2 / 4` on `(-1, 1)`, `x` for `x >= 1`."""
    return jax.nn.sparse_plus(jnp.asarray(x))


def squareplus(x: Array, b: float = 4) -> Array:
    """Squareplus: `(x + sqrt(x**2 + b)) / 2`."""
    return jax.nn.squareplus(jnp.asarray(x), b=b)


def soft_shrink(x: Array, threshold: float = 0.5) -> Array:
    """Soft shrink: `x` moved towards 0 by `threshold`; 0 inside `[-threshold, threshold]`."""
    x = jnp.asarray(x)
    zero = jnp.zeros((), x.dtype)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, zero))


def hard_shrink(x: Array, threshold: float = 0.5) -> Array:
    """Hard shrink: `x` where `abs(x) > threshold`, else 0."""
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros((), x.dtype))


def threshold(x: Array, threshold: float, default_value: float) -> Array:
    """`x` where `x > threshold`, else `default_value`."""
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x, jnp.asarray(default_value, x.dtype))


def exponential(x: Array) -> Array:
    """Exponential: `exp(x)`."""
    return jnp.exp(jnp.asarray(x))


def mish(x: Array) -> Array:
    """Mish: `x * tanh(softplus(x))`. Reference: Misra, 2019, https://arxiv.org/abs/1908.08681"""
    x = jnp.asarray(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def linear(x: Array) -> Array:
    """Identity: returns `x` unchanged."""
    return x


def sparsemax(x: Array, axis: int = -1) -> Array:
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex along `axis`.

    `sparsemax(x) = max(x - tau(x), 0)`, where `tau` is chosen so that the outputs sum to 1;
    unlike softmax, many outputs are exactly 0.

    Reference: Martins & Astudillo, 2016, https://arxiv.org/abs/1602.02068
    """
    x = jnp.asarray(x)
    z = jnp.moveaxis(x, axis, -1)
    z_sorted = -jnp.sort(-z, axis=-1)
    ranks = jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype).reshape((1,) * (z.ndim - 1) + (-1,))
    cumulative = jnp.cumsum(z_sorted, axis=-1)
    in_support = z_sorted * ranks > cumulative - 1
    support_size = jnp.sum(in_support, axis=-1, keepdims=True).astype(z.dtype)
    support_total = jnp.sum(
        jnp.where(in_support, z_sorted, jnp.zeros((), z.dtype)), axis=-1, keepdims=True
    )
    tau = (support_total - 1) / support_size
    return jnp.moveaxis(jnp.maximum(z - tau, jnp.zeros((), z.dtype)), -1, axis)


swish = silu
hard_swish = hard_silu

_BUILTINS: dict[str, ActivationFn] = {
    fn.__name__: fn
    for fn in (
        celu,
        elu,
        exponential,
        gelu,
        glu,
        hard_shrink,
        hard_sigmoid,
        hard_silu,
        hard_tanh,
        leaky_relu,
        linear,
        log_sigmoid,
        log_softmax,
        mish,
        relu,
        relu6,
        selu,
        sigmoid,
        silu,
        soft_shrink,
        softmax,
        softplus,
        softsign,
        sparse_plus,
        sparse_sigmoid,
        sparsemax,
        squareplus,
        tanh,
        tanh_shrink,
        threshold,
    )
}
_ALIASES: dict[str, ActivationFn] = {"swish": silu, "hard_swish": hard_silu}
_BY_NAME: dict[str, ActivationFn] = {**_BUILTINS, **_ALIASES}


def _unknown(identifier: Any) -> ValueError:
    return ValueError(
        "Unknown activation function. Expected one of "
        f"{sorted(_BY_NAME)}, a callable or a serialized config. "
        f"Received: identifier={identifier!r}"
    )


def serialize(activation: ActivationFn) -> str | dict[str, Any]:
    """Returns the name that `deserialize` turns back into `activation`.

    Built-in activations serialize to their Keras name (`swish` gives `"silu"`, as in Keras 3).
    A user function serializes to its `__name__` (Keras 2's behaviour); pass it through
    `custom_objects` when deserializing. A callable object with `get_config` serializes to
    `{"class_name": ..., "config": ...}`.

    Raises:
        ValueError: for a lambda or another callable without a usable name or config.
    """
    for name, fn in _BUILTINS.items():
        if activation is fn:
            return name
    if hasattr(activation, "get_config"):
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    name = getattr(activation, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(
            "Cannot serialize this activation: it is neither a built-in activation nor a "
            "named function. Define it with `def` or pass its name. "
            f"Received: activation={activation!r}"
        )
    return name


def _as_function(obj: Any) -> ActivationFn:
    """A custom activation as a function: Keras 2 scripts register `Activation(fn)` layers
    (`get_custom_objects().update({"swish": Activation(swish)})`); their function is used."""
    inner = getattr(obj, "activation", None)
    if type(obj).__name__ == "Activation" and callable(inner):
        return inner
    return obj


def deserialize(
    config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> ActivationFn:
    """Returns the activation function named by `config`.

    Args:
        config: An activation name (`"relu"`), or a Keras 3 config dict such as
            `{"class_name": "function", "config": "relu"}`.
        custom_objects: Optional mapping of names to user functions, looked up first.

    Raises:
        ValueError: if the name is unknown.
    """
    custom_objects = _custom_objects.merged(custom_objects)
    if isinstance(config, dict):
        class_name = config.get("class_name")
        inner = config.get("config")
        if class_name == "function" or (class_name is None and isinstance(inner, str)):
            config = inner
        elif class_name in custom_objects:
            obj = custom_objects[class_name]
            return obj.from_config(inner or {}) if hasattr(obj, "from_config") else obj
        else:
            config = class_name
    if isinstance(config, str):
        if config in custom_objects:
            return _as_function(custom_objects[config])
        if config in _BY_NAME:
            return _BY_NAME[config]
    raise _unknown(config)


def get(identifier: str | dict[str, Any] | ActivationFn | None) -> ActivationFn:
    """Returns an activation function from a name, a config, a callable or `None`.

    Args:
        identifier: `None` (gives `linear`), a Keras name such as `"relu"`, a config dict,
            or any callable (returned unchanged).

    Returns:
        A callable activation.

    Raises:
        ValueError: for an unknown name or an identifier of another type.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise _unknown(identifier)
