"""`Sequence` (Keras 2) / `PyDataset` (Keras 3): a batch source that can be indexed and sized."""


class Sequence:
    """Base class for fitting to a sequence of batches, e.g. a dataset read from disk.

    Implement `__getitem__(index)` returning one batch `(x, y)` or `(x, y, sample_weight)` and
    `__len__()` returning the number of batches per epoch; `on_epoch_end()` runs after each epoch.
    Indexed access makes a Sequence safe to read from several worker threads (`workers=`) and lets
    `fit(shuffle=True)` visit its batches in a new order each epoch.

    Example:
        >>> class Batches(Sequence):
        ...     def __init__(self, x, y, batch_size):
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return math.ceil(len(self.x) / self.batch_size)
        ...     def __getitem__(self, i):
        ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        ...         return self.x[s], self.y[s]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        # Keras 3's PyDataset carries its own loading options; fit's arguments take precedence.
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(index)`.")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement `__len__()`.")

    def on_epoch_end(self):
        """Called at the end of every epoch (e.g. to reshuffle the samples)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


PyDataset = Sequence
