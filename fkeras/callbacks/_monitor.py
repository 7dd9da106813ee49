"""Callbacks that watch one logged quantity: `EarlyStopping` and `ReduceLROnPlateau`.

They share Keras 3's `MonitorCallback` rules: `mode="auto"` picks the direction from the name
(see `_auto_direction`), and a value improves on the reference when
`value - min_delta < best` (minimising) or `value - min_delta > best` (maximising), compared in
float32 as Keras 3's `ops.less`/`ops.greater` do on the JAX backend.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import jax
import numpy as np

from fkeras.callbacks._callback import Callback, Logs
from fkeras.utils._progbar import print_msg

__all__ = ["EarlyStopping", "MonitorCallback", "ReduceLROnPlateau"]

# Metric names Keras 3 marks as maximised (`_direction = "up"`), and Keras 2's name rule.
_UP_NAMES = frozenset(
    {
        "acc", "accuracy", "binary_accuracy", "categorical_accuracy",
        "sparse_categorical_accuracy", "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy", "auc", "precision", "recall", "f1_score",
        "fbeta_score", "r2_score", "cosine_similarity", "pearson_correlation",
        "concordance_correlation", "iou", "mean_iou", "binary_iou", "one_hot_iou",
        "one_hot_mean_iou", "precision_at_recall", "recall_at_precision",
        "sensitivity_at_specificity", "specificity_at_sensitivity",
    }
)  # fmt: skip


def _auto_direction(name: str, model: Any) -> str:
    """Returns "min" or "max" for a monitored name, following Keras 3, then Keras 2.

    Keras 3: `loss` is minimised; otherwise a model metric of that name with a `_direction`
    decides. fkeras then looks the name up among Keras's maximised built-in metrics (also with
    a `_1` suffix or an output-name prefix), and finally applies Keras 2's rule (names holding
    "acc" or starting with "fmeasure" are maximised, all others minimised) where Keras 3 would
    raise, so that Keras 2 scripts monitoring custom metrics keep working.
    """
    name = name.removeprefix("val_")
    direction = "min" if name == "loss" else None
    for metric in getattr(model, "metrics", None) or ():
        for inner in getattr(metric, "metrics", None) or (metric,):
            if getattr(inner, "name", None) == name and hasattr(inner, "_direction"):
                direction = "max" if inner._direction == "up" else "min"
    if direction is not None:
        return direction
    base = re.sub(r"_\d+$", "", name)
    if any(base == up or base.endswith("_" + up) for up in _UP_NAMES):
        return "max"
    return "max" if "acc" in name or name.startswith("fmeasure") else "min"


# ---- argument checks shared by the callbacks (raise at construction, not in the middle of fit) --


def check_number(owner: str, name: str, value: Any, *, integer: bool = False,
                 minimum: float | None = None, allow_none: bool = False, allow_bool: bool = False):
    """`value` if it is a real number (an int if `integer`) `>= minimum`; else a ValueError."""
    if value is None and allow_none:
        return None
    is_bool = isinstance(value, (bool, np.bool_))
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = (allow_bool and is_bool) or (isinstance(value, kinds) and not is_bool)
    if ok and minimum is not None and not value >= minimum:  # NaN fails too
        ok = False
    if not ok:
        expected = "an integer" if integer else "a number"
        if minimum is not None:
            expected += f" >= {minimum}"
        raise ValueError(
            f"{owner}: `{name}` must be {expected}{' or None' if allow_none else ''}. "
            f"Received: {name}={value!r}"
        )
    return value


def check_path(owner: str, name: str, value: Any) -> str:
    """A file path (str or os.PathLike, not empty) as a string; else a TypeError/ValueError."""
    import os

    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{owner}: `{name}` must be a path (a string or os.PathLike). "
            f"Received: {name}={value!r}"
        )
    path = os.fspath(value)
    if not isinstance(path, str) or not path:
        raise ValueError(f"{owner}: `{name}` must be a non-empty path. Received: {name}={value!r}")
    return path


def _compare_dtype() -> type:
    return np.float64 if jax.config.jax_enable_x64 else np.float32


class MonitorCallback(Callback):
    """Base of the callbacks that track whether a monitored quantity improves.

    Args:
        monitor: Name of the quantity in the epoch logs.
        mode: `"auto"`, `"min"` or `"max"`; an unknown mode warns and falls back to `"auto"`.
        baseline: Initial reference value ("best"), or `None` to take the first value seen.
        min_delta: Smallest change that counts as an improvement (its sign is ignored).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str):
            raise TypeError(
                f"{owner}: `monitor` must be a metric name. "
                f"Received: monitor={monitor!r}"
            )
        if not isinstance(mode, str):
            raise TypeError(
                f"{owner}: `mode` must be 'auto', 'min' or 'max'. "
                f"Received: mode={mode!r}"
            )
        check_number(owner, "baseline", baseline, allow_none=True)
        check_number(owner, "min_delta", min_delta)
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op: Any = None

    def _set_monitor_op(self) -> None:
        direction = self.mode if self.mode != "auto" else _auto_direction(self.monitor, self.model)
        self.monitor_op = np.less if direction == "min" else np.greater
        if direction == "min":
            self.min_delta *= -1

    def _is_improvement(self, monitor_value: Any, reference_value: Any) -> bool:
        if reference_value is None:
            return True
        dtype = _compare_dtype()
        return bool(self.monitor_op(dtype(monitor_value - self.min_delta), dtype(reference_value)))


