"""Regression metrics: means of Keras's regression losses, and the root mean squared error."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fkeras import losses as _losses
from fkeras.metrics._base import Mean, State, _BuiltinMeanMetric

Array = jax.Array


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Array:
    """`sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: 1 is the best value.

    The metric's sign is the opposite of the loss `fkeras.losses.cosine_similarity`.
    """
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(_BuiltinMeanMetric):
    """The mean of `mean_squared_error` over the samples seen."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(_losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(_BuiltinMeanMetric):
    """The mean of `mean_absolute_error` over the samples seen."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(_losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(_BuiltinMeanMetric):
    """The mean of `mean_absolute_percentage_error` over the samples seen."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(_losses.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(_BuiltinMeanMetric):
    """The mean of `mean_squared_logarithmic_error` over the samples seen."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(_losses.mean_squared_logarithmic_error, name, dtype)


class CosineSimilarity(_BuiltinMeanMetric):
    """The mean cosine similarity along `axis` (Keras's config leaves `axis` out; this keeps it)."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(cosine_similarity, name, dtype, axis=axis)


class LogCoshError(_BuiltinMeanMetric):
    """The mean of `log_cosh` over the samples seen."""

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(_losses.log_cosh, name, dtype)


class RootMeanSquaredError(Mean):
    """`sqrt` of the (weighted) mean of the squared errors seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update(self, state: State, y_true, y_pred, sample_weight=None) -> State:
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_true, y_pred = _losses.squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self._accumulate(state, jnp.square(y_pred - y_true), sample_weight)

    def compute(self, state: State) -> Array:
        return jnp.sqrt(super().compute(state))
