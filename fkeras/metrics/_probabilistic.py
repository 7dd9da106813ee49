"""Probabilistic and hinge metrics: means of the matching Keras losses."""

from __future__ import annotations

from typing import Any

from fkeras import losses as _losses
from fkeras.metrics._base import _BuiltinMeanMetric


class KLDivergence(_BuiltinMeanMetric):
    """The mean Kullback-Leibler divergence over the samples seen."""

    def __init__(self, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(_losses.kl_divergence, name, dtype)


class Poisson(_BuiltinMeanMetric):
    """The mean Poisson loss over the samples seen."""

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(_losses.poisson, name, dtype)


class BinaryCrossentropy(_BuiltinMeanMetric):
    """The mean binary crossentropy over the samples seen."""

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
    ):
        super().__init__(
            _losses.binary_crossentropy, name, dtype,
            from_logits=from_logits, label_smoothing=label_smoothing,
        )  # fmt: skip


class CategoricalCrossentropy(_BuiltinMeanMetric):
    """The mean categorical crossentropy over the samples seen."""

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
        axis: int = -1,
    ):
        super().__init__(
            _losses.categorical_crossentropy, name, dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class SparseCategoricalCrossentropy(_BuiltinMeanMetric):
    """The mean sparse categorical crossentropy over the samples seen."""

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ):
        super().__init__(
            _losses.sparse_categorical_crossentropy, name, dtype,
            from_logits=from_logits, ignore_class=ignore_class, axis=axis,
        )  # fmt: skip


class Hinge(_BuiltinMeanMetric):
    """The mean hinge loss over the samples seen."""

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(_losses.hinge, name, dtype)


class SquaredHinge(_BuiltinMeanMetric):
    """The mean squared hinge loss over the samples seen."""

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        super().__init__(_losses.squared_hinge, name, dtype)


class CategoricalHinge(_BuiltinMeanMetric):
    """The mean categorical hinge loss over the samples seen."""

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(_losses.categorical_hinge, name, dtype)
