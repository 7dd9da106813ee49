"""Keras 2's `keras.preprocessing.text`: the `Tokenizer`, `text_to_word_sequence`, `one_hot`,
`hashing_trick` and `tokenizer_from_json`.

Keras 3 keeps these only as deprecated internals; fkeras has them so that Keras 2 scripts (the
Reuters MLP example among them) run unchanged. Index 0 is never given to a word: it is left for
padding. Words are indexed by descending count; words with equal counts keep the order in which
they were first seen.
"""

from __future__ import annotations

import collections
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(
    text: str, filters: str = DEFAULT_FILTERS, lower: bool = True, split=" "
) -> list:
    """The words of `text`: lower-cased (if `lower`), each character of `filters` turned into
    the separator, then split on `split` (a string, or a function from text to tokens); empty
    tokens dropped."""
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string. Received: text of type {type(text).__name__}")
    if lower:
        text = text.lower()
    if filters:
        separator = split if isinstance(split, str) else " "
        text = text.translate(str.maketrans({c: separator for c in filters}))
    tokens = split(text) if callable(split) else text.split(split)
    return [t for t in tokens if t]


def hashing_trick(
    text: str,
    n: int,
    hash_function=None,
    filters: str = DEFAULT_FILTERS,
    lower: bool = True,
    split=" ",
    analyzer: Callable | None = None,
) -> list:
    """Each word of `text` as an index in `[1, n)`: `hash_function(word) % (n - 1) + 1`.

    `hash_function`: None for Python's `hash` (salted per process unless `PYTHONHASHSEED` is
    set), "md5" for a stable hash, or a function from a word to an int. Different words may
    share an index.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(
            f"`n` (the size of the hashing space) must be an integer >= 2. Received: n={n!r}"
        )
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5
    elif not callable(hash_function):
        raise ValueError(
            "`hash_function` must be None, 'md5' or a function. "
            f"Received: hash_function={hash_function!r}"
        )
    words = (
        analyzer(text)
        if analyzer is not None
        else text_to_word_sequence(text, filters, lower, split)
    )
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(
    text: str, n: int, filters: str = DEFAULT_FILTERS, lower: bool = True, split=" ", analyzer=None
) -> list:
    """`hashing_trick` with Python's `hash`: word indices in `[1, n)` (Keras 2's `one_hot`)."""
    return hashing_trick(
        text, n, hash_function=hash, filters=filters, lower=lower, split=split, analyzer=analyzer
    )


def _md5(word: str) -> int:
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


class Tokenizer:
    """Turns texts into sequences of word indices, or into one vector per text.

    Args:
        num_words: keep only the `num_words - 1` most frequent words (indices below
            `num_words`) when converting; None keeps all.
        filters: characters removed from the texts (all punctuation but `'`, tabs, newlines).
        lower: lower-case the texts.
        split: the word separator, or a function from a text to its tokens.
        char_level: every character is a token.
        oov_token: if given, it gets index 1 and stands for every word outside the vocabulary
            (or beyond `num_words`) in `texts_to_sequences`.
        analyzer: a function from a text to its tokens, used instead of `filters`/`split`.

    Attributes (after `fit_on_texts`): `word_counts` (word -> count, in first-seen order),
    `word_docs` (word -> number of texts it is in), `word_index` / `index_word`, `index_docs`
    (index -> number of texts), `document_count`.
    """

    def __init__(
        self,
        num_words=None,
        filters: str = DEFAULT_FILTERS,
        lower: bool = True,
        split=" ",
        char_level: bool = False,
        oov_token=None,
        analyzer: Callable | None = None,
        **kwargs,
    ):
        if "nb_words" in kwargs:  # Keras 1
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(f"Tokenizer got unexpected keyword argument(s): {sorted(kwargs)}")
        if num_words is not None and (
            isinstance(num_words, bool)
            or not isinstance(num_words, (int, np.integer))
            or num_words < 0
        ):
            raise ValueError(
                "`num_words` must be None or a non-negative integer. "
                f"Received: num_words={num_words!r}"
            )
        if not (isinstance(split, str) or callable(split)):
            raise TypeError(f"`split` must be a string or a function. Received: split={split!r}")
        if analyzer is not None and not callable(analyzer):
            raise TypeError(
                f"`analyzer` must be None or a function. Received: analyzer={analyzer!r}"
            )
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.document_count = document_count
        self.word_counts: dict = collections.OrderedDict()
        self.word_docs: dict = collections.defaultdict(int)
        self.index_docs: dict = collections.defaultdict(int)
        self.word_index: dict = {}
        self.index_word: dict = {}

    def _tokens(self, text) -> list:
        if self.char_level or isinstance(text, list):
            if not self.lower:
                return text
            return [t.lower() for t in text] if isinstance(text, list) else text.lower()
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable) -> None:
        """Counts the words of `texts` (strings, or lists of tokens); re-indexes the vocabulary."""
        if isinstance(texts, str):
            raise TypeError(
                "`texts` must be a list of texts, not one string "
                "(it would be read character by character)."
            )
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] += 1
        by_count = sorted(
            self.word_counts.items(), key=lambda item: item[1], reverse=True
        )  # stable
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in by_count]
        self.word_index = {w: i for i, w in enumerate(vocabulary, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, count in self.word_docs.items():
            self.index_docs[self.word_index[w]] = count

    def fit_on_sequences(self, sequences) -> None:
        """Counts documents per word index (what `sequences_to_matrix(mode='tfidf')` needs)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts) -> list:
        """Each text as a list of word indices (unknown words dropped, or `oov_token`'s index)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """`texts_to_sequences`, one text at a time."""
        if isinstance(texts, str):
            raise TypeError("`texts` must be a list of texts, not one string.")
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            out = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is None or (self.num_words and i >= self.num_words):
                    if oov is not None:
                        out.append(oov)
                else:
                    out.append(i)
            yield out

    def sequences_to_texts(self, sequences) -> list:
        """Each sequence of indices back to a text (words joined by spaces)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """`sequences_to_texts`, one sequence at a time."""
        oov = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for i in seq:
                word = self.index_word.get(i)
                if word is None or (self.num_words and i >= self.num_words):
                    if oov is not None:
                        words.append(self.index_word[oov])
                else:
                    words.append(word)
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode: str = "binary") -> np.ndarray:
        """`sequences_to_matrix(texts_to_sequences(texts), mode)`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode: str = "binary") -> np.ndarray:
        """A `(len(sequences), num_words)` float64 array, one row per sequence.

        Column `j` holds, for index `j` in the sequence: 1 (`"binary"`), its count (`"count"`),
        its count over the sequence's length (`"freq"`), or `(1 + log(count)) * log(1 +
        document_count / (1 + documents containing j))` (`"tfidf"`). Indices `>= num_words`
        are ignored. Without `num_words`, the width is the vocabulary's size + 1.
        """
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}")
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError(
                "sequences_to_matrix needs a width: pass `num_words` to the Tokenizer, "
                "or fit it on some texts first."
            )
        if mode == "tfidf" and not self.document_count:
            raise ValueError(
                "mode='tfidf' needs document counts: fit the Tokenizer on some data first."
            )
        lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
        out = np.zeros((len(sequences), width))
        if lengths.sum():
            rows = np.repeat(np.arange(len(sequences)), lengths)
            try:
                cols = np.concatenate(
                    [np.asarray(seq, dtype=np.int64).reshape(-1) for seq in sequences if len(seq)]
                )
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"`sequences` must be lists of integer word indices: {err}"
                ) from None
            if cols.size != rows.size:
                raise ValueError(
                    "`sequences` must be flat lists of integer word indices, not nested ones."
                )
            if cols.min() < 0:
                row = rows[np.argmin(cols)]
                raise ValueError(
                    "Word indices must be non-negative: the sequence at position "
                    f"{row} has {cols.min()}."
                )
            keep = cols < width
            np.add.at(out, (rows[keep], cols[keep]), 1.0)  # the counts
        if mode == "binary":
            return (out > 0).astype(np.float64)
        if mode == "freq":
            return out / np.maximum(lengths, 1)[:, None]
        if mode == "tfidf":
            documents = np.zeros(width)
            for j, count in self.index_docs.items():
                if 0 <= j < width:
                    documents[j] = count
            idf = np.log(1 + self.document_count / (1 + documents))
            return np.where(out > 0, (1 + np.log(np.maximum(out, 1.0))) * idf, 0.0)
        return out

    def get_config(self) -> dict:
        """The settings and the fitted vocabulary (dicts as JSON strings, as Keras writes them)."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs) -> str:
        """`{"class_name": "Tokenizer", "config": get_config()}` as JSON (`json.dumps` kwargs)."""
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """The `Tokenizer` that `Tokenizer.to_json()` wrote (fkeras's or Keras 2's)."""
    try:
        config: Any = dict(json.loads(json_string)["config"])
        tables = {
            name: json.loads(config.pop(name))
            for name in ("word_counts", "word_docs", "index_docs", "index_word", "word_index")
        }
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"Not a Tokenizer's JSON (from `Tokenizer.to_json()`): {err!r}") from None
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = tables["word_counts"]
    tokenizer.word_docs = tables["word_docs"]
    tokenizer.index_docs = {
        int(k): v for k, v in tables["index_docs"].items()
    }  # JSON keys are strings
    tokenizer.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tokenizer.word_index = tables["word_index"]
    return tokenizer
