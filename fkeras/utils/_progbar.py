"""A text progress bar that prints what Keras 3's `keras.utils.Progbar` prints.

The display (the `━` bar, ETA, time per step, `%.4f`/`%.4e` values, verbose 1 and 2 lines, the
`\\b`/`\\r` redraw) follows Keras 3 character for character. One thing differs on purpose: values
handed to `update` are kept as they come (JAX device arrays, entries of a lazy mapping) and turned
into Python numbers only when a line is actually printed. A training loop can therefore call
`update` after every step without forcing a device-to-host transfer per step; the transfer happens
at the display interval (50 ms by default) and at the end of the epoch.

Example:
    >>> bar = Progbar(target=3, verbose=2)
    >>> for step in range(1, 4):
    ...     bar.update(step, [("loss", 0.5)])  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["Progbar"]

# A reference to one logged value: either (None, value) or (mapping, key). The second form reads
# `mapping[key]` at print time, so a lazily converting mapping is only asked when a line is shown.
_Ref = tuple[Any, Any]

# How many per-step values a stateless metric may hold before they are folded into a number (this
# reads them from the device, once per this many steps, only for metrics that are averaged here).
_MAX_PENDING = 1024


class _Average:
    """Running weighted sum of one metric; pending terms are folded when the value is shown."""

    __slots__ = ("count", "pending", "total")

    def __init__(self) -> None:
        self.total: Any = None
        self.count = 0
        self.pending: list[tuple[_Ref, int]] = []

    def reset(self, ref: _Ref) -> None:
        self.total, self.count, self.pending = None, 1, [(ref, 1)]

    def add(self, ref: _Ref, weight: int) -> None:
        self.count += weight
        self.pending.append((ref, weight))

    def fold(self) -> tuple[Any, int]:
        """Reads the pending values (the only host transfer) and returns `(sum, count)`."""
        for ref, weight in self.pending:
            term = _to_number(_read(ref)) * weight
            self.total = term if self.total is None else self.total + term
        self.pending = []
        return self.total, self.count

    def mean(self) -> Any:
        total, count = self.fold()
        # Keras reduces non-float values (numpy scalars, arrays) with `np.mean` before dividing.
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)


def _read(ref: _Ref) -> Any:
    source, item = ref
    return item if source is None else source[item]


def _to_number(value: Any) -> Any:
    """Host value of a logged quantity: numbers pass through, arrays become numpy."""
    if isinstance(value, (int, float, np.generic, np.ndarray)):
        return value
    if hasattr(value, "__array__"):
        return np.asarray(value)
    return float(value)


def _as_refs(values: Any) -> list[tuple[str, _Ref]]:
    """`(name, value)` pairs or a mapping -> `(name, reference)` pairs, without reading values."""
    if values is None:
        return []
    if isinstance(values, Mapping):
        return [(name, (values, name)) for name in values]
    return [(name, (None, value)) for name, value in values]


def _format_value(avg: Any, *, signed: bool) -> str:
    # Keras compares `abs(avg)` on verbose 1 but `avg` itself on verbose 2, so on verbose 2 a
    # negative value is always shown in exponent form; kept for identical output.
    large = abs(avg) > 1e-3 if signed else avg > 1e-3
    return f" {avg:.4f}" if large else f" {avg:.4e}"


def _format_time(time_per_unit: float, unit_name: str) -> str:
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    # int() truncates as Keras's `%d` does.
    if eta > 3600:
        return f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"


def print_msg(message: str, line_break: bool = True) -> None:
    """Writes `message` to stdout and flushes, as Keras's `io_utils.print_msg` does."""
    if line_break:
        message += "\n"
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        # Terminals without UTF-8 cannot show the bar character; Keras falls back to `=`.
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace("━", "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(message)
    sys.stdout.flush()


class Progbar:
    """Displays a progress bar, exactly as `keras.utils.Progbar` does.

    Metrics are averaged over the steps by the bar ("stateless") unless named in
    `stateful_metrics`, whose latest value is shown as is. Passing `stateless_metrics` instead
    turns the rule around: only the metrics it names are averaged (`ProgbarLogger` passes an
    empty set, since training logs already hold running averages).

    Args:
        target: Total number of steps expected, `None` if unknown.
        width: Width of the bar, in characters.
        verbose: 0 (silent), 1 (a bar redrawn in place) or 2 (one line when finished).
        interval: Minimum number of seconds between two redraws on verbose 1.
        stateful_metrics: Names of the metrics shown as is, not averaged.
        unit_name: Name of one step in the time-per-step field (`"step"`, `"sample"`).
        stateless_metrics: Names of the only metrics averaged; exclusive with `stateful_metrics`.

    Raises:
        ValueError: If both `stateful_metrics` and `stateless_metrics` are given.
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        stateless_metrics: Iterable[str] | None = None,
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar takes `stateful_metrics` (the metrics not averaged) or "
                "`stateless_metrics` (the only metrics averaged), not both. Received: "
                f"stateful_metrics={stateful_metrics!r}, stateless_metrics={stateless_metrics!r}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        # Keras's test, kept as is so that both print the same bytes. Note that `posix` is always
        # imported on Linux and macOS, so there the bar redraws with `\b`/`\r` even into a file.
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values: dict[str, _Average] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def _is_stateless(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current: int, values: Any, finalize: bool) -> None:
        for name, ref in _as_refs(values):
            if name not in self._values:
                self._values[name] = _Average()
                self._values_order.append(name)
            average = self._values[name]
            if finalize or not self._is_stateless(name):
                # A final value (an epoch average) replaces what was accumulated, as in Keras.
                average.reset(ref)
            else:
                average.add(ref, max(current - self._seen_so_far, 1))
                if len(average.pending) > _MAX_PENDING:
                    average.fold()

    def update(self, current: int, values: Any = None, finalize: bool | None = None) -> None:
        """Updates the progress bar.

        Args:
            current: Index of the current step (1-based count of steps done).
            values: `(name, value)` pairs, or a mapping of names to values, for this step.
                Values may be Python numbers, numpy or JAX arrays, or any object convertible
                with `float()`; they are read only when a line is printed, so a mapping must
                not be changed after it is passed (hand over a new one per step).
            finalize: Whether this is the last update. Defaults to `current >= target`.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._print_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            self._print_line(current, now, time_per_unit)
        self._last_update = now

    def add(self, n: int, values: Any = None) -> None:
        """Advances the bar by `n` steps (Keras 2's `Progbar.add`)."""
        self.update(self._seen_so_far + n, values)

    def _metrics_text(self, *, signed: bool) -> str:
        text = ""
        for name in self._values_order:
            text += f" - {name}:" + _format_value(self._values[name].mean(), signed=signed)
        return text

    def _print_bar(self, current: int, now: float, time_per_unit: float, finalize: bool) -> None:
        message = "\b" * self._prev_total_width + "\r" if self._dynamic_display else "\n"
        # Characters of the ANSI colour codes, which take no room on screen.
        special_char_len = 0
        if self.target is not None and self.target > 0:
            numdigits = int(math.log10(self.target)) + 1
            count = f"%{numdigits}d/%d" % (current, self.target)
            bar = f"\x1b[1m{count}\x1b[0m "
            special_char_len += 8
            prog_width = int(self.width * (float(current) / self.target))
            if prog_width > 0:
                bar += f"\33[32m{'━' * prog_width}\x1b[0m"
                special_char_len += 9
            bar += f"\33[37m{'━' * (self.width - prog_width)}\x1b[0m"
            special_char_len += 9
        else:
            bar = f"{int(current):7d}/Unknown"
        message += bar

        if self.target is not None and self.target > 0 and not finalize:
            info = f" \x1b[1m{_format_eta(time_per_unit * (self.target - current))}\x1b[0m"
        else:
            info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
        special_char_len += 8
        info += _format_time(time_per_unit, self.unit_name)
        info += self._metrics_text(signed=True)
        message += info

        total_width = len(bar) + len(info) - special_char_len
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def _print_line(self, current: int, now: float, time_per_unit: float) -> None:
        numdigits = int(math.log10(self.target)) + 1
        count = f"%{numdigits}d/%d" % (current, self.target)
        line = f"{count} - {now - self._start:.0f}s"
        line += f" -{_format_time(time_per_unit, self.unit_name)}"
        line += self._metrics_text(signed=False)
        print_msg(line)

    def _estimate_step_duration(self, current: int, now: float) -> float:
        """Seconds per step; the first step (compilation, warm-up) is left out once possible."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
