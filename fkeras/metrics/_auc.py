"""`AUC`: area under the ROC or precision-recall curve, by a Riemann sum over thresholds."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import losses as _losses
from fkeras._config import epsilon
from fkeras.metrics._base import Metric, State, StateSpec, check_int
from fkeras.metrics._confusion import (
    _COUNTS,
    confusion_counts,
    is_evenly_distributed,
    parse_thresholds,
)

Array = jax.Array
_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _curve(curve: Any) -> str:
    value = getattr(curve, "value", curve)
    if not isinstance(value, str) or value.lower() not in _CURVES:
        raise ValueError(
            f"Invalid AUC curve value. Expected one of {list(_CURVES.values())}. "
            f"Received: curve={curve!r}"
        )
    return _CURVES[value.lower()]


def _summation(method: Any) -> str:
    value = getattr(method, "value", method)
    if not isinstance(value, str) or value.lower() not in _SUMMATIONS:
        raise ValueError(
            f"Invalid AUC summation method value. Expected one of {list(_SUMMATIONS)}. "
            f"Received: summation_method={method!r}"
        )
    return value.lower()


class AUC(Metric):
    """Area under the ROC curve (`curve="ROC"`), the precision-recall curve (`"PR"`) or the
    precision-recall-gain curve (`"PRGAIN"`), as Keras 3 computes it.

    The four confusion counts are accumulated at `num_thresholds` thresholds (evenly spaced in
    [0, 1], plus `-epsilon` and `1 + epsilon` at the ends), or at `thresholds` when given.
    `summation_method="interpolation"` uses the trapezoidal rule for ROC and Davis & Goadrich's
    interpolation for PR; `"minoring"`/`"majoring"` use lower/upper rectangles.

    Args:
        num_thresholds: Number of thresholds (> 1) when `thresholds` is None.
        curve: `"ROC"`, `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"`, `"minoring"` or `"majoring"`.
        name: See `Metric`.
        dtype: See `Metric`.
        thresholds: Optional thresholds in [0, 1].
        multi_label: Treat each column of 2-D inputs as its own label and average the AUCs
            (weighted by `label_weights` when given).
        num_labels: Number of labels when `multi_label`; otherwise taken from the first batch.
        label_weights: Optional per-label weights.
        from_logits: Apply a sigmoid to `y_pred` first.
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds=None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights=None,
        from_logits: bool = False,
    ):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            thresholds = parse_thresholds(thresholds)
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._evenly = is_evenly_distributed(np.array([0.0, *thresholds, 1.0]))
        else:
            check_int("AUC", "num_thresholds", num_thresholds)
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        # End points just outside [0, 1] absorb floating point imprecision.
        self._thresholds = np.array([0.0 - epsilon(), *thresholds, 1.0 + epsilon()])
        self.curve = _curve(curve)
        self.summation_method = _summation(summation_method)
        super().__init__(name=name, dtype=dtype)
        check_int("AUC", "num_labels", num_labels, minimum=1, allow_none=True)
        if not isinstance(multi_label, (bool, int, np.bool_)):
            raise ValueError(
                f"AUC: argument `multi_label` must be a bool. "
                f"Received: multi_label={multi_label!r}"
            )
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.multi_label = multi_label
        self.num_labels = num_labels
        self._num_labels = num_labels
        self.label_weights = None if label_weights is None else list(label_weights)
        self._from_logits = from_logits

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, end points included."""
        return list(self._thresholds)

    def build(self, y_true_shape, y_pred_shape) -> None:
        """Take the number of labels from `y_pred`'s shape when `multi_label`."""
        del y_true_shape
        if not self.multi_label or self._num_labels:
            return
        if y_pred_shape is None or len(y_pred_shape) != 2 or y_pred_shape[1] is None:
            raise ValueError(
                "`y_pred` must have rank 2 with a known last dimension when "
                f"`multi_label=True`. Received: y_pred.shape={y_pred_shape}"
            )
        self._num_labels = int(y_pred_shape[1])

    def state_spec(self) -> StateSpec:
        if self.multi_label and not self._num_labels:
            raise ValueError(
                f"AUC {self.name!r} with `multi_label=True` needs `num_labels` (or a call to "
                "`build(y_true_shape, y_pred_shape)`) before its state can be created."
            )
        shape = (self.num_thresholds, self._num_labels) if self.multi_label else (
            self.num_thresholds,
        )
        return {k: (shape, self.dtype) for k in _COUNTS}

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self._state is None:
            self.build(None, jnp.shape(y_pred))
        super().update_state(y_true, y_pred, sample_weight)

    def update(self, state: State, y_true, y_pred, sample_weight=None) -> State:
        if self._from_logits:
            y_pred = jax.nn.sigmoid(jnp.asarray(y_pred))
        counts = confusion_counts(
            y_true,
            y_pred,
            self._thresholds,
            dtype=self.dtype,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            evenly=self._evenly,
        )
        return {k: state[k] + counts[k] for k in _COUNTS}

    def _average_labels(self, by_label: Array) -> Array:
        if self.label_weights is None:
            return jnp.mean(by_label)
        weights = jnp.asarray(self.label_weights, self.dtype)
        return _losses.divide_no_nan(jnp.sum(by_label * weights), jnp.sum(weights))

    def _interpolate_pr_auc(self, state: State) -> Array:
        # Davis & Goadrich (2006): interpolate TP and predicted positives linearly between
        # thresholds; precision along each segment then integrates in closed form.
        tp, fp, fn = state["true_positives"], state["false_positives"], state["false_negatives"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _losses.divide_no_nan(dtp, jnp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        safe_ratio = jnp.where(
            (p[:-1] > 0) & (p[1:] > 0),
            _losses.divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)),
            jnp.ones_like(p[1:]),
        )
        increments = _losses.divide_no_nan(
            slope * (dtp + intercept * jnp.log(safe_ratio)), jnp.maximum(tp[1:] + fn[1:], 0)
        )
        if self.multi_label:
            return self._average_labels(jnp.sum(increments, axis=0))
        return jnp.sum(increments)

    def _curve_points(self, state: State) -> tuple[Array, Array]:
        tp, fp, tn, fn = (state[k] for k in _COUNTS)
        recall = _losses.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            return _losses.divide_no_nan(fp, fp + tn), recall
        if self.curve == "PR":
            return recall, _losses.divide_no_nan(tp, tp + fp)
        # PRGAIN: no true positives gives recall gain 0 and precision gain 1; negative recall
        # gains are clipped to 0 (Keras's choices).
        scale = _losses.divide_no_nan(tp + fn, tn + fp)
        recall_gain = 1.0 - scale * _losses.divide_no_nan(fn, tp)
        precision_gain = 1.0 - scale * _losses.divide_no_nan(fp, tp)
        recall_gain = jnp.maximum(jnp.where(tp == 0.0, 0.0, recall_gain), 0.0)
        precision_gain = jnp.where(tp == 0.0, 1.0, precision_gain)
        return recall_gain, precision_gain

    def compute(self, state: State) -> Array:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(state)
        x, y = self._curve_points(state)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average_labels(jnp.sum(terms, axis=0))
        return jnp.sum(terms)

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config
