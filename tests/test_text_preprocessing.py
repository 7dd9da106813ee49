"""`fkeras.preprocessing.text` (Keras 2's Tokenizer and helpers) against the copy Keras 3 keeps
as `keras.src.legacy.preprocessing.text`, and by hand."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fkeras.compat
from fkeras.preprocessing import text
from fkeras.preprocessing.text import Tokenizer, tokenizer_from_json

TEXTS = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "A cat, a dog; and THE bird?",
    "",
    "tab\tseparated\nand new-lines",
]


@pytest.fixture(scope="module")
def legacy():
    pytest.importorskip("keras")
    from keras.src.legacy.preprocessing import text as legacy_text

    return legacy_text


def _fitted(module, texts=TEXTS, **kwargs):
    tok = module.Tokenizer(**kwargs)
    tok.fit_on_texts(texts)
    return tok


SETTINGS = [
    dict(),
    dict(num_words=5),
    dict(oov_token="<unk>"),
    dict(num_words=4, oov_token="<unk>"),
    dict(lower=False),
    dict(char_level=True),
    dict(filters="", split=","),
]


@pytest.mark.parametrize("kwargs", SETTINGS, ids=[str(sorted(k.items())) for k in SETTINGS])
def test_tokenizer_matches_keras(legacy, kwargs):
    ours, theirs = _fitted(text, **kwargs), _fitted(legacy, **kwargs)
    assert ours.word_index == theirs.word_index
    assert ours.index_word == theirs.index_word
    assert dict(ours.word_counts) == dict(theirs.word_counts)
    assert dict(ours.word_docs) == dict(theirs.word_docs)
    assert dict(ours.index_docs) == dict(theirs.index_docs)
    assert ours.document_count == theirs.document_count
    probe = TEXTS + ["an unseen word and the cat"]
    assert ours.texts_to_sequences(probe) == theirs.texts_to_sequences(probe)
    seqs = theirs.texts_to_sequences(probe)
    assert ours.sequences_to_texts(seqs) == theirs.sequences_to_texts(seqs)
    for mode in ("binary", "count", "freq", "tfidf"):
        np.testing.assert_allclose(
            ours.texts_to_matrix(probe, mode), theirs.texts_to_matrix(probe, mode), rtol=1e-12
        )
    assert json.loads(ours.to_json()) == json.loads(theirs.to_json())


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seqs=st.lists(st.lists(st.integers(0, 12), max_size=8), min_size=1, max_size=6),
    num_words=st.integers(1, 15),
    mode=st.sampled_from(["binary", "count", "freq", "tfidf"]),
)
def test_sequences_to_matrix_matches_keras(legacy, seqs, num_words, mode):
    ours, theirs = text.Tokenizer(num_words=num_words), legacy.Tokenizer(num_words=num_words)
    ours.fit_on_sequences(seqs)
    theirs.fit_on_sequences(seqs)
    np.testing.assert_allclose(
        ours.sequences_to_matrix(seqs, mode),
        theirs.sequences_to_matrix(seqs, mode),
        rtol=1e-12,
        atol=0,
    )


def test_sequences_to_matrix_by_hand():
    tok = Tokenizer(num_words=5)
    seqs = [[1, 3, 3, 9], [], np.array([0, 2, 2, 2])]
    np.testing.assert_array_equal(
        tok.sequences_to_matrix(seqs, "binary"), [[0, 1, 0, 1, 0], [0] * 5, [1, 0, 1, 0, 0]]
    )
    np.testing.assert_array_equal(
        tok.sequences_to_matrix(seqs, "count"), [[0, 1, 0, 2, 0], [0] * 5, [1, 0, 3, 0, 0]]
    )
    # freq divides by the sequence's length, the skipped index 9 included
    np.testing.assert_allclose(tok.sequences_to_matrix(seqs, "freq")[0], [0, 0.25, 0, 0.5, 0])
    tok.fit_on_sequences(seqs)  # 3 documents; index 2 is in one, index 3 in one
    expected = (1 + np.log(2)) * np.log(1 + 3 / 2)
    assert tok.sequences_to_matrix(seqs, "tfidf")[0, 3] == pytest.approx(expected, rel=1e-12)


def test_vocabulary_order_and_oov_by_hand():
    tok = Tokenizer(oov_token="?")
    tok.fit_on_texts(["b a b", "c a b"])
    assert tok.word_index == {
        "?": 1,
        "b": 2,
        "a": 3,
        "c": 4,
    }  # by count; ties keep first-seen order
    assert tok.texts_to_sequences(["a z b"]) == [[3, 1, 2]]
    assert tok.sequences_to_texts([[3, 1, 2, 99]]) == ["a ? b ?"]
    assert tokenizer_from_json(tok.to_json()).texts_to_sequences(["a z b"]) == [[3, 1, 2]]


def test_helpers_match_keras(legacy):
    sample = "Hello, World! Hello again...\tand again"
    assert text.text_to_word_sequence(sample) == legacy.text_to_word_sequence(sample)
    assert text.text_to_word_sequence(
        sample, lower=False, filters="!"
    ) == legacy.text_to_word_sequence(sample, lower=False, filters="!")
    assert text.hashing_trick(sample, 20, hash_function="md5") == legacy.hashing_trick(
        sample, 20, hash_function="md5"
    )
    assert text.one_hot(sample, 7) == legacy.one_hot(sample, 7)  # same process: same salted hash
    assert all(1 <= i < 7 for i in text.one_hot(sample, 7))


def test_keras_json_loads_here(legacy):
    theirs = _fitted(legacy, num_words=6, oov_token="<unk>")
    ours = tokenizer_from_json(theirs.to_json())
    assert ours.texts_to_sequences(TEXTS) == theirs.texts_to_sequences(TEXTS)
    np.testing.assert_allclose(
        ours.texts_to_matrix(TEXTS, "tfidf"), theirs.texts_to_matrix(TEXTS, "tfidf"), rtol=1e-12
    )


def test_keras2_import_path():
    with fkeras.compat.as_keras():
        from keras.preprocessing.text import Tokenizer as Keras2Tokenizer  # noqa: I001

    assert Keras2Tokenizer is Tokenizer


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: Tokenizer(num_words=-1),
            ValueError,
            "`num_words` must be None or a non-negative integer",
        ),
        (lambda: Tokenizer(split=3), TypeError, "`split` must be a string or a function"),
        (lambda: Tokenizer(bogus=1), TypeError, r"unexpected keyword argument\(s\): \['bogus'\]"),
        (
            lambda: Tokenizer().fit_on_texts("one string"),
            TypeError,
            "list of texts, not one string",
        ),
        (lambda: Tokenizer().sequences_to_matrix([[1]]), ValueError, "pass `num_words`.*or fit it"),
        (
            lambda: Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tf"),
            ValueError,
            "`mode` must be one of",
        ),
        (
            lambda: Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf"),
            ValueError,
            "fit the Tokenizer",
        ),
        (
            lambda: Tokenizer(num_words=3).sequences_to_matrix([[1, -2]]),
            ValueError,
            "position 0 has -2",
        ),
        (
            lambda: Tokenizer(num_words=3).sequences_to_matrix([["a"]]),
            ValueError,
            "integer word indices",
        ),
        (lambda: text.hashing_trick("a b", 1), ValueError, "`n`.*>= 2. Received: n=1"),
        (
            lambda: text.hashing_trick("a b", 5, hash_function="sha"),
            ValueError,
            "`hash_function` must be",
        ),
        (lambda: text.text_to_word_sequence(5), TypeError, "`text` must be a string"),
        (lambda: tokenizer_from_json("{}"), ValueError, "Not a Tokenizer's JSON"),
    ],
)
def test_mistakes_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
