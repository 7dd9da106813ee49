"""Losses: Keras 3's loss functions and `Loss` classes on `jax.numpy`.

A loss function maps `(y_true, y_pred)` to per-sample values, reducing only the last axis
(`mean_squared_error(y (B, D), p (B, D)) -> (B,)`). A `Loss` object wraps one, holds a name and a
reduction, and reduces with Keras 3's rules: `loss(y_true, y_pred, sample_weight)` is a scalar.
Everything is pure and jittable: shapes are read statically, values never leave the device.

Example:
    >>> loss = get("categorical_crossentropy")
    >>> loss.name
    'categorical_crossentropy'
    >>> loss([[0., 1.]], [[0.3, 0.7]])  # -log(0.7)
    Array(0.35667497, dtype=float32)
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from fkeras import _custom_objects
from fkeras._config import epsilon, floatx
from fkeras._loss_reduction import (  # noqa: F401  (re-exported: metrics and users import them here)
    apply_mask,
    check_axis,
    check_fn_kwargs,
    divide_no_nan,
    reduce_values,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
    standardize_dtype,
    standardize_reduction,
)
from fkeras._naming import to_snake_case, uniquify

Array = jax.Array
LossFn = Callable[..., Array]

# ----------------------------------------------------------------------------------------------
# Loss functions (per sample; Keras 3's formulas)
# ----------------------------------------------------------------------------------------------


def _pair(y_true, y_pred, squeeze: bool = True):
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.inexact):
        y_pred = y_pred.astype(floatx())
    y_true = jnp.asarray(y_true, y_pred.dtype)
    if squeeze:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def _mean(x: Array, axis=-1) -> Array:
    # Keras's jax `mean` accumulates in at least float32 and casts back.
    return jnp.mean(x, axis=axis, dtype=jnp.promote_types(x.dtype, jnp.float32)).astype(x.dtype)


def _check_axis(axis) -> None:
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r}")


def _l2_normalize(x: Array, axis=-1) -> Array:
    inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv_norm, 1.0 / epsilon())


def mean_squared_error(y_true, y_pred) -> Array:
    """`mean(square(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    return _mean(jnp.square(y_true - y_pred))


def mean_absolute_error(y_true, y_pred) -> Array:
    """`mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    return _mean(jnp.abs(y_true - y_pred))


def mean_absolute_percentage_error(y_true, y_pred) -> Array:
    """`100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = jnp.asarray(epsilon(), y_pred.dtype)
    return 100.0 * _mean(jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), eps)))


def mean_squared_logarithmic_error(y_true, y_pred) -> Array:
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = jnp.log(jnp.maximum(y_pred, epsilon()) + 1.0)
    second = jnp.log(jnp.maximum(y_true, epsilon()) + 1.0)
    return _mean(jnp.square(first - second))


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Array:
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 is the best value."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -jnp.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta: float = 1.0) -> Array:
    """Mean over the last axis of `0.5 x^2` where `|x| <= delta`, else `delta |x| - 0.5 delta^2`."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    half = jnp.asarray(0.5, y_pred.dtype)
    quadratic = half * jnp.square(error)
    linear = delta * abs_error - half * jnp.square(delta)
    return _mean(jnp.where(abs_error <= delta, quadratic, linear))


def log_cosh(y_true, y_pred) -> Array:
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as `x + softplus(-2x) - log 2`."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    log2 = jnp.asarray(math.log(2.0), y_pred.dtype)
    return _mean(x + jax.nn.softplus(x * -2.0) - log2)


def _hinge_labels(y_true: Array) -> Array:
    # Binary {0, 1} labels become {-1, 1}; any other labels are used as given.
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred) -> Array:
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)`; labels in {0, 1} become {-1, 1}."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    return _mean(jnp.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0))


def squared_hinge(y_true, y_pred) -> Array:
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`; {0, 1} labels become {-1, 1}."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    return _mean(jnp.square(jnp.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)))


