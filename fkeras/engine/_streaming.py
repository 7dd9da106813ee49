"""Inference outputs streamed to host memory as they are produced.

`predict` runs chunk after chunk of batches on the device. Keeping every chunk's outputs there
until the end would hold the whole result in device memory at once, which is what running chunk
by chunk avoids for the inputs. `HostOutputs` starts each dispatch's transfer as soon as it is
dispatched and moves it to host memory a couple of dispatches later, when it is long finished, so
the device holds only a few chunks of outputs and the loop never waits on the one it just
dispatched.
"""

import collections
from collections.abc import Sequence

import jax
import numpy as np

__all__ = ["HostOutputs"]


def _host_copy(out, size: int | None) -> np.ndarray:
    host = np.asarray(out)
    if size is not None:
        host = host[:size]
    # On the CPU backend `np.asarray` is a view of the array's buffer, which would keep every
    # batch's buffer alive: an owned copy lets it go.
    return host if host.flags.owndata else host.copy()


class HostOutputs:
    """Per-batch model outputs, gathered on the host.

    Args:
        lag: How many of the newest batches may stay on the device.

    Example:
        >>> outputs = HostOutputs()
        >>> for batch in batches:
        ...     outputs.append(predict(batch), size=len(batch))
        >>> arrays = outputs.concatenate(n_outputs=1)
    """

    def __init__(self, lag: int = 2) -> None:
        self._lag = max(0, int(lag))
        self._pending: collections.deque = collections.deque()
        self._host: list[list[np.ndarray]] = []

    def append(self, outs: Sequence[jax.Array], size: int | None = None) -> None:
        """Adds one batch's outputs (a flat list), keeping only the first `size` rows if given."""
        for out in outs:
            if isinstance(out, jax.Array):
                out.copy_to_host_async()
        self._pending.append((outs, size))
        while len(self._pending) > self._lag:
            self._to_host()

    def _to_host(self) -> None:
        outs, size = self._pending.popleft()
        self._host.append([_host_copy(out, size) for out in outs])

    def concatenate(self, n_outputs: int) -> list[np.ndarray]:
        """All batches so far, joined along the batch axis: one array per output."""
        while self._pending:
            self._to_host()
        return [np.concatenate([batch[k] for batch in self._host]) for k in range(n_outputs)]
