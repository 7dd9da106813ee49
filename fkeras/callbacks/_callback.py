"""`Callback`, `CallbackList` and `History`: Keras 3's hooks and dispatch, without per-step syncs.

Keras 3's `CallbackList` hands every callback a fresh dict of Python floats, with the keys sorted
(`pythonify_logs`). fkeras does the same for epoch-level hooks. Batch-level hooks receive a
read-only mapping with the same sorted keys whose values are converted to Python floats only
when a callback reads them, so a progress bar that shows a line every 50 ms reads the device
every 50 ms, not after every step. The engine asks `needs_batch_hooks(kind)` once per loop and
skips the batch hooks entirely when no callback overrides them.

A training epoch may run as one fused device dispatch whose per-step logs are replayed to the
batch hooks afterwards. A callback that must act before the next step runs (`TerminateOnNaN`
stops right after the bad batch) sets the class attribute `_needs_step_sync = True`; while it is
in the list, `needs_step_sync()` is true and the engine runs one step per dispatch. A callback
that needs the model as it is after one particular step (a save every `save_freq` batches)
says how many steps away that is (`_steps_until_sync`); the epoch then runs step by step from
there on, so the hook sees exactly that step's weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["Callback", "CallbackList", "History"]

Logs = Mapping[str, Any]

# The batch-level hooks of each loop; `on_batch_*` are Keras 2's names for the training ones.
BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}

HOOK_NAMES = frozenset(
    {"on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end"}
    | {"on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end"}
    | {name for names in BATCH_HOOKS.values() for name in names}
)


def _default(method: Callable) -> Callable:
    """Marks a base-class hook, so that overriding it (by subclass or instance) can be detected."""
    method._fkeras_default_hook = True
    return method


def _is_default(method: Any) -> bool:
    return getattr(method, "_fkeras_default_hook", False)


def to_python(value: Any) -> Any:
    """A 0-d numeric value as a Python float; anything else unchanged (Keras's `pythonify_logs`)."""
    if isinstance(value, float):
        return value
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.ndim != 0:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def pythonify_logs(logs: Logs | None) -> dict[str, Any]:
    """A new dict with sorted keys, nested dicts flattened and values as Python floats."""
    result: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
        else:
            result[key] = to_python(value)
    return result


class BatchLogs(Mapping):
    """Read-only view of a step's logs: sorted keys, values made Python floats when first read.

    Reading a key transfers that value from the device (once; it is cached). Iterating over the
    keys or testing membership reads nothing.
    """

    __slots__ = ("_cache", "_keys", "_logs")

    def __init__(self, logs: Logs | None) -> None:
        self._logs = logs if logs is not None else {}
        self._keys: list[str] | None = None
        self._cache: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._cache:
            self._cache[key] = to_python(self._logs[key])
        return self._cache[key]

    def __contains__(self, key: object) -> bool:
        return key in self._logs

    def __iter__(self) -> Iterator[str]:
        if self._keys is None:
            self._keys = sorted(self._logs)
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._logs)

    def __repr__(self) -> str:
        return f"BatchLogs({list(self)})"


def save_due(callback, batch: int) -> bool:
    """Whether a saving callback with an integer `save_freq` saves after train batch `batch`.

    Counts the batches run since the last save in `callback._batches_seen_since_last_saving`
    (reset when due) and remembers `batch` in `callback._last_batch_seen`. Batches count from 0
    in each epoch and one hook call may follow several steps of a fused dispatch: `batch <=`
    the last one seen (or none seen yet) means a new epoch began.
    """
    last = callback._last_batch_seen
    new_epoch = last is None or batch <= last
    callback._batches_seen_since_last_saving += batch + 1 if new_epoch else batch - last
    callback._last_batch_seen = batch
    if callback._batches_seen_since_last_saving >= callback.save_freq:
        callback._batches_seen_since_last_saving = 0
        return True
    return False


def steps_to_save(callback) -> int | None:
    """Training steps left before a saving callback with an integer `save_freq` saves (counted as
    `save_due` counts them); None for `save_freq="epoch"` (or `False`)."""
    freq = callback.save_freq
    if isinstance(freq, bool) or not isinstance(freq, int):
        return None
    return max(1, freq - callback._batches_seen_since_last_saving)


