"""Shape and reduction helpers of the losses (Keras 3's `keras.src.losses.loss`): validation of
`reduction`, dtype and keyword arguments, rank alignment, masks and sample weights, and the
weighted reductions every `Loss` and loss-based metric ends with. Pure `jax.numpy`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras._config import floatx

Array = jax.Array

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ----------------------------------------------------------------------------------------------
# Shape and reduction helpers (Keras 3's `keras.src.losses.loss`)
# ----------------------------------------------------------------------------------------------


def standardize_reduction(reduction: str | None) -> str | None:
    """Validate `reduction`, mapping Keras 2's `"auto"` to `"sum_over_batch_size"`."""
    if reduction is not None and not isinstance(reduction, str):
        raise ValueError(
            "Invalid value for argument `reduction`: expected a string, one of "
            f"{list(REDUCTIONS)}. "
            f"Received: reduction={reduction!r}"
        )
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {list(REDUCTIONS)}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def standardize_dtype(dtype: Any) -> str:
    """A dtype name; Keras's mixed policies (`"mixed_float16"`) give their compute dtype."""
    if dtype is None:
        return floatx()
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        return dtype[len("mixed_"):]
    if isinstance(dtype, str) and dtype in ("int", "float"):
        return {"int": "int32", "float": "float32"}[dtype]
    if isinstance(dtype, dict) or not isinstance(dtype, (str, type, jnp.dtype)):
        # np.dtype would read a list/tuple/dict as a structured dtype and an array elementwise
        raise TypeError(
            f"Invalid dtype: expected a dtype name such as 'float32'. "
            f"Received: dtype={dtype!r}"
        )
    try:
        resolved = jnp.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"Invalid dtype. Received: dtype={dtype!r}") from None
    if not (resolved.kind in "biuf" or jnp.issubdtype(resolved, jnp.floating)):
        raise TypeError(f"Invalid dtype: expected a real numeric dtype. Received: dtype={dtype!r}")
    return resolved.name


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_fn_kwargs(owner: str, kwargs: dict) -> None:
    """Check the keyword arguments of the built-in loss and metric functions at construction,
    so a wrong type is a clear error there rather than a JAX error at the first batch."""
    for key, value in kwargs.items():
        if key in ("from_logits", "apply_class_balancing", "from_sorted_ids"):
            ok, expected = isinstance(value, (numbers.Integral, np.bool_)), "a bool"
        elif key == "label_smoothing":
            ok, expected = _is_real(value) and 0 <= value <= 1, "a float in [0, 1]"
        elif key in ("alpha", "gamma", "delta", "threshold"):
            ok, expected = _is_real(value) and not math.isnan(value), "a float"
        elif key == "axis":
            ok, expected = _is_int(value), "an integer"
        elif key == "ignore_class":
            ok, expected = value is None or _is_int(value), "an integer or None"
        elif key == "k":
            ok, expected = _is_int(value) and value >= 1, "a positive integer"
        else:
            continue
        if not ok:
            raise ValueError(
                f"{owner}: argument `{key}` must be {expected}. "
                f"Received: {key}={value!r}"
            )


def check_axis(owner: str, axis, ndim: int) -> None:
    """An `axis` argument must name an axis of the inputs (rank `ndim`)."""
    if not -ndim <= int(axis) < ndim:
        raise ValueError(
            f"{owner}: `axis` must be in [-{ndim}, {ndim}) for inputs of rank {ndim}. "
            f"Received: axis={axis}"
        )


