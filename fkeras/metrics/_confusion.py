"""Confusion-matrix metrics: true/false positive/negative counts, precision, recall, AUC.

All of them accumulate weighted counts at a list of thresholds: a prediction is positive at
threshold `t` when `y_pred > t`. Evenly spaced thresholds (AUC's default) use Keras's bucketed
O(N + T) update instead of comparing every prediction with every threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import losses as _losses
from fkeras._config import epsilon
from fkeras.metrics._base import Metric, State, StateSpec, check_int

Array = jax.Array
NEG_INF = -1e10
_COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def _to_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def parse_thresholds(thresholds, default: float = 0.5) -> list[float]:
    """`thresholds` as a list, checked to lie in [0, 1]; `default` when None."""
    if thresholds is not None:
        bad = [t for t in _to_list(thresholds) if not _is_real(t) or t < 0 or t > 1]
        if bad:
            raise ValueError(
                f"Threshold values must be in [0, 1]. Received: thresholds={thresholds!r}"
            )
    return _to_list(default if thresholds is None else thresholds)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def is_evenly_distributed(thresholds) -> bool:
    """Whether thresholds are `i / (n - 1)` for `i = 0 .. n-1` (n >= 3), up to epsilon."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=epsilon()))


def _filter_top_k(x: Array, k: int) -> Array:
    _, idx = jax.lax.top_k(x, k)
    keep = jnp.sum(jax.nn.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * keep + NEG_INF * (1 - keep)


def _bucketed_counts(y_true, y_pred, thresholds, multi_label, weights, with_epsilon):
    # Predictions fall in buckets between evenly spaced thresholds; a reversed cumulative sum
    # over buckets counts, for each threshold, the predictions above it.
    n = thresholds.shape[0]
    y_pred = jnp.clip(y_pred, 0.0, 1.0)
    y_true = y_true.astype(bool).astype(y_true.dtype)
    if not multi_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    true_labels = y_true * weights
    false_labels = (1.0 - y_true) * weights
    buckets = jnp.ceil(y_pred * (jnp.asarray(n, y_pred.dtype) - 1)) - 1
    if with_epsilon:
        buckets = jax.nn.relu(buckets)
    buckets = buckets.astype(jnp.int32)

    def above(labels, ids):
        return jnp.flip(jnp.cumsum(jnp.flip(jax.ops.segment_sum(labels, ids, n))))

    if multi_label:
        tp = jax.vmap(above, in_axes=1, out_axes=1)(true_labels, buckets)
        fp = jax.vmap(above, in_axes=1, out_axes=1)(false_labels, buckets)
        total_true, total_false = jnp.sum(true_labels, axis=0), jnp.sum(false_labels, axis=0)
    else:
        tp, fp = above(true_labels, buckets), above(false_labels, buckets)
        total_true, total_false = jnp.sum(true_labels), jnp.sum(false_labels)
    return {
        "true_positives": tp,
        "false_positives": fp,
        "true_negatives": total_false - fp,
        "false_negatives": total_true - tp,
    }


def confusion_counts(
    y_true,
    y_pred,
    thresholds: Sequence[float],
    *,
    dtype: Any = "float32",
    top_k: int | None = None,
    class_id: int | None = None,
    sample_weight=None,
    multi_label: bool = False,
    label_weights=None,
    evenly: bool = False,
) -> dict[str, Array]:
    """Weighted TP/FP/TN/FN counts of one batch at each threshold (Keras's
    `update_confusion_matrix_variables`, returning the increments).

    Returns:
        A dict with the four counts, each of shape `(len(thresholds),)`, or
        `(len(thresholds), num_labels)` when `multi_label`.
    """
    y_true = jnp.asarray(y_true).astype(dtype)
    y_pred = jnp.asarray(y_pred).astype(dtype)
    with_epsilon = bool(evenly and (thresholds[0] < 0.0 or thresholds[-1] > 1.0))
    thresholds = jnp.asarray(np.asarray(thresholds), dtype)
    y_pred, y_true = _losses.squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = jnp.expand_dims(jnp.asarray(sample_weight, dtype), -1)
        _, sample_weight = _losses.squeeze_or_expand_to_same_rank(
            y_true, sample_weight, expand_rank_1=False
        )
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When `class_id` is given, `y_pred` must have shape (num_samples, num_classes). "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]

    flat = (lambda x: x) if multi_label else (lambda x: x.reshape(-1))
    weights = jnp.asarray(1.0, dtype)
    if sample_weight is not None:
        weights = flat(jnp.broadcast_to(sample_weight.astype(y_pred.dtype), y_pred.shape))
    if label_weights is not None and not multi_label:
        lw = jnp.broadcast_to(jnp.expand_dims(jnp.asarray(label_weights, dtype), 0), y_pred.shape)
        weights = weights * flat(lw)
    if evenly:
        return _bucketed_counts(y_true, y_pred, thresholds, multi_label, weights, with_epsilon)

    # Compare every prediction with every threshold: (thresholds, predictions[, labels]).
    if multi_label:
        preds, labels = y_pred[None], y_true.astype(bool)[None]
        thresh = thresholds.reshape(-1, 1, 1)
    else:
        preds, labels = y_pred.reshape(1, -1), y_true.astype(bool).reshape(1, -1)
        thresh = thresholds.reshape(-1, 1)
        weights = weights.reshape(1, -1) if weights.ndim else weights
    if multi_label and weights.ndim:
        weights = weights[None]
    pred_pos = preds > thresh
    label_pos = jnp.broadcast_to(labels, pred_pos.shape)

    def count(label, pred):
        return jnp.sum(jnp.where(label & pred, weights, 0).astype(dtype), axis=1)

    return {
        "true_positives": count(label_pos, pred_pos),
        "false_positives": count(~label_pos, pred_pos),
        "true_negatives": count(~label_pos, ~pred_pos),
        "false_negatives": count(label_pos, ~pred_pos),
    }


class _ThresholdMetric(Metric):
    """Shared machinery: counts named in `_counts` at `self.thresholds`."""

    _counts: tuple[str, ...] = _COUNTS
    top_k: int | None = None
    class_id: int | None = None

    def _count_shape(self) -> tuple[int, ...]:
        return (len(self.thresholds),)

    def state_spec(self) -> StateSpec:
        return {k: (self._count_shape(), self.dtype) for k in self._counts}

    def update(self, state: State, y_true, y_pred, sample_weight=None) -> State:
        counts = confusion_counts(
            y_true, y_pred, self.thresholds, dtype=self.dtype, top_k=self.top_k,
            class_id=self.class_id, sample_weight=sample_weight, evenly=self._evenly,
        )  # fmt: skip
        return {k: state[k] + counts[k] for k in self._counts}

    def _squeeze(self, value: Array) -> Array:
        return value[0] if len(self.thresholds) == 1 else value


class _ConditionCount(_ThresholdMetric):
    def __init__(self, count: str, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._counts = (count,)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        self._evenly = is_evenly_distributed(self.thresholds)

    def compute(self, state: State) -> Array:
        return self._squeeze(state[self._counts[0]])

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """Weighted count of positive labels predicted positive (`y_pred > threshold`)."""

    def __init__(self, thresholds=None, name: str | None = None, dtype: Any = None):
        super().__init__("true_positives", thresholds, name, dtype)


class FalsePositives(_ConditionCount):
    """Weighted count of negative labels predicted positive."""

    def __init__(self, thresholds=None, name: str | None = None, dtype: Any = None):
        super().__init__("false_positives", thresholds, name, dtype)


class TrueNegatives(_ConditionCount):
    """Weighted count of negative labels predicted negative."""

    def __init__(self, thresholds=None, name: str | None = None, dtype: Any = None):
        super().__init__("true_negatives", thresholds, name, dtype)


class FalseNegatives(_ConditionCount):
    """Weighted count of positive labels predicted negative."""

    def __init__(self, thresholds=None, name: str | None = None, dtype: Any = None):
        super().__init__("false_negatives", thresholds, name, dtype)


class _PrecisionRecall(_ThresholdMetric):
    def __init__(self, other: str, thresholds, top_k, class_id, name, dtype):
        super().__init__(name=name, dtype=dtype)
        self._counts = ("true_positives", other)
        self.init_thresholds = thresholds
        self.top_k = check_int(type(self).__name__, "top_k", top_k, minimum=1, allow_none=True)
        self.class_id = check_int(
            type(self).__name__, "class_id", class_id, minimum=0, allow_none=True
        )
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = is_evenly_distributed(self.thresholds)

    def compute(self, state: State) -> Array:
        tp, other = state[self._counts[0]], state[self._counts[1]]
        return self._squeeze(_losses.divide_no_nan(tp, tp + other))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """`tp / (tp + fp)` at each threshold; `top_k` keeps only the top predictions positive,
    `class_id` looks at one class of multi-class predictions."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__("false_positives", thresholds, top_k, class_id, name, dtype)


class Recall(_PrecisionRecall):
    """`tp / (tp + fn)` at each threshold; `top_k` and `class_id` as for `Precision`."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__("false_negatives", thresholds, top_k, class_id, name, dtype)


class _SensitivitySpecificityBase(_ThresholdMetric):
    """All four counts at `num_thresholds` evenly spaced thresholds; the result is the best
    value of one rate among the thresholds where another rate meets a constraint."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        num_thresholds = check_int(type(self).__name__, "num_thresholds", num_thresholds, minimum=1)
        self.value = value
        self.class_id = check_int(
            type(self).__name__, "class_id", class_id, minimum=0, allow_none=True
        )
        self.num_thresholds = num_thresholds
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0, *inner, 1.0], True

    def _rates(self, state: State) -> dict[str, Array]:
        tp, fp, tn, fn = (state[k] for k in _COUNTS)
        return {
            "sensitivity": _losses.divide_no_nan(tp, tp + fn),
            "specificity": _losses.divide_no_nan(tn, tn + fp),
            "precision": _losses.divide_no_nan(tp, tp + fp),
        }

    def _max_under_constraint(self, constrained: Array, dependent: Array) -> Array:
        return jnp.max(jnp.where(constrained >= self.value, dependent, 0), initial=0)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds}  # fmt: skip


def _check_rate(name: str, value: float) -> None:
    if not _is_real(value) or value < 0 or value > 1:
        raise ValueError(
            f"Argument `{name}` must be in the range [0, 1]. "
            f"Received: {name}={value!r}"
        )


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall) where specificity is at least `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("specificity", specificity)
        self.specificity = specificity
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def compute(self, state: State) -> Array:
        r = self._rates(state)
        return self._max_under_constraint(r["specificity"], r["sensitivity"])

    def get_config(self) -> dict:
        return {**super().get_config(), "specificity": self.specificity}


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity where sensitivity (recall) is at least `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def compute(self, state: State) -> Array:
        r = self._rates(state)
        return self._max_under_constraint(r["sensitivity"], r["specificity"])

    def get_config(self) -> dict:
        return {**super().get_config(), "sensitivity": self.sensitivity}


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision where recall is at least `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("recall", recall)
        self.recall = recall
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def compute(self, state: State) -> Array:
        r = self._rates(state)
        return self._max_under_constraint(r["sensitivity"], r["precision"])

    def get_config(self) -> dict:
        return {**super().get_config(), "recall": self.recall}


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall where precision is at least `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("precision", precision)
        self.precision = precision
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def compute(self, state: State) -> Array:
        r = self._rates(state)
        return self._max_under_constraint(r["precision"], r["sensitivity"])

    def get_config(self) -> dict:
        return {**super().get_config(), "precision": self.precision}
