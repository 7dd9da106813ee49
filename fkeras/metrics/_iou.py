"""Intersection-over-union metrics for segmentation: `IoU`, `MeanIoU`, `BinaryIoU` and the
one-hot variants. They accumulate a `(num_classes, num_classes)` confusion matrix (rows: true
class, columns: predicted class), in an integer dtype by default as in Keras."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from fkeras._config import epsilon
from fkeras.metrics._accuracy import _argmax
from fkeras.metrics._base import Metric, State, StateSpec, check_int, check_real

Array = jax.Array


def confusion_matrix(labels, predictions, num_classes: int, weights=None, dtype="int32") -> Array:
    """`(num_classes, num_classes)` matrix adding `weights` (default 1) at `[label, prediction]`."""
    labels = jnp.asarray(labels).astype(dtype).reshape(-1)
    predictions = jnp.asarray(predictions).astype(dtype).reshape(-1)
    values = jnp.ones_like(predictions) if weights is None else jnp.asarray(weights).astype(dtype)
    matrix = jnp.zeros((num_classes, num_classes), dtype)
    return matrix.at[labels.astype(jnp.int32), predictions.astype(jnp.int32)].add(values)


class IoU(Metric):
    """Mean of `tp / (tp + fp + fn)` over `target_class_ids`, skipping classes never seen.

    Args:
        num_classes: Number of classes; the state is a `(num_classes, num_classes)` matrix.
        target_class_ids: Classes whose IoU is averaged.
        name: See `Metric`.
        dtype: State dtype; defaults to `"int32"` like Keras (weights are cast to it).
        ignore_class: A label to leave out (e.g. a "void" class).
        sparse_y_true: Whether labels are class ids (else one-hot, reduced by arg-max).
        sparse_y_pred: Whether predictions are class ids (else scores, reduced by arg-max).
        axis: The class axis of non-sparse inputs.
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        super().__init__(name=name, dtype="int32" if dtype is None else dtype)
        owner = type(self).__name__
        num_classes = check_int(owner, "num_classes", num_classes, minimum=1)
        ids_ok = isinstance(target_class_ids, (list, tuple, range)) and all(
            isinstance(i, numbers.Integral) and not isinstance(i, bool) and i >= 0
            for i in target_class_ids
        )
        if not ids_ok or not target_class_ids:
            raise ValueError(
                f"{owner}: argument `target_class_ids` must be a non-empty list of class ids (ints "
                f">= 0). Received: target_class_ids={target_class_ids!r}"
            )
        check_int(owner, "ignore_class", ignore_class, allow_none=True)
        check_int(owner, "axis", axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range [0, {num_classes}). "
                f"Received: target_class_ids={list(target_class_ids)}"
            )
        self.num_classes = num_classes
        self.target_class_ids = list(target_class_ids)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis

    def state_spec(self) -> StateSpec:
        return {"total_confusion_matrix": ((self.num_classes, self.num_classes), self.dtype)}

    def update(self, state: State, y_true, y_pred, sample_weight=None) -> State:
        if not self.sparse_y_true:
            y_true = _argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = _argmax(y_pred, axis=self.axis)
        y_true = jnp.asarray(y_true).astype(self.dtype).reshape(-1)
        y_pred = jnp.asarray(y_pred).astype(self.dtype).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `y_true` and `y_pred` must hold one class "
                "id per sample (set sparse_y_true/sparse_y_pred=False for one-hot or score "
                "inputs). "
                f"Received: {y_true.shape[0]} labels and {y_pred.shape[0]} predictions"
            )
        weight = jnp.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype)
        if weight.ndim > 1:
            weight = weight.reshape(-1)
        weight = jnp.broadcast_to(weight, y_true.shape)
        # Out-of-range ids (and the ignored class) add nothing, instead of being clipped.
        n = jnp.asarray(self.num_classes, y_true.dtype)
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != jnp.asarray(self.ignore_class, y_true.dtype))
        y_true, y_pred = jnp.where(valid, y_true, 0), jnp.where(valid, y_pred, 0)
        weight = jnp.where(valid, weight, 0).astype(self.dtype)
        current = confusion_matrix(y_true, y_pred, self.num_classes, weight, self.dtype)
        return {"total_confusion_matrix": state["total_confusion_matrix"] + current}

    def compute(self, state: State) -> Array:
        cm = state["total_confusion_matrix"]
        sum_over_row = jnp.sum(cm, axis=0).astype(self.dtype)
        sum_over_col = jnp.sum(cm, axis=1).astype(self.dtype)
        true_positives = jnp.diag(cm).astype(self.dtype)
        denominator = sum_over_row + sum_over_col - true_positives
        ids = jnp.asarray(self.target_class_ids, jnp.int32)
        true_positives = true_positives[ids].astype(jnp.float32)
        denominator = denominator[ids].astype(jnp.float32)
        valid = denominator > 1e-9
        iou = jnp.where(valid, true_positives / (denominator + epsilon()), 0.0)
        return jnp.sum(iou, axis=self.axis) / (jnp.sum(valid.astype(jnp.float32)) + epsilon())

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary labels against `y_pred >= threshold`, averaged over `target_class_ids`."""

    def __init__(
        self,
        target_class_ids: Sequence[int] = (0, 1),
        threshold: float = 0.5,
        name: str | None = None,
        dtype: Any = None,
    ):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = check_real("BinaryIoU", "threshold", threshold)

    def update(self, state: State, y_true, y_pred, sample_weight=None) -> State:
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = (jnp.asarray(y_pred).astype(jnp.float32) >= self.threshold).astype(self.dtype)
        return super().update(state, y_true, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}  # fmt: skip


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        num_classes = check_int(type(self).__name__, "num_classes", num_classes, minimum=1)
        super().__init__(
            num_classes, list(range(num_classes)), name=name, dtype=dtype,
            ignore_class=ignore_class, sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self) -> dict:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """`IoU` with one-hot labels (and, unless `sparse_y_pred`, score predictions)."""

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ):
        super().__init__(
            num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` with one-hot labels (and, unless `sparse_y_pred`, score predictions)."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ):
        super().__init__(
            num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
