"""Accuracy metrics: per-sample match functions and their `MeanMetricWrapper` classes."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fkeras import losses as _losses
from fkeras._config import floatx
from fkeras.metrics._base import _BuiltinMeanMetric

Array = jax.Array


def _argmax(x: Array, axis: int = -1) -> Array:
    # As Keras's jax `argmax` on CPU: -0.0 ranks below +0.0 (it works around flush-to-zero).
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) and x.ndim:
        x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
        x = jnp.where((x == 0.0) & jnp.signbit(x), -jnp.finfo(x.dtype).tiny, x)
    return jnp.argmax(x, axis=axis)


def _float_pair(y_true, y_pred) -> tuple[Array, Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.inexact):
        y_pred = y_pred.astype(floatx())
    return jnp.asarray(y_true, y_pred.dtype), y_pred


def in_top_k(targets: Array, predictions: Array, k: int) -> Array:
    """Whether each target's score ranks among the `k` largest (ties count in its favour)."""
    at_label = jnp.take_along_axis(predictions, jnp.expand_dims(targets, -1), axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    rank = 1 + jnp.sum(predictions > at_label, axis=-1)
    return rank <= k


def accuracy(y_true, y_pred) -> Array:
    """1.0 where `y_true == y_pred`, else 0.0."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    y_true, y_pred = _losses.squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).astype(floatx())


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> Array:
    """1.0 where `y_true` equals `y_pred > threshold`, else 0.0."""
    y_pred, y_true = jnp.asarray(y_pred), jnp.asarray(y_true)
    y_true, y_pred = _losses.squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == y_pred).astype(floatx())


def categorical_accuracy(y_true, y_pred) -> Array:
    """1.0 where the arg-maxes of one-hot `y_true` and of `y_pred` agree, else 0.0."""
    y_true = _argmax(y_true)
    y_true, y_pred = _float_pair(y_true, y_pred)
    original_shape = y_true.shape
    reshape = y_true.ndim == y_pred.ndim
    if reshape:
        y_true = jnp.squeeze(y_true, -1)
    y_pred = _argmax(y_pred).astype(y_true.dtype)
    matches = (y_true == y_pred).astype(floatx())
    return matches.reshape(original_shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred) -> Array:
    """1.0 where integer `y_true` equals the arg-max of `y_pred`, else 0.0."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    original_shape = y_true.shape
    reshape = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if reshape:
        y_true = jnp.squeeze(y_true, -1)
    y_pred = _argmax(y_pred).astype(y_true.dtype)
    matches = (y_true == y_pred).astype(floatx())
    if reshape:
        matches = matches.reshape(original_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = jnp.squeeze(matches, -1)
    return matches


def _top_k_matches(y_true: Array, y_pred: Array, k: int, from_sorted_ids: bool = False) -> Array:
    original_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if y_true.ndim > 1:
        y_true = y_true.reshape(-1)
    if from_sorted_ids:
        matches = jnp.any(jnp.expand_dims(y_true, 1) == y_pred[:, :k], axis=1)
    else:
        matches = in_top_k(y_true, y_pred, k)
    return matches.astype(floatx()).reshape(original_shape)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> Array:
    """1.0 where the arg-max of one-hot `y_true` is among the `k` top scores of `y_pred`."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    return _top_k_matches(_argmax(y_true).astype(jnp.int32), y_pred, k)


def sparse_top_k_categorical_accuracy(
    y_true, y_pred, k: int = 5, from_sorted_ids: bool = False
) -> Array:
    """1.0 where integer `y_true` is among the `k` top scores of `y_pred` (or, with
    `from_sorted_ids`, among the first `k` ids of `y_pred`)."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype if from_sorted_ids else jnp.int32)
    return _top_k_matches(y_true, y_pred, k, from_sorted_ids)


class Accuracy(_BuiltinMeanMetric):
    """How often predictions equal labels."""

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(_BuiltinMeanMetric):
    """How often `y_pred > threshold` equals the binary label."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(_BuiltinMeanMetric):
    """How often the arg-max of the predictions matches that of one-hot labels."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(_BuiltinMeanMetric):
    """How often the arg-max of the predictions matches integer labels."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(_BuiltinMeanMetric):
    """How often one-hot labels are among the `k` top predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(_BuiltinMeanMetric):
    """How often integer labels are among the `k` top predictions."""

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ):
        super().__init__(
            sparse_top_k_categorical_accuracy, name, dtype, k=k, from_sorted_ids=from_sorted_ids
        )
