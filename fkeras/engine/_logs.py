"""Per-step logs without a host sync per step, and with one transfer when they are read.

A fused dispatch returns its per-step logs stacked on device. `StackedLogs` fetches them to the
host once, and only if someone reads a value (the progress bar at its display interval, a
callback that looks, `fit` at the epoch's end). `StepLogs` is the read-only mapping a batch
callback receives.

Each device-to-host copy has a fixed cost that dwarfs a few numbers' worth of bytes (on XLA:CPU
about 5 us per array, measured), so a training dispatch packs its logs into one buffer per bit
width (`LogPacker`; in practice one): reading an epoch's logs is one copy.
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

_UNSIGNED = {1: jnp.uint8, 2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}


class LogPacker:
    """Packs `{name: value or (k,) stack}` into same-width unsigned buffers, and back.

    The layout (names and dtypes) is recorded when `pack` is traced; it is the same for every
    trace of one set of train functions (only the step count `k` varies, and `unpack` derives it
    from the buffer lengths).
    """

    def __init__(self) -> None:
        self.names: tuple = ()
        self._fields: tuple = ()  # (name, dtype) in log order

    def pack(self, logs: dict) -> tuple:
        """Traced: one flat unsigned buffer per item width (ascending), fields in name order (the
        order JAX gives a dict that leaves a jitted function, so every path reads the same)."""
        self.names = tuple(sorted(logs))
        self._fields = tuple((name, jnp.dtype(logs[name].dtype)) for name in self.names)
        groups: dict = {}
        for name in self.names:
            value = logs[name]
            width = jnp.dtype(value.dtype).itemsize
            bits = jax.lax.bitcast_convert_type(jnp.ravel(value), _UNSIGNED[width])
            groups.setdefault(width, []).append(bits)
        return tuple(jnp.concatenate(parts) for _, parts in sorted(groups.items()))

    def unpack(self, buffers) -> dict:
        """Host: `{name: (k,) array}` from the fetched buffers."""
        widths = sorted({dtype.itemsize for _, dtype in self._fields})
        by_width = dict(zip(widths, buffers))
        count = {w: sum(1 for _, dtype in self._fields if dtype.itemsize == w) for w in widths}
        cursor = dict.fromkeys(widths, 0)
        logs = {}
        for name, dtype in self._fields:
            w = dtype.itemsize
            k = by_width[w].shape[0] // count[w]
            logs[name] = by_width[w][cursor[w]:cursor[w] + k].view(dtype)
            cursor[w] += k
        return logs


class StackedLogs:
    """Logs of consecutive steps still on the device: a dict `{name: array}` (a stack of shape
    `(n,)` when `stacked`, else scalars), or the buffers of a `LogPacker`."""

    __slots__ = ("_device", "_packer", "_host", "stacked", "_names")

    def __init__(self, device_logs, stacked: bool = False, packer: LogPacker | None = None):
        self._device = device_logs
        self._packer = packer
        self._host = None
        self.stacked = stacked or packer is not None
        self._names = packer.names if packer is not None else tuple(device_logs)

    def host(self) -> dict:
        if self._host is None:
            fetched = jax.device_get(self._device)
            if self._packer is not None:
                self._host = self._packer.unpack([np.asarray(b) for b in fetched])
            else:
                self._host = {k: np.asarray(v) for k, v in fetched.items()}
        return self._host

    def value(self, name: str, i: int) -> float:
        v = self.host()[name]
        return float(v[i] if self.stacked else v)

    def names(self) -> tuple:
        return self._names

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
        if name not in self._stack._names:
            raise KeyError(name)
        return self._stack.value(name, self._i)

    def __iter__(self):
        return iter(self._stack.names())

    def __len__(self) -> int:
        return len(self._stack._names)

    def __repr__(self) -> str:
        return f"StepLogs({dict(self)})"
