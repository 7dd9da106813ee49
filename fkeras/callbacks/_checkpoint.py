"""`ModelCheckpoint`: saves the model or its weights during `fit`, as Keras 3 does."""

from __future__ import annotations

import os
import warnings

import numpy as np

from fkeras.callbacks._callback import Logs, save_due, steps_to_save
from fkeras.callbacks._monitor import MonitorCallback, check_number, check_path
from fkeras.utils._progbar import print_msg

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(MonitorCallback):
    """Saves the model (`model.save`) or its weights (`model.save_weights`) during training.

    `filepath` may hold format fields filled from `epoch` (1-based), `batch` (1-based, when
    saving every `save_freq` batches) and the logs, e.g. `"weights.{epoch:02d}-{val_loss:.2f}.h5"`.
    Unlike Keras 3, any file extension is accepted (Keras 2 scripts write `.hdf5`); the saving
    functions decide the format.

    Args:
        filepath: Path of the file to write, possibly with format fields.
        monitor: Quantity compared when `save_best_only=True`.
        verbose: 1 prints a line for each decision and each save.
        save_best_only: Saves only when the monitored quantity improves on the best so far.
        save_weights_only: Calls `model.save_weights` instead of `model.save`.
        mode: `"auto"`, `"min"` or `"max"`, the direction of improvement.
        save_freq: `"epoch"`, or a number of training batches between saves.
        initial_value_threshold: Initial best value to beat when `save_best_only=True`.
        period: Keras 2's number of epochs between saves (with `save_freq="epoch"`).

    Raises:
        ValueError: If `save_freq` is neither `"epoch"` nor an integer, or `period` is not a
            positive integer.

    Example:
        >>> checkpoint = ModelCheckpoint("best.weights.h5", save_weights_only=True,
        ...                              save_best_only=True)
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
        period: int | None = None,
    ) -> None:
        filepath = check_path("ModelCheckpoint", "filepath", filepath)
        super().__init__(monitor, mode, initial_value_threshold)
        if not (isinstance(save_freq, str) and save_freq == "epoch") and (
            not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq < 1
        ):
            raise ValueError(
                "`save_freq` must be 'epoch' or a positive integer number of batches. "
                f"Received: save_freq={save_freq!r}"
            )
        check_number("ModelCheckpoint", "verbose", verbose, integer=True, minimum=0,
                     allow_bool=True)
        if period is not None:
            if not isinstance(period, int) or period < 1:
                raise ValueError(
                    f"`period` must be a positive integer. Received: period={period!r}"
                )
            warnings.warn(
                "`period` argument is deprecated. Please use `save_freq` to specify the "
                "frequency in number of batches seen.",
                stacklevel=2,
            )
        self.verbose = verbose
        self.filepath = filepath
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.period = 1 if period is None else period
        self.epochs_since_last_save = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0

    def _uses_batch_hooks(self, kind: str) -> bool:
        return kind == "train" and self.save_freq != "epoch"

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch" and self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _steps_until_sync(self) -> int | None:
        return steps_to_save(self)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        return save_due(self, batch)

    def _should_save_model(self, epoch: int, logs: Logs, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. Received: "
                f"{current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: Logs | None) -> None:
        logs = logs if logs is not None else {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {err}'
            ) from None
