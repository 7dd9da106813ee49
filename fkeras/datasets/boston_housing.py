"""Boston Housing prices (Keras's `boston_housing.npz`).

Keras warns that this dataset has an ethical problem (its variable "B" encodes an assumption
about racial self-segregation and house prices) and discourages its use outside teaching about
such issues; it is provided for running existing Keras scripts.
"""

from __future__ import annotations

import os

import numpy as np

from fkeras.datasets._files import KERAS_ORIGIN, Split, get_file, split_path

ORIGIN = KERAS_ORIGIN + "boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def shuffle_split(
    x: np.ndarray, y: np.ndarray, test_split: float, seed: int
) -> tuple[Split, Split]:
    """Shuffles `(x, y)` with `RandomState(seed)`; the first `int(n * (1 - test_split))` train."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(
            f"`test_split` must be in [0, 1) (at least 0, less than 1). "
            f"Received: test_split={test_split}"
        )


def load_data(
    path: str | os.PathLike = "boston_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
    *,
    download: bool | None = None,
) -> tuple[Split, Split]:
    """Loads the Boston Housing dataset: 506 samples of 13 attributes and a price in k$.

    Args:
        path: the file name in the data folder (`$FKERAS_DATA`, else `~/.keras/datasets`), or a
            path with a folder part, used as it is.
        test_split: the fraction of the samples kept for testing, in [0, 1).
        seed: the seed of the shuffle done before splitting (`np.random.RandomState`).
        download: fetch the file (checked against its sha256) when missing; None reads the
            environment variable `FKERAS_DOWNLOAD`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` float64 arrays of shape `(n, 13)`, `y`
        float64 arrays of shape `(n,)`; the training part has `int(506 * (1 - test_split))` rows.

    Raises:
        ValueError: `test_split` is outside [0, 1).
        DatasetNotFoundError: the file is missing and downloading was not allowed.
    """
    check_test_split(test_split)
    fname, folder = split_path(path)
    fpath = get_file(fname, ORIGIN, file_hash=SHA256, cache_dir=folder, download=download)
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_split(x, y, test_split, seed)
