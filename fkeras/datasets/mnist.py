"""MNIST handwritten digits, read from Keras's `mnist.npz`."""

from __future__ import annotations

import os

import numpy as np

from fkeras.datasets._files import KERAS_ORIGIN, Split, get_file, split_path

ORIGIN = KERAS_ORIGIN + "mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(
    path: str | os.PathLike = "mnist.npz", *, download: bool | None = None
) -> tuple[Split, Split]:
    """Loads the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digit images.

    Args:
        path: the file name in the data folder (`$FKERAS_DATA`, else `~/.keras/datasets`), or a
            path with a folder part, used as it is.
        download: fetch the file from Keras's storage when it is missing (checked against its
            sha256); None reads the environment variable `FKERAS_DOWNLOAD`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` uint8 arrays of shape `(n, 28, 28)` with
        values 0-255, `y` uint8 arrays of shape `(n,)` with the digits 0-9.

    Raises:
        DatasetNotFoundError: the file is missing and downloading was not allowed.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape
        ((60000, 28, 28), (60000,))
    """
    fname, folder = split_path(path)
    fpath = get_file(fname, ORIGIN, file_hash=SHA256, cache_dir=folder, download=download)
    with np.load(fpath, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