def squeeze_or_expand_to_same_rank(x1: Array, x2: Array, expand_rank_1: bool = True):
    """Make ranks agree when they differ by one and the longer array ends in a size-1 axis.

    The longer one loses its last axis, except that a rank-1 partner gains one when
    `expand_rank_1` (so `(B,)` against `(B, 1)` becomes `(B, 1)` and `(B, 1)`).
    """
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def divide_no_nan(x1: Array, x2: Array) -> Array:
    """`x1 / x2`, and 0 where `x2 == 0`."""
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.divide(x1, safe))


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean mask into the sample weights, as Keras does for masked outputs.

    For mean-like reductions the valid entries get `total / valid` so that dividing by the
    full size later averages over the valid entries only.
    """
    if mask is None:
        return sample_weight
    mask = jnp.asarray(mask)
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(math.prod(mask.shape), dtype)
        valid = jnp.sum(mask.astype(dtype))
        float_mask = jnp.where(mask.astype(bool), divide_no_nan(total, valid), 0).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = jnp.asarray(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def check_weight_shape(values_shape: tuple, weight_shape: tuple) -> None:
    """Raise a ValueError (while tracing: shapes are static) if sample weights cannot weight
    loss values of `values_shape` under `reduce_weighted_values`'s rank rules."""
    v, w = tuple(values_shape), tuple(weight_shape)
    if len(w) == len(v) + 1 and w[-1] == 1:
        w = w[:-1]
    elif len(v) == len(w) + 1 and v[-1] == 1:
        v = v[:-1]
    w = w + (1,) * max(0, len(v) - len(w))  # per-sample weights broadcast over trailing axes
    if len(w) != len(v) or any(b not in (a, 1) for a, b in zip(v, w)):
        raise ValueError(
            f"`sample_weight` of shape {tuple(weight_shape)} does not fit the loss values of shape "
            f"{tuple(values_shape)}: give one weight per sample (shape `(batch,)`), or per "
            "timestep for a temporal loss (shape `(batch, timesteps)`)."
        )


def reduce_weighted_values(
    values,
    sample_weight=None,
    mask=None,
    reduction: str | None = "sum_over_batch_size",
    dtype: Any = None,
) -> Array:
    """Weight per-sample values and reduce them, with Keras 3's `reduce_weighted_values` rules.

    Args:
        values: Unreduced loss values, e.g. `(batch,)` or `(batch, timesteps)`.
        sample_weight: Optional weights; a rank differing by one with a trailing size-1 axis is
            squeezed or expanded to match, a lower rank broadcasts over the trailing axes.
        mask: Optional boolean mask of `values`' shape (a masked output's mask).
        reduction: One of `REDUCTIONS` (or Keras 2's `"auto"`).
        dtype: Computation dtype; defaults to `values`' own (`floatx()` for integers).

    Returns:
        The reduced value (a scalar), or the weighted values for `"none"`/`None`.
    """
    reduction = standardize_reduction(reduction)
    values = jnp.asarray(values)
    if dtype is not None or not jnp.issubdtype(values.dtype, jnp.inexact):
        values = values.astype(standardize_dtype(dtype))
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, values.dtype)
        check_weight_shape(values.shape, sample_weight.shape)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        # Keras 3 would raise on (batch,) weights against (batch, timesteps) values; broadcast
        # per-sample weights over the trailing axes as Keras 2 did.
        extra = len(values.shape) - len(sample_weight.shape)
        if sample_weight.ndim and extra > 0:
            sample_weight = sample_weight.reshape(sample_weight.shape + (1,) * extra)
        values = values * sample_weight
    return _reduce(values, sample_weight, reduction)


def _reduce(values: Array, sample_weight, reduction) -> Array:
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = jnp.sum(sample_weight).astype(loss.dtype)
    else:
        divisor = jnp.asarray(math.prod(values.shape), loss.dtype)
    return divide_no_nan(loss, divisor)


def reduce_values(
    values,
    sample_weight=None,
    reduction: str | None = "sum_over_batch_size",
    *,
    mask=None,
    dtype: Any = None,
) -> Array:
    """Apply a `Loss`'s reduction to unreduced values: what `loss(...)` does after `loss.call`.

    Unlike Keras's internal `reduce_values`, this multiplies by `sample_weight` first (it is
    `reduce_weighted_values`), so `reduce_values(loss.call(y, p), w, loss.reduction)` equals
    `loss(y, p, sample_weight=w)`.
    """
    return reduce_weighted_values(values, sample_weight, mask, reduction, dtype)
