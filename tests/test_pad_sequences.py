"""`pad_sequences` (fkeras.utils, and Keras 2's fkeras.preprocessing.sequence) against Keras 3's
`keras.utils.pad_sequences`, by hand, and its errors."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fkeras
import fkeras.compat
from fkeras.utils import pad_sequences

RAGGED = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]

CASES = [
    dict(),
    dict(maxlen=2),
    dict(maxlen=2, truncating="post"),
    dict(maxlen=7, padding="post"),
    dict(maxlen=3, padding="post", truncating="post", value=-1),
    dict(dtype="float32", value=0.5),
    dict(maxlen=0),
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(sorted(c.items())) for c in CASES])
def test_matches_keras3(keras3, kwargs):
    expected = keras3.utils.pad_sequences(RAGGED, **kwargs) if kwargs.get("maxlen") != 0 else None
    got = pad_sequences(RAGGED, **kwargs)
    if expected is None:  # Keras cannot cut to length 0 (`s[-0:]` keeps everything)
        assert got.shape == (4, 0)
        return
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    maxlen=st.one_of(st.none(), st.integers(1, 7)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    feature=st.booleans(),
)
def test_matches_keras3_on_random_shapes(keras3, lengths, maxlen, padding, truncating, feature):
    """Ragged lists of scalars or of 2-vectors: same array, dtype and shape as Keras 3."""
    rng = np.random.default_rng(sum(lengths))
    seqs = [rng.integers(1, 50, size=(n, 2) if feature else n).tolist() for n in lengths]
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    expected = keras3.utils.pad_sequences(seqs, **kwargs)
    got = pad_sequences(seqs, **kwargs)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_by_hand():
    np.testing.assert_array_equal(
        pad_sequences([[1, 2, 3], [4, 5]], maxlen=4),
        [[0, 1, 2, 3], [0, 0, 4, 5]],
    )
    np.testing.assert_array_equal(
        pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post"),
        [[1, 2], [4, 5]],
    )
    vectors = pad_sequences(
        [np.ones((2, 3)), np.full((1, 3), 7.0)], dtype="float32", padding="post"
    )
    assert vectors.shape == (2, 2, 3) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors[1], [[7, 7, 7], [0, 0, 0]])
    assert pad_sequences([]).shape == (0, 0)
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]


def test_keras2_and_keras3_paths():
    from fkeras.preprocessing import sequence

    assert sequence.pad_sequences is fkeras.utils.pad_sequences
    assert fkeras.preprocessing.sequence.pad_sequences is pad_sequences
    with fkeras.compat.as_keras():
        from keras.preprocessing import sequence as keras2_sequence  # noqa: I001

        np.testing.assert_array_equal(
            keras2_sequence.pad_sequences([[1], [2, 3]]), [[0, 1], [2, 3]]
        )


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((5,), {}, "list of sequences"),
        (([1, 2],), {}, "position 0 has no length"),
        ((RAGGED,), dict(padding="middle"), "`padding` must be 'pre' or 'post'.*'middle'"),
        ((RAGGED,), dict(truncating="end"), "`truncating` must be 'pre' or 'post'.*'end'"),
        ((RAGGED,), dict(maxlen=-1), "`maxlen` must be None or a non-negative integer.*-1"),
        ((RAGGED,), dict(maxlen=2.5), "`maxlen`.*2.5"),
        (
            ([[1, 2], [[1, 2], [3, 4]]],),
            {},
            "position 1 has elements of shape \\(2,\\), expected \\(\\)",
        ),
        ((RAGGED,), dict(value="x"), "string `value` needs `dtype=object`"),
        (
            ([["a", "b"]],),
            {},
            "position 0 of `sequences` does not convert to an array of dtype int32",
        ),
        (([[[1, 2], [3]]],), {}, "position 0 of `sequences` does not convert to an array:"),
    ],
)
def test_bad_arguments_raise(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dtype="no-such-type"), "`dtype` must be a NumPy dtype.*'no-such-type'"),
        (dict(value=None), "`value` cannot fill an array of dtype int32. Received: value=None"),
    ],
)
def test_bad_types_raise(kwargs, match):
    with pytest.raises(TypeError, match=match):
        pad_sequences(RAGGED, **kwargs)
