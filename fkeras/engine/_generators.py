"""Batch sources that are not arrays: Python generators and `Sequence`s, read ahead in the background.

Batches are produced on the host by worker threads (or processes, for a `Sequence` with
`use_multiprocessing=True`) into a bounded queue of `max_queue_size` batches, so reading the next
batch overlaps with the device running the current step. A plain generator is read by one thread
(generators are not thread-safe); a `Sequence` is indexed by up to `workers` threads, in order.
"""

import collections
import concurrent.futures
import contextlib
import inspect
import queue
import threading

import numpy as np

from fkeras.utils._sequence import Sequence


def is_batch_source(x) -> bool:
    """True for a Sequence or a generator/iterator (not an array, list or dict)."""
    if isinstance(x, Sequence):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)) or hasattr(x, "__array__"):
        return False
    return inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def steps_for(source, steps, what: str) -> int:
    """Steps per epoch for `source`: `steps`, or len() of a Sequence; generators need `steps`."""
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
            raise ValueError(f"`{what}` must be a positive integer. Received: {what}={steps!r}")
        return int(steps)
    if isinstance(source, Sequence):
        n = len(source)
        if n <= 0:
            raise ValueError(f"The Sequence {type(source).__name__} has no batches (len() == {n}).")
        return n
    raise ValueError(
        f"`{what}` is required when the data is a generator: a generator may be infinite, so "
        f"fkeras cannot know where an epoch ends. Pass `{what}=<batches per epoch>`, or use a "
        f"`keras.utils.Sequence`. Received: {what}=None"
    )


def unpack_batch(batch, index: int, what: str = "generator"):
    """A yielded batch -> (x, y, sample_weight), with an error that names the batch index."""
    if isinstance(batch, tuple) and len(batch) in (1, 2, 3):
        x, y, sw = (list(batch) + [None, None])[:3]
        return x, y, sw
    if isinstance(batch, list) and len(batch) in (2, 3):
        x, y, sw = (list(batch) + [None])[:3]
        return x, y, sw
    raise ValueError(
        f"The {what} must yield tuples (x, y) or (x, y, sample_weight). Batch {index} was a "
        f"{type(batch).__name__}"
        + (f" of length {len(batch)}" if hasattr(batch, "__len__") else "")
        + "."
    )


class _Stop:
    pass


# Background threads are named so that tests (and users) can tell them apart.
THREAD_NAME = "fkeras-prefetch"


def add_batch_note(err: BaseException, index: int, source) -> BaseException:
    """Adds a note naming the batch to an exception raised while producing it; returns `err`.

    The exception keeps its type and message, so `except ValueError:` in user code still works;
    the note shows under the traceback (Python 3.11's `add_note`; stored in `__notes__` before).
    """
    kind = "Sequence" if isinstance(source, Sequence) else "generator"
    note = (
        f"fkeras: raised by the {kind} {type(source).__name__!r} while producing batch {index} "
        "of the epoch."
    )
    notes = getattr(err, "__notes__", None)
    if notes and note in notes:
        return err
    if hasattr(err, "add_note"):
        err.add_note(note)
    else:  # Python 3.10
        err.__notes__ = list(notes or []) + [note]
    return err


class Prefetcher:
    """Iterate over `steps` batches of `source`, read ahead by background workers.

    An error raised by the source keeps its type and gets a note with the batch index. Iterate
    it inside `with prefetcher.batches() as it:` (or close the iterator): leaving the block, by
    the end, a `break` or an exception, stops and joins every background worker.
    """

    def __init__(self, source, steps, *, shuffle=False, max_queue_size=10, workers=1, use_multiprocessing=False):
        self.source = source
        self.steps = steps
        self.shuffle = shuffle
        self.max_queue_size = max(1, int(max_queue_size or 1))
        self.workers = max(0, int(workers if workers is not None else 1))
        self.use_multiprocessing = bool(use_multiprocessing)

    def __iter__(self):
        if isinstance(self.source, Sequence):
            return self._sequence_batches()
        return self._generator_batches()

    @contextlib.contextmanager
    def batches(self):
        """Context manager giving the batch iterator, closed (workers joined) on leaving."""
        it = iter(self)
        try:
            yield it
        finally:
            it.close()

    def _get(self, i: int, position: int):
        try:
            return self.source[i]
        except Exception as err:
            add_batch_note(err, position, self.source)
            raise

    # A Sequence: indices in order (or shuffled), fetched by a pool, yielded in order.
    def _sequence_batches(self):
        n = len(self.source)
        order = np.random.permutation(n) if self.shuffle else np.arange(n)
        indices = [int(order[i % n]) for i in range(self.steps)]
        if self.workers <= 1 and not self.use_multiprocessing:
            for position, i in enumerate(indices):
                yield self._get(i, position)
            return
        if self.use_multiprocessing:
            pool = concurrent.futures.ProcessPoolExecutor(max_workers=max(1, self.workers))
        else:
            pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.workers, thread_name_prefix=THREAD_NAME
            )
        pending: collections.deque = collections.deque()
        todo = iter(enumerate(indices))

        def submit_next() -> None:
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt[0], pool.submit(self.source.__getitem__, nxt[1])))

        try:
            for _ in range(min(self.max_queue_size, len(indices))):
                submit_next()
            while pending:
                position, future = pending.popleft()
                try:
                    batch = future.result()
                except Exception as err:
                    add_batch_note(err, position, self.source)
                    raise
                submit_next()
                yield batch
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # no worker outlives the loop

    # A generator: one reader thread filling a bounded queue.
    def _generator_batches(self):
        if self.workers == 0:
            for position in range(self.steps):
                try:
                    item = next(self.source)
                except StopIteration:
                    return
                except Exception as err:
                    add_batch_note(err, position, self.source)
                    raise
                yield item
            return
        q: queue.Queue = queue.Queue(maxsize=self.max_queue_size)
        stop = threading.Event()

        def reader():
            position = 0
            try:
                for position in range(self.steps):
                    if stop.is_set():
                        return
                    try:
                        item = next(self.source)
                    except StopIteration:
                        break
                    q.put(item)
                q.put(_Stop)
            except BaseException as err:  # hand the user's error to the training thread
                if isinstance(err, Exception):
                    add_batch_note(err, position, self.source)
                q.put(err)

        thread = threading.Thread(target=reader, daemon=True, name=THREAD_NAME)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is _Stop:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # The reader may be inside `next(source)`; wait for it to come back (a generator must
            # not be resumed by two threads), emptying the queue so that it never blocks on put.
            stop.set()
            while thread.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    thread.join(timeout=0.05)
