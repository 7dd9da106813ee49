"""`BackupAndRestore`: resume an interrupted `fit` where its last backup left off (Keras 3's)."""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import numpy as np

from fkeras.callbacks._callback import Callback, Logs, save_due, steps_to_save

__all__ = ["BackupAndRestore"]


def _copy_file(source: str, target: str) -> None:
    from fkeras.saving._atomic import atomic_path

    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


class BackupAndRestore(Callback):
    """Backs up the training state during `fit`, and restores it when `fit` is run again.

    At the end of each epoch (or every `save_freq` batches) the callback writes the model's
    weights, its optimizer state and the training key (which drives dropout and shuffling) to
    `backup_dir/latest.weights.h5`, and the number of finished epochs to
    `backup_dir/training_metadata.json`. Both files are written atomically. If the process
    dies, running the same script again (same model, same `compile` and `fit` arguments) makes
    `fit` load that state in `on_train_begin` and continue at the first unfinished epoch: on CPU
    with the same seed, the remaining epochs give bit-identical losses to an uninterrupted run.
    When `fit` completes, the backup is deleted (unless `delete_checkpoint=False`).

    With an integer `save_freq` the backup holds the weights after the batch that triggered it
    (`fit` ends its fused dispatch there) and, as in Keras, the run resumes at the beginning of
    that unfinished epoch.

    Args:
        backup_dir: Directory for the backup files. Use it for nothing else: another run's
            callback or a `ModelCheckpoint` must not write there.
        save_freq: `"epoch"` to back up after every epoch, a positive integer to back up every
            that many training batches, or `False` to never back up (only restore).
        double_checkpoint: Also keeps the previous backup (`*.bkp`); if the latest cannot be
            read (e.g. the file is truncated), the previous one is restored instead.
        delete_checkpoint: Deletes `backup_dir` when `fit` finishes.

    Raises:
        ValueError: If `backup_dir` is empty, or `save_freq` is not `"epoch"`, `False` or a
            positive integer.
        TypeError: If `backup_dir` is not a path.

    Example:
        >>> backup = BackupAndRestore(backup_dir="/tmp/run1-backup")
        >>> # model.fit(x, y, epochs=10, callbacks=[backup]); killed during epoch 4, the same
        >>> # call run again trains epochs 4 to 9 only.
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)):
            raise TypeError(
                "BackupAndRestore: `backup_dir` must be a path (a string or os.PathLike). "
                f"Received: backup_dir={backup_dir!r}"
            )
        if not os.fspath(backup_dir):
            raise ValueError(f"Empty `backup_dir` argument passed. Received: backup_dir={backup_dir!r}")
        is_int = isinstance(save_freq, (int, np.integer)) and not isinstance(save_freq, bool)
        if not (save_freq == "epoch" or save_freq is False or (is_int and save_freq > 0)):
            raise ValueError(
                "BackupAndRestore: `save_freq` must be 'epoch', False or a positive integer number "
                f"of batches. Received: save_freq={save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = int(save_freq) if is_int else save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def _uses_batch_hooks(self, kind: str) -> bool:
        return kind == "train" and isinstance(self.save_freq, int) and self.save_freq is not False

    # ---- restoring ------------------------------------------------------------------------

    def on_train_begin(self, logs: Logs | None = None) -> None:
        try:
            self._load_model()
        except (OSError, ValueError):
            # The latest backup may be corrupt (an interrupted disk, a truncated file): fall
            # back on the previous one when there is one.
            if not os.path.exists(self._prev_weights_path):
                raise
            _copy_file(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                _copy_file(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self) -> None:
        """Loads the backed-up state into the model and tells `fit` where to resume."""
        model = self.model
        if not model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you call "
                f"`fit()`. Model {model.name!r} is unbuilt: build it by calling it on a batch "
                "of data, or with `model.build(input_shape)`."
            )
        if os.path.exists(self._weights_path):
            # Weights, optimizer state and training key: `fit` continues exactly from them.
            model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path, encoding="utf-8") as f:
                metadata = json.load(f)
            epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError(
                    f"BackupAndRestore: {self._training_metadata_path!r} is not a training "
                    f"metadata file of this callback. Received: {metadata!r}"
                )
            self._current_epoch = epoch
            model._initial_epoch = epoch

    # ---- backing up -----------------------------------------------------------------------

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model()

    def _steps_until_sync(self) -> int | None:
        return steps_to_save(self)

    def _should_save_on_batch(self, batch: int) -> bool:
        if not self._uses_batch_hooks("train"):
            return False
        return save_due(self, batch)

    def _save_model(self) -> None:
        from fkeras.saving._atomic import atomic_path

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for latest, previous in (
                (self._weights_path, self._prev_weights_path),
                (self._training_metadata_path, self._prev_training_metadata_path),
            ):
                if os.path.exists(latest):
                    _copy_file(latest, previous)
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata: dict[str, Any] = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        with atomic_path(self._training_metadata_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(metadata, f)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
