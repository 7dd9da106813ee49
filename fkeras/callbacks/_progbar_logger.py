"""`ProgbarLogger`: the progress lines of `fit`, `evaluate` and `predict`, printed as by Keras 3."""

from __future__ import annotations

from typing import Any

from fkeras.callbacks._callback import Callback, Logs
from fkeras.utils._progbar import Progbar, print_msg

__all__ = ["ProgbarLogger"]


class ProgbarLogger(Callback):
    """Prints a progress bar and the metrics to stdout.

    `fit` adds one unless `verbose=0`. With verbose 1 the bar is redrawn during the epoch (at
    most every 50 ms; only then are the logs read from the device); with verbose 2 one line is
    printed per epoch. When it runs inside `fit`, validation prints nothing of its own: its
    metrics appear with the `val_` prefix on the epoch's line.

    Args:
        count_mode: Keras 2's `"steps"` or `"samples"`; Keras 3 and fkeras always count steps.
        stateful_metrics: Accepted for Keras 2 compatibility and ignored: fkeras's logs are
            running averages, all shown as they are.

    Raises:
        ValueError: If `count_mode` is neither `"steps"` nor `"samples"`.
    """

    def __init__(self, count_mode: str = "steps", stateful_metrics: Any = None) -> None:
        super().__init__()
        if not isinstance(count_mode, str) or count_mode not in ("steps", "samples"):
            raise ValueError(
                f'`count_mode` must be "steps" or "samples". Received: count_mode={count_mode!r}'
            )
        del stateful_metrics
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _uses_batch_hooks(self, kind: str) -> bool:
        # Verbose 2 prints nothing per batch; it only needs to count batches when the number of
        # steps is unknown. Validation inside `fit` is silent.
        if kind == "test" and self._called_in_fit:
            return False
        return self.verbose == 1 or self.target is None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._called_in_fit = True

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        # Predictions are not metrics: only the step count is shown.
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._finalize_progbar(logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._finalize_progbar(logs)

    def _reset_progbar(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> Progbar:
        if self.progbar is None:
            # Logs are running averages already: show every value as it is.
            self.progbar = Progbar(
                target=self.target, verbose=self.verbose, unit_name="step", stateless_metrics=()
            )
        return self.progbar

    def _update_progbar(self, batch: int, logs: Logs | None) -> None:
        progbar = self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            # The mapping itself goes to the bar, which reads its values only when it prints.
            progbar.update(self.seen, logs, finalize=False)

    def _finalize_progbar(self, logs: Logs | None) -> None:
        progbar = self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            progbar.target = self.target
        progbar.update(self.target, logs, finalize=True)