class Callback:
    """Base class of callbacks: override the hooks of the stages you want to act on.

    The model calls the hooks of every callback passed to `fit`, `evaluate` or `predict`. Before
    the first hook, `set_model` and `set_params` give the callback the model and the loop's
    parameters (`{"verbose": 1, "epochs": 10, "steps": 32}`).

    Epoch-level `logs` are dicts of Python floats (`{"loss": 0.2, "val_loss": 0.3}`). Batch-level
    `logs` are read-only mappings whose values are read from the device when accessed, so read
    only the keys you need: an untouched batch hook costs no device transfer.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs["loss"])

    Attributes:
        params: Dict of the loop's parameters.
        model: The model being trained, evaluated or run.
    """

    # True makes `fit` run one training step per dispatch while this callback is used, so its
    # batch hooks see each step's logs before the next step runs (see `needs_step_sync`).
    _needs_step_sync: bool = False

    def _steps_until_sync(self) -> int | None:
        """How many training steps may run before this callback's batch hook must see the model
        as it is right after the last of them (a save every `save_freq` batches); None: any.
        `fit` ends a fused dispatch there (see `CallbackList.steps_until_sync`)."""
        return None

    def __init__(self) -> None:
        self.params: dict[str, Any] | None = None
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        # fit writes the new variables into the layers after every dispatch: nothing to sync
        return self._model

    @model.setter
    def model(self, model: Any) -> None:
        # Keras 2 callbacks sometimes assign `self.model` themselves.
        self._model = model

    def _uses_batch_hooks(self, kind: str) -> bool:
        """Whether this callback needs the batch hooks of `kind` ("train", "test", "predict")."""
        return any(not _is_default(getattr(self, name)) for name in BATCH_HOOKS[kind])

    @_default
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Keras 2 name of `on_train_batch_begin`, which calls it by default."""

    @_default
    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Keras 2 name of `on_train_batch_end`, which calls it by default."""

    @_default
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of epoch `epoch` (0-based) of `fit`."""

    @_default
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the end of an epoch; `logs` holds its metrics and the `val_` ones."""

    @_default
    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before training batch `batch` of the epoch."""
        self.on_batch_begin(batch, logs=logs)

    @_default
    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after training batch `batch`; `logs` holds the running epoch averages."""
        self.on_batch_end(batch, logs=logs)

    @_default
    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before batch `batch` of `evaluate` or of validation in `fit`."""

    @_default
    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after batch `batch` of `evaluate` or of validation in `fit`."""

    @_default
    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before batch `batch` of `predict`."""

    @_default
    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after batch `batch` of `predict`."""

    @_default
    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of `fit`."""

    @_default
    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called at the end of `fit`; `logs` holds the last epoch's logs."""

    @_default
    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of `evaluate` or of validation."""

    @_default
    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called at the end of `evaluate` or of validation, with its final logs."""

    @_default
    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of `predict`."""

    @_default
    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called at the end of `predict`."""


class History(Callback):
    """Records the epoch logs; `fit` returns it.

    Attributes:
        history: Dict mapping each log name to its list of per-epoch values.
        epoch: List of the epoch indices seen in the last `fit`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # Keeps `model.history` pointing at the newest record, as Keras does.
        self.model.history = self


def _flatten(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return [cb for item in callbacks for cb in _flatten(item)]
    return [callbacks]


class CallbackList(Callback):
    """Calls a list of callbacks together, in order, as Keras 3's `CallbackList` does.

    Args:
        callbacks: Callbacks (nested lists are flattened).
        add_history: Appends a `History` if none is in `callbacks`.
        add_progbar: Appends a `ProgbarLogger` (after the `History`) if none is in `callbacks`.
        model: The model the callbacks are used with; also gets `model.history`.
        **params: The loop's parameters (`verbose`, `epochs`, `steps`), handed to each callback.
    """

    def __init__(
        self,
        callbacks: Any = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks = _flatten(callbacks)
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history: bool, add_progbar: bool) -> None:
        from fkeras.callbacks._progbar_logger import ProgbarLogger

        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def append(self, callback: Callback) -> None:
        """Adds a callback at the end (Keras 2's `CallbackList.append`)."""
        self.callbacks.append(callback)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model: Any) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def needs_batch_hooks(self, kind: str) -> bool:
        """Whether any callback acts on the batch hooks of `kind`.

        Args:
            kind: `"train"`, `"test"` or `"predict"`.

        Returns:
            False when every batch hook of that loop is a no-op, so the engine may skip calling
            them (and building their logs) altogether.

        Raises:
            ValueError: If `kind` is not one of the three loops.
        """
        if kind not in BATCH_HOOKS:
            raise ValueError(
                f"`kind` must be one of {sorted(BATCH_HOOKS)}. Received: kind={kind!r}"
            )
        return any(callback._uses_batch_hooks(kind) for callback in self.callbacks)

    def _uses_batch_hooks(self, kind: str) -> bool:
        return self.needs_batch_hooks(kind)

    def needs_step_sync(self) -> bool:
        """Whether a callback must see each training step's logs before the next step runs.

        Returns:
            True if any callback sets `_needs_step_sync`; `fit` then runs one step per dispatch
            instead of fusing many steps into one.
        """
        return any(getattr(callback, "_needs_step_sync", False) for callback in self.callbacks)

    @property
    def _needs_step_sync(self) -> bool:  # a CallbackList nested in another one
        return self.needs_step_sync()

    def steps_until_sync(self) -> int | None:
        """The fewest training steps any callback lets run before it must see the model.

        Returns:
            None when no callback asks; else `n >= 1`: the step `n` steps from now must be the
            last of its dispatch, so that the batch hook after it (e.g. `ModelCheckpoint` with
            an integer `save_freq`) sees the weights of exactly that step.
        """
        counts = [n for n in (callback._steps_until_sync() for callback in self.callbacks) if n is not None]
        return min(counts) if counts else None

    def _steps_until_sync(self) -> int | None:  # a CallbackList nested in another one
        return self.steps_until_sync()

    def _call_batch(self, hook: str, batch: int, logs: Logs | None) -> None:
        view = BatchLogs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(batch, logs=view)

    def _call(self, hook: str, *args: Any) -> None:
        *head, logs = args
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*head, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("on_predict_batch_end", batch, logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._call("on_train_end", logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._call("on_predict_end", logs)
