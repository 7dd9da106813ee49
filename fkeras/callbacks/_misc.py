"""Small callbacks: `LearningRateScheduler`, `TerminateOnNaN`, `CSVLogger`, `LambdaCallback`,
`RemoteMonitor`."""

from __future__ import annotations

import collections
import csv
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fkeras.callbacks._callback import HOOK_NAMES, Callback, Logs
from fkeras.callbacks._monitor import _read_lr, check_number, check_path
from fkeras.utils._progbar import print_msg

__all__ = [
    "CSVLogger",
    "LambdaCallback",
    "LearningRateScheduler",
    "RemoteMonitor",
    "TerminateOnNaN",
]


def _is_float(value: Any) -> bool:
    """Python and numpy floats, and 0-d floating arrays (a JAX scalar from `lr * jnp.exp(...)`)."""
    if isinstance(value, (float, np.floating)):
        return True
    dtype = getattr(value, "dtype", None)
    return np.ndim(value) == 0 and dtype is not None and np.issubdtype(dtype, np.floating)


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch from `schedule(epoch, lr)`.

    Args:
        schedule: Function of the epoch index (0-based) and the current learning rate (a float)
            returning the new learning rate (a float). A one-argument `schedule(epoch)`, as in
            Keras 1 and 2 scripts, is accepted too.
        verbose: 1 prints the new learning rate at each epoch.

    Raises:
        ValueError: (when an epoch starts) if `schedule` returns something other than a float,
            or the optimizer has no `learning_rate`.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> callback = LearningRateScheduler(schedule)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "LearningRateScheduler: `schedule` must be a function `schedule(epoch, lr)`. "
                f"Received: schedule={schedule!r}"
            )
        check_number("LearningRateScheduler", "verbose", verbose, integer=True, minimum=0,
                     allow_bool=True)
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = self.model.optimizer
        try:
            learning_rate = self.schedule(epoch, _read_lr(optimizer))
        except TypeError:
            # Keras's fallback for the older one-argument schedules.
            learning_rate = self.schedule(epoch)
        if not _is_float(learning_rate):
            raise ValueError(
                "The output of the `schedule` function should be a float. "
                f"Received: learning_rate={learning_rate!r}"
            )
        optimizer.learning_rate = float(np.asarray(learning_rate))
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{learning_rate}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        # Keras writes into `logs or {}`: an empty dict is left alone.
        if logs:
            logs["learning_rate"] = _read_lr(self.model.optimizer)


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite.

    It reads the loss after every training batch, so it makes `fit` run one step per dispatch
    while it is in the callbacks (a fused epoch would have trained past the bad batch before the
    loss could be looked at): training stops right after the batch whose loss is not finite,
    and the model holds the weights that batch produced, as in Keras 3. The epoch is still
    finished (validation, `on_epoch_end`, `History`, whose `loss` for it is NaN) and
    `on_train_end` is called.

    Args:
        raise_error: Raises `RuntimeError` at once instead of setting `model.stop_training`
            (then the epoch is not finished and `on_train_end` is not called).
        restore_last_finite: fkeras extension, not in Keras. Keeps an on-device copy of the
            model's variables, optimizer state and dropout key at the start of every epoch, and
            puts it back when the loss goes bad, so the model holds the weights of the last
            epoch that finished with a finite loss (validation and the later callbacks of the
            stopping epoch see those). The copy costs device memory the size of the weights
            plus optimizer state, and no host transfer.

    Raises:
        TypeError: If `raise_error` or `restore_last_finite` is not a bool.

    Example:
        >>> stop = TerminateOnNaN(restore_last_finite=True)
        >>> # model.fit(x, y, epochs=10, callbacks=[stop]) stops at the first bad batch and
        >>> # leaves the weights of the last finite epoch in the model.
    """

    # The engine runs one step per dispatch while a callback sets this (see
    # `CallbackList.needs_step_sync`).
    _needs_step_sync = True

    def __init__(self, raise_error: bool = False, restore_last_finite: bool = False) -> None:
        super().__init__()
        for name, value in (("raise_error", raise_error), ("restore_last_finite", restore_last_finite)):
            if not isinstance(value, (bool, int, np.bool_, np.integer)):
                raise TypeError(
                    f"TerminateOnNaN: `{name}` must be a bool. Received: {name}={value!r}"
                )
        self.raise_error = bool(raise_error)
        self.restore_last_finite = bool(restore_last_finite)
        self._snapshot: Any = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self.restore_last_finite:
            from fkeras.models._safety import TrainingSnapshot

            self._snapshot = TrainingSnapshot(self.model)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._snapshot = None  # free the device copy

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or not (np.isnan(loss) or np.isinf(loss)):
            return
        if self._snapshot is not None:
            self._snapshot.restore(self.model)
            self._snapshot = None
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


def _csv_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Writes the epoch logs to a CSV file, one row per epoch, as Keras 3 does.

    The columns are `epoch` then the log names of the first epoch, sorted; when none of them
    starts with `val_`, the `val_` columns are added anyway (written `NA`), as in Keras 3.

    Args:
        filename: Path of the CSV file.
        separator: Column separator.
        append: Appends to an existing file (writing the header only if it is empty) instead
            of overwriting it.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise TypeError(
                f"CSVLogger: `separator` must be a one-character string. "
                f"Received: separator={separator!r}"
            )
        self.sep = separator
        self.filename = check_path("CSVLogger", "filename", filename)
        self.append = append
        self.writer: csv.DictWriter | None = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        # `newline=""`: the csv module writes its own "\r\n" line ends.
        # Kept open across epochs and closed in `on_train_end`, hence no `with`.
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{key}" for key in self.keys])
        if not self.writer:
            dialect = type("CustomDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch", *self.keys], dialect=dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class LambdaCallback(Callback):
    """A callback made of the functions passed for its hooks.

    Functions take the hook's arguments: `on_epoch_begin(epoch, logs)`, `on_train_begin(logs)`,
    `on_train_batch_end(batch, logs)`, and so on. Any hook may be given by keyword, Keras 2's
    `on_batch_begin`/`on_batch_end` included.

    Args:
        on_epoch_begin: Called at the start of every epoch.
        on_epoch_end: Called at the end of every epoch.
        on_train_begin: Called at the start of training.
        on_train_end: Called at the end of training.
        on_train_batch_begin: Called before every training batch.
        on_train_batch_end: Called after every training batch.
        **kwargs: Other hooks, by their method names.

    Raises:
        TypeError: If a keyword is not the name of a hook.

    Example:
        >>> losses = []
        >>> record = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
        **kwargs: Callable,
    ) -> None:
        super().__init__()
        unknown = sorted(set(kwargs) - HOOK_NAMES)
        if unknown:
            raise TypeError(
                f"LambdaCallback takes only callback hooks as keywords ({sorted(HOOK_NAMES)}). "
                f"Received: {', '.join(unknown)}"
            )
        hooks = dict(
            kwargs,
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        for name, function in hooks.items():
            if function is not None and not callable(function):
                raise TypeError(
                    f"LambdaCallback: `{name}` must be a function or None. "
                    f"Received: {name}={function!r}"
                )
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)


class RemoteMonitor(Callback):
    """Posts the epoch logs to a server at the end of every epoch (standard library HTTP).

    Args:
        root: Root URL of the server.
        path: Path, relative to `root`, that receives the events.
        field: Form field holding the JSON data (when `send_as_json=False`).
        headers: Optional HTTP headers.
        send_as_json: Sends the data as an `application/json` body instead of a form.
    """

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict[str, str] | None = None,
        send_as_json: bool = False,
    ) -> None:
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        send: dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(
            self.root + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
