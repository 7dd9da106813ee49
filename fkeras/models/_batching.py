"""How `fit`, `evaluate` and `predict` cut array data into epochs and batches (host side).

- `epoch_order`: the sample order of one epoch, shuffled from the training key.
- `bucket` / `pad`: a partial last batch is padded to a power of two (at most the batch size),
  so any number of samples reuses a handful of compiled shapes; a mask hides the padding.
- `spans` / `chunk`: how evaluate and predict walk the samples: runs of full batches as one
  `(steps, batch, ...)` view each (one scanned dispatch), then batch by batch.
- `due`: whether validation runs after an epoch (`validation_freq`).
- `split_all`: `validation_split` over inputs, targets and sample weights together.
"""

import numpy as np

from fkeras import _random
from fkeras.engine import _data


def bucket(size: int, batch_size: int) -> int:
    """Padded size of a last partial batch: the next power of two, at most `batch_size`."""
    return batch_size if size >= batch_size else min(batch_size, 1 << (size - 1).bit_length())


def pad(arrays: list, size: int) -> tuple:
    """Each array (or None) zero-padded along axis 0 to `size` rows."""
    out = []
    for a in arrays:
        if a is None or a.shape[0] == size:
            out.append(a)
        else:
            widths = [(0, size - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
            out.append(np.pad(a, widths))
    return tuple(out)


def chunk(arrays: list, start: int, steps: int, batch_size: int) -> list:
    """Rows `start : start + steps * batch_size` of each array (or None), as a view shaped
    `(steps, batch_size, ...)`: the input of a scanned dispatch over `steps` full batches."""
    rows = steps * batch_size
    return [None if a is None else a[start:start + rows].reshape(steps, batch_size, *a.shape[1:]) for a in arrays]


def spans(n: int, batch_size: int, chunk: int):
    """`(step, start, steps)` covering `n` samples: runs of `chunk` full batches (`steps ==
    chunk`, one scanned dispatch each; only while `chunk > 1`), then one batch at a time
    (`steps == 1`, the last one possibly partial)."""
    full, step = n // batch_size, 0
    while step * batch_size < n:
        steps = chunk if chunk > 1 and full - step >= chunk else 1
        yield step, step * batch_size, steps
        step += steps


def epoch_order(n: int, batch_size: int, shuffle, key) -> np.ndarray:
    """Sample order for one epoch: shuffled, in order, or Keras 2's 'batch' (shuffled chunks).

    The shuffle is drawn from `key` (the training key at the epoch's start, or the generator
    `_random.epoch_streams` gives for it), so it depends only on the seed and the steps trained
    so far, not on other users of NumPy's global generator.
    """
    if not shuffle:
        return np.arange(n, dtype=np.int32)
    rng = key if isinstance(key, np.random.Generator) else _random.numpy_generator(key)
    if shuffle == "batch":
        full = n // batch_size
        chunks = np.arange(full * batch_size).reshape(full, batch_size)
        rng.shuffle(chunks)
        order = np.concatenate([chunks.reshape(-1), np.arange(full * batch_size, n)])
    else:
        order = rng.permutation(n)
    return order.astype(np.int32)


def due(epoch: int, freq) -> bool:
    """Whether validation runs after `epoch` (0-based): every `freq` epochs, or those listed."""
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def split_all(xs, ys, sws, fraction):
    """`((xs, ys, sws) for training, (xs, ys, sws) for validation)`: the last `fraction` held out."""
    k, m = len(xs), len(ys)
    train, val = _data.split_validation(xs + ys + sws, fraction)
    return (train[:k], train[k:k + m], train[k + m:]), (val[:k], val[k:k + m], val[k + m:])
