"""NumPy helpers from `keras.utils`: `to_categorical` and `normalize`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _config


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """Converts integer class labels to one-hot rows, as Keras does.

    A trailing axis of size 1 is dropped before encoding, so labels of shape `(n,)` and `(n, 1)`
    both give `(n, num_classes)`, and `(n, t, 1)` gives `(n, t, num_classes)`.

    Args:
        y: Integer labels (array-like) in `[0, num_classes)`.
        num_classes: Number of classes; by default `max(y) + 1`.
        dtype: The dtype of the result (Keras 2's argument; Keras 3 returns float64).

    Returns:
        A NumPy array of shape `y.shape (without a trailing 1) + (num_classes,)`.

    Raises:
        ValueError: if a label is negative or not below `num_classes`.

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    try:
        y = np.array(y, dtype="int64")
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            "to_categorical: `y` must be integer class labels (an array-like of ints). "
            f"Received: y={_short_repr(y)}"
        ) from None
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 0
    ):
        raise ValueError(
            "to_categorical: `num_classes` must be a non-negative integer or None. "
            f"Received: num_classes={_short_repr(num_classes)}"
        )
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"to_categorical: invalid `dtype`. Received: dtype={_short_repr(dtype)}") from None
    input_shape = y.shape
    if len(input_shape) > 1 and input_shape[-1] == 1:
        input_shape = input_shape[:-1]
    y = y.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, num_classes={num_classes}). "
            f"Received: labels from {y.min()} to {y.max()}"
        )
    try:
        categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    except (ValueError, MemoryError):
        raise ValueError(
            f"to_categorical: {y.shape[0]} x num_classes={num_classes} is too large an array."
        ) from None
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape(tuple(input_shape) + (num_classes,))


def _short_repr(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray | jax.Array:
    """Divides `x` by its `order`-norm along `axis`.

    NumPy input takes Keras's NumPy path (a zero norm is left as 1, so zero rows stay zero) and
    returns NumPy; a JAX array takes Keras's tensor path (`ops.normalize`: the divisor is at
    least `epsilon`) and returns a JAX array, usable under `jax.jit`.

    Args:
        x: Array to normalize.
        axis: Axis along which to normalize.
        order: Norm order (2 for L2).

    Returns:
        The normalized array.
    """
    if isinstance(x, jax.Array):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
        if x.ndim == 0:
            x = x[None]
        eps = _config.epsilon()
        if order == 2:
            inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
            return x * jnp.minimum(inv_norm, 1.0 / eps)
        norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
        return x / jnp.maximum(norm, eps)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis if axis is not None else -1)
