"""IMDB movie reviews labelled by sentiment, as sequences of word indices (Keras's `imdb.npz`).

The reviews are ragged sequences that numpy stores as object arrays, i.e. as pickles; they are
read with `fkeras.datasets._files.load_npz`, which rebuilds only plain numpy arrays and refuses
every other name a pickle could call.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from fkeras.datasets._files import KERAS_ORIGIN, Split, get_file, load_npz, split_path

ORIGIN = KERAS_ORIGIN + "imdb.npz"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = KERAS_ORIGIN + "imdb_word_index.json"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(
    path: str | os.PathLike = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    download: bool | None = None,
    **kwargs: Any,
) -> tuple[Split, Split]:
    """Loads the IMDB dataset: 25,000 training and 25,000 test reviews, labelled 0 or 1.

    Words are indexed by frequency (index 1 is the most frequent word) and shifted by
    `index_from`; 0 stays free for padding. Both parts are shuffled with `seed`, as Keras does.

    Args:
        path: the file name in the data folder (`$FKERAS_DATA`, else `~/.keras/datasets`), or a
            path with a folder part, used as it is.
        num_words: keep only word indices below `num_words` (after the `index_from` shift);
            others become `oov_char`. None or 0: Keras's default, which is the largest index
            present, so the single largest index itself also becomes `oov_char`.
        skip_top: indices below `skip_top` (after the shift) become `oov_char`.
        maxlen: drop the reviews (with their labels) whose length, start character included,
            is `maxlen` or more (Keras keeps only those strictly shorter). None or 0: keep all.
        seed: the seed of the shuffle (`np.random.RandomState`).
        start_char: put at the start of every review; None for no start character.
        oov_char: replaces the indices cut by `num_words` and `skip_top`; None drops them.
        index_from: added to every word index.
        download: fetch the file (checked against its sha256) when missing; None reads the
            environment variable `FKERAS_DOWNLOAD`.
        **kwargs: only `nb_words`, Keras 2's name for `num_words`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` 1-d object arrays of Python lists of ints
        (always 1-d, where Keras's `np.array(..., dtype="object")` makes a 2-d array when all
        sequences have the same length), `y` integer arrays of 0/1 labels.

    Raises:
        DatasetNotFoundError: the file is missing and downloading was not allowed.
        ValueError: `maxlen` removes every training or every test review.
        TypeError: an unknown keyword argument.
    """
    num_words = num_words_from_kwargs(num_words, kwargs)
    fname, folder = split_path(path)
    fpath = get_file(fname, ORIGIN, file_hash=SHA256, cache_dir=folder, download=download)
    f = load_npz(fpath)
    rng = np.random.RandomState(seed)
    parts = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        indices = np.arange(len(f[x_key]))
        rng.shuffle(indices)
        xs = shift_indices(f[x_key][indices], start_char, index_from)
        parts.append(drop_long(maxlen, xs, f[y_key][indices]))
    (x_train, labels_train), (x_test, labels_test) = parts
    if maxlen and (not x_train or not x_test):
        raise ValueError(
            f"No sequence shorter than maxlen={maxlen} is left in the "
            f"{'training' if not x_train else 'test'} set. Increase `maxlen`."
        )
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    n = len(x_train)
    return (object_array(xs[:n]), labels[:n]), (object_array(xs[n:]), labels[n:])


def get_word_index(
    path: str | os.PathLike = "imdb_word_index.json", *, download: bool | None = None
) -> dict[str, int]:
    """Returns the dict from each word to its index in the IMDB data (before `index_from`).

    To decode `x_train[i]`, map `index + index_from` back to the word, as in Keras's example.

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


# Shared with `reuters`: the steps Keras applies to both datasets' sequences, in its order.


def num_words_from_kwargs(num_words: int | None, kwargs: dict[str, Any]) -> int | None:
    """`num_words`, or Keras 2's `nb_words` from `kwargs`; any other keyword is a TypeError."""
    if "nb_words" in kwargs:
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    return num_words


def shift_indices(xs: Any, start_char: int | None, index_from: int) -> list[list[int]]:
    """Adds `index_from` to every index and puts `start_char` (unless None) first."""
    head = [] if start_char is None else [start_char]
    return [head + [w + index_from for w in x] for x in xs]


def drop_long(maxlen: int | None, xs: list, labels: Any) -> tuple[list, Any]:
    """Keeps the sequences shorter than `maxlen` and their labels (all of them if not maxlen)."""
    if not maxlen:
        return xs, labels
    kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in kept], [labels[i] for i in kept]


def limit_vocabulary(
    xs: list[list[int]], num_words: int | None, skip_top: int, oov_char: int | None
) -> list[list[int]]:
    """Maps indices outside `[skip_top, num_words)` to `oov_char`, or drops them if it is None."""
    if not num_words:
        num_words = max((max(x) for x in xs if len(x)), default=0)
    if oov_char is None:
        return [[w for w in x if skip_top <= w < num_words] for x in xs]
    return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]


def object_array(seqs: list[list[int]]) -> np.ndarray:
    """A 1-d object array holding the given lists."""
    out = np.empty(len(seqs), dtype=object)
    for i, seq in enumerate(seqs):  # item by item: `out[:] = seqs` would broadcast equal lengths
        out[i] = seq
    return out