def categorical_hinge(y_true, y_pred) -> Array:
    """`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, jnp.asarray(0.0, y_pred.dtype))


def kl_divergence(y_true, y_pred) -> Array:
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to `[epsilon, 1]`."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = jnp.clip(y_true, epsilon(), 1)
    y_pred = jnp.clip(y_pred, epsilon(), 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred) -> Array:
    """`mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    eps = jnp.asarray(epsilon(), y_pred.dtype)
    return _mean(y_pred - y_true * jnp.log(y_pred + eps))


def _same_shape(target: Array, output: Array, what: str) -> tuple[Array, Array]:
    if target.shape != output.shape:
        # Keras 3 raises here; accept (B,) against (B, 1) as its loss wrapper would.
        target, output = squeeze_or_expand_to_same_rank(target, output)
    if target.shape != output.shape:
        raise ValueError(
            f"In `{what}`, arguments `y_true` and `y_pred` must have the same shape. "
            f"Received: y_true.shape={target.shape}, y_pred.shape={output.shape}"
        )
    return target, output


def _log_probs(output: Array, from_logits: bool, axis: int) -> Array:
    if from_logits:
        return jax.nn.log_softmax(output, axis=axis)
    # Probabilities are renormalised to sum to one, then clipped away from 0 and 1.
    output = output / jnp.sum(output, axis, keepdims=True)
    return jnp.log(jnp.clip(output, epsilon(), 1.0 - epsilon()))


def _bce(target: Array, output: Array, from_logits: bool) -> Array:
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(-output)
    output = jnp.clip(output, epsilon(), 1.0 - epsilon())
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Array:
    """Mean over `axis` of `-(y log p + (1 - y) log(1 - p))`, `p` clipped to `[eps, 1 - eps]`.

    With `from_logits`, `log p = log_sigmoid(y_pred)`. `label_smoothing` moves labels towards
    0.5: `y * (1 - s) + 0.5 s`.
    """
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    y_true, y_pred = _same_shape(y_true, y_pred, "binary_crossentropy")
    return _mean(_bce(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    """Binary crossentropy scaled by `(1 - p_t) ** gamma` (Lin et al., 2017), mean over `axis`.

    With `apply_class_balancing`, also by `alpha` for class 1 and `1 - alpha` for class 0.
    """
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    y_true, y_pred = _same_shape(y_true, y_pred, "binary_focal_crossentropy")
    bce = _bce(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return _mean(focal, axis=axis)


def _smooth_categorical(y_true: Array, label_smoothing: float, dtype) -> Array:
    if not label_smoothing:
        return y_true
    num_classes = jnp.asarray(y_true.shape[-1], dtype)
    return y_true * (1.0 - label_smoothing) + (label_smoothing / num_classes)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Array:
    """`-sum(y_true * log(p), axis)`; `p = y_pred / sum(y_pred)` clipped to `[eps, 1 - eps]`.

    With `from_logits`, `log p = log_softmax(y_pred)`. `label_smoothing` s gives
    `y * (1 - s) + s / num_classes`.
    """
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    y_true, y_pred = _same_shape(y_true, y_pred, "categorical_crossentropy")
    if y_pred.ndim < 1:
        raise ValueError(
            "In `categorical_crossentropy`, `y_pred` must be at least rank 1. "
            f"Received: y_pred.shape={y_pred.shape}"
        )
    return -jnp.sum(y_true * _log_probs(y_pred, from_logits, axis), axis=axis)


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    """`sum(alpha * (1 - p) ** gamma * -y_true * log(p), axis)` with `p` as in categorical CE."""
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    output = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    output = jnp.clip(output, epsilon(), 1.0 - epsilon())
    cce = -y_true * jnp.log(output)
    weighting = jnp.power(1.0 - output, gamma) * jnp.asarray(alpha, output.dtype)
    return jnp.sum(weighting * cce, axis=axis)


def _sparse_categorical_crossentropy_masked(
    y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> tuple[Array, Array | None]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.inexact):
        y_pred = y_pred.astype(floatx())
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = jnp.squeeze(y_true, axis)
    class_axis = axis % y_pred.ndim if y_pred.ndim else 0
    if y_pred.ndim < 1 or y_true.shape != y_pred.shape[:class_axis] + y_pred.shape[class_axis + 1:]:
        raise ValueError(
            "In `sparse_categorical_crossentropy`, `y_true` must have `y_pred`'s shape without "
            f"its class axis. Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    valid = None
    if ignore_class is not None:
        valid = y_true != jnp.asarray(ignore_class, y_true.dtype)
        y_true = jnp.where(valid, y_true, 0)
        # Keras zeroes ignored rows; ones give the same (masked) values without NaNs inside.
        y_pred = jnp.where(jnp.expand_dims(valid, axis), y_pred, 1)
    log_prob = _log_probs(y_pred, from_logits, axis)
    target = jax.nn.one_hot(y_true.astype(jnp.int32), y_pred.shape[axis], axis=axis)
    res = -jnp.sum(target.astype(log_prob.dtype) * log_prob, axis=axis)
    if valid is not None:
        res = jnp.where(valid, res, 0.0)
    return res, valid


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> Array:
    """Categorical crossentropy with integer labels: `-log(p[y_true])`, `p` as in categorical CE.

    `y_true` holds class ids of shape `y_pred.shape` without the class axis (a trailing size-1
    axis is squeezed). Entries equal to `ignore_class` give 0 (and are left out of mean
    reductions by `SparseCategoricalCrossentropy`).
    """
    return _sparse_categorical_crossentropy_masked(
        y_true, y_pred, from_logits, ignore_class, axis
    )[0]


# Functions whose values come with a mask of entries to leave out of reductions.
_MASKED_VARIANTS: dict[Callable, Callable] = {
    sparse_categorical_crossentropy: _sparse_categorical_crossentropy_masked,
}


def call_with_mask(fn: LossFn, y_true, y_pred, **kwargs) -> tuple[Array, Array | None]:
    """Call a loss function, returning `(values, mask)`; `mask` is None for unmasked losses."""
    masked = _MASKED_VARIANTS.get(fn)
    if masked is not None:
        return masked(y_true, y_pred, **kwargs)
    return fn(y_true, y_pred, **kwargs), None


# Keras 2 and Keras 3 short names.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


# ----------------------------------------------------------------------------------------------
# Loss classes
# ----------------------------------------------------------------------------------------------


def _is_array_like(x) -> bool:
    return hasattr(x, "shape") or isinstance(x, (int, float, list, tuple))


def _callable_name(fn: Callable) -> str:
    name = getattr(fn, "__name__", None)
    return name if name else to_snake_case(type(fn).__name__)


class Loss:
    """Base class of losses: a name, a reduction, and `call(y_true, y_pred)` giving values.

    Subclass it and implement `call` (per-sample values); `__call__` converts the inputs to the
    loss dtype, calls `call` and reduces with Keras 3's rules (see `reduce_weighted_values`).

    Args:
        name: The loss's name; defaults to the snake-cased class name, made unique.
        reduction: `"sum_over_batch_size"` (default; sum divided by the number of values),
            `"mean"` (the same), `"sum"`, `"mean_with_sample_weight"` (sum divided by the sum
            of the weights), `"none"` or `None` (no reduction), or Keras 2's `"auto"`.
        dtype: Computation dtype; defaults to `floatx()`.
    """

    def __init__(
        self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype=None
    ):
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}: `name` must be a string. "
                f"Received: name={name!r}"
            )
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = standardize_dtype(dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None, *, mask=None) -> Array:
        """The reduced loss. `mask` is the output's mask (Keras reads it from `y_pred`)."""
        y_true = jax.tree.map(lambda x: jnp.asarray(x, self.dtype), y_true)
        y_pred = jax.tree.map(lambda x: jnp.asarray(x, self.dtype), y_pred)
        values, out_mask = self.call_with_mask(y_true, y_pred)
        if mask is None:
            mask = out_mask
        elif out_mask is not None:
            mask = jnp.logical_and(jnp.asarray(mask, bool), out_mask)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.dtype)

    def call(self, y_true, y_pred) -> Array:
        """Unreduced loss values; subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def call_with_mask(self, y_true, y_pred) -> tuple[Array, Array | None]:
        """`(call(y_true, y_pred), mask)`: the mask marks values to leave out, or is None."""
        return self.call(y_true, y_pred), None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A `Loss` around a function `fn(y_true, y_pred, **kwargs)` returning per-sample values.

    `call` does what Keras's wrapper does before calling `fn`: `y_true` is cast to `y_pred`'s
    dtype and ranks differing by a trailing size-1 axis are squeezed or expanded to agree.

    Args:
        fn: The loss function.
        reduction: See `Loss`.
        name: Defaults to `fn.__name__`.
        dtype: See `Loss`.
        **kwargs: Passed on to `fn`.
    """

    def __init__(
        self,
        fn: LossFn,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype=None,
        **kwargs,
    ):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable. Received: fn={fn!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}: `name` must be a string. "
                f"Received: name={name!r}"
            )
        super().__init__(name=name or _callable_name(fn), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred) -> Array:
        return self.call_with_mask(y_true, y_pred)[0]

    def call_with_mask(self, y_true, y_pred) -> tuple[Array, Array | None]:
        if _is_array_like(y_true) and _is_array_like(y_pred):
            y_pred = jnp.asarray(y_pred)
            y_true = jnp.asarray(y_true)
            if jnp.issubdtype(y_pred.dtype, jnp.inexact):
                y_true = y_true.astype(y_pred.dtype)
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            if "axis" in self._fn_kwargs and isinstance(self, _BuiltinLoss):
                check_axis(type(self).__name__, self._fn_kwargs["axis"], jnp.ndim(y_pred))
        return call_with_mask(self.fn, y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": serialize(self.fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        config = dict(config)
        if isinstance(config.get("fn"), (dict, str)):
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({_callable_name(self.fn)}, kwargs={self._fn_kwargs})>"


class _BuiltinLoss(LossFunctionWrapper):
    """A Keras loss class: its config is its constructor arguments, kept as attributes too."""

    def __init__(self, fn, reduction, name, dtype, **kwargs):
        check_fn_kwargs(type(self).__name__, kwargs)
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self) -> dict:
        return {**Loss.get_config(self), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)


_SBS = "sum_over_batch_size"


class MeanSquaredError(_BuiltinLoss):
    """`mean(square(y_true - y_pred))`."""

    def __init__(self, reduction=_SBS, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(_BuiltinLoss):
    """`mean(abs(y_true - y_pred))`."""

    def __init__(self, reduction=_SBS, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(_BuiltinLoss):
    """`100 * mean(abs((y_true - y_pred) / y_true))`."""

    def __init__(self, reduction=_SBS, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(_BuiltinLoss):
    """`mean(square(log(y_pred + 1) - log(y_true + 1)))`."""

    def __init__(self, reduction=_SBS, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


class CosineSimilarity(_BuiltinLoss):
    """Negative cosine similarity along `axis` (Keras's config leaves `axis` out; this keeps it)."""

    def __init__(self, axis=-1, reduction=_SBS, name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)


class Huber(_BuiltinLoss):
    """Huber loss with threshold `delta` (Keras's config leaves `delta` out; this keeps it)."""

    def __init__(self, delta=1.0, reduction=_SBS, name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)


class LogCosh(_BuiltinLoss):
    """`mean(log(cosh(y_pred - y_true)))`."""

    def __init__(self, reduction=_SBS, name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)


class Hinge(_BuiltinLoss):
    """`mean(maximum(1 - y_true * y_pred, 0))`."""

    def __init__(self, reduction=_SBS, name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


class SquaredHinge(_BuiltinLoss):
    """`mean(square(maximum(1 - y_true * y_pred, 0)))`."""

    def __init__(self, reduction=_SBS, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


class CategoricalHinge(_BuiltinLoss):
    """`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`."""

    def __init__(self, reduction=_SBS, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)


class KLDivergence(_BuiltinLoss):
    """`sum(y_true * log(y_true / y_pred))`."""

    def __init__(self, reduction=_SBS, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


class Poisson(_BuiltinLoss):
    """`mean(y_pred - y_true * log(y_pred))`."""

    def __init__(self, reduction=_SBS, name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)


class BinaryCrossentropy(_BuiltinLoss):
    """Binary crossentropy; see `binary_crossentropy`."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_SBS,
            name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
            label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(_BuiltinLoss):
    """Binary focal crossentropy; see `binary_focal_crossentropy`."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
            label_smoothing=0.0, axis=-1, reduction=_SBS, name="binary_focal_crossentropy",
            dtype=None):
        super().__init__(binary_focal_crossentropy, reduction, name, dtype,
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_BuiltinLoss):
    """Categorical crossentropy on one-hot labels; see `categorical_crossentropy`."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_SBS,
            name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_BuiltinLoss):
    """Categorical focal crossentropy; see `categorical_focal_crossentropy`."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
            reduction=_SBS, name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha,
            gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_BuiltinLoss):
    """Crossentropy on integer labels; entries equal to `ignore_class` are left out."""

    def __init__(self, from_logits=False, ignore_class=None, reduction=_SBS, axis=-1,
            name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype,
            from_logits=from_logits, ignore_class=ignore_class, axis=axis)


# ----------------------------------------------------------------------------------------------
# Lookup and serialization
# ----------------------------------------------------------------------------------------------

_FUNCTIONS: dict[str, LossFn] = {
    fn.__name__: fn
    for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge,
        squared_hinge, categorical_hinge, kl_divergence, poisson, binary_crossentropy,
        binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
        sparse_categorical_crossentropy,
    )
}  # fmt: skip
_FUNCTIONS.update(
    mse=mse, MSE=MSE, mae=mae, MAE=MAE, mape=mape, MAPE=MAPE, msle=msle, MSLE=MSLE, bce=bce,
    BCE=BCE, kld=kld, KLD=KLD, kullback_leibler_divergence=kl_divergence, logcosh=log_cosh,
    huber_loss=huber, cosine_proximity=cosine_similarity, cosine=cosine_similarity,
)
_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
        MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Huber,
        LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
        BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
        CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
    )
}  # fmt: skip


def _unknown(kind: str, identifier, names) -> ValueError:
    close = difflib.get_close_matches(str(identifier), list(names), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"Could not interpret {kind} identifier: unknown name {identifier!r}.{hint} "
        f"Valid names: {', '.join(sorted(names))}. Received: {kind}={identifier!r}"
    )


def _lookup(name: str, custom_objects: dict | None = None):
    custom_objects = _custom_objects.merged(custom_objects)
    if name in custom_objects:
        return custom_objects[name]
    if name in _FUNCTIONS:
        return _FUNCTIONS[name]
    if name in _CLASSES:
        return _CLASSES[name]
    raise _unknown("loss", name, [*_FUNCTIONS, *_CLASSES])


def serialize(loss) -> dict | None:
    """A JSON-able config of a `Loss` or loss function, in Keras 3's layout."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return {
            "module": "keras.losses",
            "class_name": type(loss).__name__,
            "config": loss.get_config(),
            "registered_name": None if type(loss).__name__ in _CLASSES else type(loss).__name__,
        }
    if callable(loss):
        name = _callable_name(loss)
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}  # fmt: skip
    raise TypeError(f"`loss` must be a Loss or a function. Received: loss={loss!r}")


def deserialize(config, custom_objects: dict | None = None):
    """A `Loss` (or loss function) from `serialize`'s output, a Keras 2 `{'class_name', 'config'}`
    dict, or a name. Unknown names raise `ValueError`; custom ones come from `custom_objects`."""
    if config is None:
        return None
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        return obj() if inspect.isclass(obj) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Could not deserialize loss: expected a name or a dict with 'class_name' and "
            f"'config'. Received: config={config!r}"
        )
    class_name, inner = config["class_name"], config.get("config", {})
    if class_name == "function":
        return _lookup(inner, custom_objects)
    cls = _lookup(class_name, custom_objects)
    if not inspect.isclass(cls):
        return cls
    inner = dict(inner or {})
    if isinstance(inner.get("fn"), (dict, str)):
        inner["fn"] = deserialize(inner["fn"], custom_objects)
    return cls.from_config(inner)


def get(identifier) -> Loss | None:
    """Resolve a loss identifier to a `Loss` object.

    Args:
        identifier: A name (`"mse"`, `"categorical_crossentropy"`, `"Huber"`, Keras 2 aliases),
            a config dict, a `Loss` instance (returned as is) or class, a function
            `fn(y_true, y_pred)` (wrapped in a `LossFunctionWrapper` named `fn.__name__`), or
            None (returns None).

    Returns:
        A `Loss`. Function names give a wrapper named after the function (`get("mse").name`
        is `"mean_squared_error"`).

    Raises:
        ValueError: If the identifier names no loss; the message lists close and valid names.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj) and issubclass(obj, Loss):
        obj = obj()
    if isinstance(obj, Loss):
        return obj
    if callable(obj) and not inspect.isclass(obj):
        return LossFunctionWrapper(obj, name=_callable_name(obj))
    raise ValueError(f"Could not interpret loss identifier. Received: loss={identifier!r}")


def is_binary_or_sparse_categorical(y_true_shape, y_pred_shape) -> tuple[bool, bool]:
    """Keras 3's test on static shapes: binary if `y_pred` ends in 1; sparse if `y_true` has a
    lower rank, or ends in 1 while `y_pred` does not. `y_true_shape=None` means unknown."""
    y_pred_shape = tuple(y_pred_shape)
    y_true_shape = y_pred_shape if y_true_shape is None else tuple(y_true_shape)
    t_last = y_true_shape[-1] if y_true_shape else None
    p_last = y_pred_shape[-1] if y_pred_shape else None
    is_binary = p_last == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        t_last == 1 and p_last is not None and p_last > 1
    )
    return is_binary, is_sparse


def get_compile_loss(identifier, y_true_shape, y_pred_shape) -> Loss | None:
    """`get`, plus Keras 3's `"crossentropy"`/`"ce"` shorthand picked from the shapes (binary,
    sparse categorical or categorical), keeping the name the user wrote."""
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
        fn = (
            binary_crossentropy if is_binary
            else sparse_categorical_crossentropy if is_sparse
            else categorical_crossentropy
        )  # fmt: skip
        return LossFunctionWrapper(fn, name=identifier)
    return get(identifier)
