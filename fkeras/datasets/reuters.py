"""Reuters newswires labelled over 46 topics, as sequences of word indices (Keras's `reuters.npz`).

Like `imdb`, the ragged sequences are object arrays, read with
`fkeras.datasets._files.load_npz`, which rebuilds only plain numpy arrays.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from fkeras.datasets._files import KERAS_ORIGIN, Split, get_file, load_npz, split_path
from fkeras.datasets.imdb import (
    num_words_from_kwargs,
    drop_long,
    limit_vocabulary,
    object_array,
    shift_indices,
)

ORIGIN = KERAS_ORIGIN + "reuters.npz"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = KERAS_ORIGIN + "reuters_word_index.json"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str | os.PathLike = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    download: bool | None = None,
    **kwargs: Any,
) -> tuple[Split, Split]:
    """Loads the Reuters dataset: 11,228 newswires over 46 topics, split into train and test.

    The newswires are shuffled with `seed`, prepared as `imdb.load_data` describes (`start_char`,
    `index_from`, `maxlen`, then `num_words`, `skip_top` and `oov_char`), and the first
    `int(n * (1 - test_split))` of them are the training part.

    Args:
        path: the file name in the data folder (`$FKERAS_DATA`, else `~/.keras/datasets`), or a
            path with a folder part, used as it is.
        num_words: keep only word indices below `num_words` (after the shift); None or 0: the
            largest index present (which itself becomes `oov_char`, as in Keras).
        skip_top: indices below `skip_top` (after the shift) become `oov_char`.
        maxlen: drop the sequences of length `maxlen` or more; None or 0 keeps all.
        test_split: the fraction of the data used as test data, in [0, 1].
        seed: the seed of the shuffle (`np.random.RandomState`).
        start_char: put at the start of every sequence; None for none.
        oov_char: replaces the indices cut by `num_words` and `skip_top`; None drops them.
        index_from: added to every word index.
        download: fetch the file (checked against its sha256) when missing; None reads the
            environment variable `FKERAS_DOWNLOAD`.
        **kwargs: only `nb_words`, Keras 2's name for `num_words`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` 1-d object arrays of Python lists of ints,
        `y` integer arrays of topic indices 0-45 (see `get_label_names()`).

    Raises:
        DatasetNotFoundError: the file is missing and downloading was not allowed.
        ValueError: `test_split` is outside [0, 1], or `maxlen` removes every sequence.
        TypeError: an unknown keyword argument.
    """
    num_words = num_words_from_kwargs(num_words, kwargs)
    if not 0 <= test_split <= 1:
        raise ValueError(f"`test_split` must be in [0, 1]. Received: test_split={test_split}")
    fname, folder = split_path(path)
    fpath = get_file(fname, ORIGIN, file_hash=SHA256, cache_dir=folder, download=download)
    f = load_npz(fpath)
    indices = np.arange(len(f["x"]))
    np.random.RandomState(seed).shuffle(indices)
    xs = shift_indices(f["x"][indices], start_char, index_from)
    xs, labels = drop_long(maxlen, xs, f["y"][indices])
    if not xs:
        raise ValueError(f"No sequence shorter than maxlen={maxlen} is left. Increase `maxlen`.")
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    return (
        (object_array(xs[:n]), np.array(labels[:n])),
        (object_array(xs[n:]), np.array(labels[n:])),
    )


def get_word_index(
    path: str | os.PathLike = "reuters_word_index.json", *, download: bool | None = None
) -> dict[str, int]:
    """Returns the dict from each word to its index in the Reuters data (before `index_from`).

    Args:
        path: the file name in the data folder, or a path with a folder part.
        download: fetch the file (checked against its md5) when missing; None reads
            `FKERAS_DOWNLOAD`.
    """
    fname, folder = split_path(path)
    fpath = get_file(
        fname, WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_MD5, cache_dir=folder, download=download
    )
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, indexed like the labels."""
    return LABEL_NAMES