def _read_lr(optimizer: Any) -> float:
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(np.asarray(optimizer.learning_rate))


class EarlyStopping(MonitorCallback):
    """Stops training when a monitored quantity has stopped improving.

    At the end of each epoch (from `start_from_epoch` on), a value that improves on the best
    one by more than `min_delta` becomes the best; after `patience` epochs without one,
    `model.stop_training` is set.

    Args:
        monitor: Quantity to watch, e.g. `"val_loss"`.
        min_delta: Smallest change that counts as an improvement.
        patience: Number of epochs without improvement before stopping.
        verbose: 1 prints a line when stopping and when restoring weights.
        mode: `"auto"`, `"min"` or `"max"`.
        baseline: Value to beat: the patience counter only restarts when an improvement also
            beats it.
        restore_best_weights: Restores the weights of the best epoch at the end of training.
        start_from_epoch: Number of warm-up epochs not monitored.

    Example:
        >>> stop = EarlyStopping(monitor="loss", patience=3)
        >>> # model.fit(x, y, epochs=100, callbacks=[stop])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        check_number("EarlyStopping", "patience", patience, integer=True, minimum=0)
        check_number("EarlyStopping", "verbose", verbose, integer=True, minimum=0,
                     allow_bool=True)
        check_number("EarlyStopping", "start_from_epoch", start_from_epoch, integer=True, minimum=0)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs: Logs | None = None) -> None:
        # Reset so that the same instance can serve several `fit` calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Nothing better seen yet: the current weights are the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: Logs | None) -> Any:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when a monitored quantity stops improving.

    After `patience` epochs without improvement, `lr` becomes `max(lr * factor, min_lr)`, then
    `cooldown` epochs pass before the counting resumes. The current learning rate is added to
    the epoch logs as `learning_rate` (Keras 3's key; Keras 2 wrote `lr`).

    Args:
        monitor: Quantity to watch.
        factor: Multiplier of the learning rate, below 1.
        patience: Number of epochs without improvement before reducing.
        verbose: 1 prints a line at each reduction.
        mode: `"auto"`, `"min"` or `"max"`.
        min_delta: Smallest change that counts as an improvement.
        cooldown: Number of epochs to wait after a reduction.
        min_lr: Lower bound of the learning rate.
        epsilon: Keras 2's name of `min_delta` (deprecated); overrides it when given.

    Raises:
        ValueError: If `factor >= 1`.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        epsilon: float | None = None,
    ) -> None:
        if epsilon is not None:
            warnings.warn(
                "`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                stacklevel=2,
            )
            min_delta = epsilon
        super().__init__(monitor, mode, min_delta=min_delta)
        check_number("ReduceLROnPlateau", "factor", factor, minimum=0.0)
        check_number("ReduceLROnPlateau", "min_lr", min_lr, minimum=0.0)
        check_number("ReduceLROnPlateau", "patience", patience, integer=True, minimum=0)
        check_number("ReduceLROnPlateau", "cooldown", cooldown, integer=True, minimum=0)
        check_number("ReduceLROnPlateau", "verbose", verbose, integer=True, minimum=0,
                     allow_bool=True)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs or {}
        logs["learning_rate"] = _read_lr(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce_lr(self, epoch: int) -> bool:
        optimizer = self.model.optimizer
        old_lr = _read_lr(optimizer)
        # The learning rate is a float32 variable: compare with the bound as stored.
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True
