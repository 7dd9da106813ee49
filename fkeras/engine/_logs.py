"""Per-step logs without a host sync per step.

A fused dispatch returns its per-step logs stacked on device. `StackedLogs` fetches them to the
host once, and only if someone reads a value (the progress bar at its display interval, a
callback that looks). `StepLogs` is the read-only mapping a batch callback receives.
"""

from collections.abc import Mapping

import jax
import numpy as np


class StackedLogs:
    """Logs of `n` consecutive steps: `{name: device array of shape (n,)}` or `(n=1, scalars)`."""

    __slots__ = ("_device", "_host", "stacked")

    def __init__(self, device_logs: dict, stacked: bool):
        self._device = device_logs
        self._host = None
        self.stacked = stacked

    def host(self) -> dict:
        if self._host is None:
            self._host = {k: np.asarray(v) for k, v in jax.device_get(self._device).items()}
        return self._host

    def value(self, name: str, i: int) -> float:
        v = self.host()[name]
        return float(v[i] if self.stacked else v)

    def names(self) -> list[str]:
        return list(self._device)

    def last(self) -> dict:
        """The final step's values as Python floats."""
        host = self.host()
        return {k: float(v[-1] if self.stacked else v) for k, v in host.items()}


class StepLogs(Mapping):
    """Read-only logs of one step; values are converted to floats only when read."""

    __slots__ = ("_stack", "_i")

    def __init__(self, stack: StackedLogs, i: int):
        self._stack = stack
        self._i = i

    def __getitem__(self, name):
        if name not in self._stack._device:
            raise KeyError(name)
        return self._stack.value(name, self._i)

    def __iter__(self):
        return iter(self._stack.names())

    def __len__(self) -> int:
        return len(self._stack._device)

    def __repr__(self) -> str:
        return f"StepLogs({dict(self)})"
