"""fkeras.utils._np_utils (to_categorical, normalize) against Keras 3's keras.utils."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fkeras.utils._np_utils import normalize, to_categorical

LABELS = [
    ([0, 2, 1, 2], None),
    ([0, 2, 1, 2], 5),
    ([[0], [3], [1]], None),
    ([[0], [3], [1]], 4),
    ([[0, 1], [2, 0]], None),  # (2, 2): a trailing axis of size 2 is kept
    ([[[1], [0]], [[2], [2]]], None),  # (2, 2, 1) -> (2, 2, 3)
    ([[[1, 0, 2]]], 3),  # (1, 1, 3) -> (1, 1, 3, 3)
    ([3], None),  # (1,) -> (1, 4)
    ([[4]], 6),  # (1, 1) -> (1, 6)
    (np.array([1, 0], dtype="uint8"), 2),
    (np.array([1.0, 3.0]), None),  # float labels are truncated to int, as in Keras
]


@pytest.mark.parametrize(
    "y,num_classes", LABELS, ids=[str(np.shape(y)) + f"-{n}" for y, n in LABELS]
)
def test_to_categorical_matches_keras3(keras3, y, num_classes):
    expected = keras3.utils.to_categorical(y, num_classes)
    got = to_categorical(y, num_classes)
    assert isinstance(got, np.ndarray)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_to_categorical_hand_computed_and_dtype():
    np.testing.assert_array_equal(to_categorical([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    assert to_categorical([0, 2], 3, dtype="int32").dtype == np.int32
    assert to_categorical(np.zeros((5, 1)), 10).shape == (5, 10)
    assert to_categorical(jnp.array([1, 0])).shape == (2, 2)


def test_to_categorical_out_of_range_raises():
    with pytest.raises(ValueError, match=r"num_classes=3.*from 0 to 3"):
        to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match=r"from -1 to 1"):
        to_categorical([-1, 1], 3)


ARRAYS = [
    (np.random.default_rng(0).normal(size=(4, 5)), -1, 2),
    (np.random.default_rng(1).normal(size=(4, 5)), 1, 2),
    (np.random.default_rng(2).normal(size=(3, 4, 2)), -1, 1),
    (np.random.default_rng(3).normal(size=(6,)), -1, 2),
    (np.array([[0.0, 0.0], [3.0, 4.0]]), -1, 2),  # a zero row stays zero
]


@pytest.mark.parametrize("x,axis,order", ARRAYS, ids=lambda v: str(getattr(v, "shape", v)))
def test_normalize_numpy_matches_keras3(keras3, x, axis, order):
    expected = keras3.utils.normalize(x, axis=axis, order=order)
    got = normalize(x, axis=axis, order=order)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("x,axis,order", ARRAYS, ids=lambda v: str(getattr(v, "shape", v)))
def test_normalize_jax_matches_keras3(keras3, x, axis, order):
    x = jnp.asarray(x, "float32")
    expected = np.asarray(keras3.utils.normalize(x, axis=axis, order=order))
    got = normalize(x, axis=axis, order=order)
    assert isinstance(got, jax.Array)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jax.jit(lambda v: normalize(v, axis, order))(x), expected, rtol=1e-6)


def test_normalize_axis_0_numpy():
    # Keras 3's NumPy path turns axis=0 into -1 (`axis or -1`); fkeras keeps Keras 2's axis 0.
    x = np.array([[3.0, 1.0], [4.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[0.6, 1.0], [0.8, 0.0]])
