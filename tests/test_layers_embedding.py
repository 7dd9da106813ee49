"""Embedding: Keras 3 parity, masks, Keras 2 arguments (input_length, weights), shapes, errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fkeras.layers._embedding import Embedding
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, run_layer_test

# id -> (fkeras factory, keras factory, input shape, input dtype)
CASES = {
    "basic": (lambda: Embedding(10, 3), lambda k: k.layers.Embedding(10, 3), (4, 6), "int32"),
    "mask_zero_3d": (
        lambda: Embedding(12, 2, mask_zero=True),
        lambda k: k.layers.Embedding(12, 2, mask_zero=True),
        (2, 3, 4),
        "int32",
    ),
    "float_indices": (
        lambda: Embedding(10, 5),
        lambda k: k.layers.Embedding(10, 5),
        (3, 4),
        "float32",
    ),
    "int64_indices": (lambda: Embedding(10, 2), lambda k: k.layers.Embedding(10, 2), (3,), "int64"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_keras_parity(case, keras3):
    fk, kf, shape, dtype = CASES[case]
    if dtype == "int64" and not jax.config.jax_enable_x64:
        dtype = "int32"
    kwargs = {"low": 0, "high": 9.99} if dtype == "float32" else {}
    run_layer_test(fk(), shape, keras_layer=kf(keras3), dtype=dtype, **kwargs)


def test_lookup_is_a_row_gather():
    layer = Embedding(4, 2)
    table = jnp.arange(8.0).reshape(4, 2)
    out, state = layer.apply(
        {"params": {"embeddings": table}, "state": {}}, jnp.array([[3, 0], [1, 1]])
    )
    np.testing.assert_array_equal(out, [[[6, 7], [0, 1]], [[2, 3], [2, 3]]])
    assert state == {}
    floats, _ = layer.apply({"params": {"embeddings": table}, "state": {}}, jnp.array([2.9, 1.0]))
    np.testing.assert_array_equal(floats, [[4, 5], [2, 3]])  # cast to int32 truncates, as Keras


def test_mask_zero(keras3):
    x = np.array([[1, 0, 3], [0, 0, 2]], "int32")
    masked = Embedding(5, 2, mask_zero=True)
    np.testing.assert_array_equal(masked.compute_mask(x), x != 0)
    np.testing.assert_array_equal(
        masked.compute_mask(x), keras3.layers.Embedding(5, 2, mask_zero=True).compute_mask(x)
    )
    assert masked.supports_masking
    plain = Embedding(5, 2)
    assert plain.compute_mask(x, mask=np.ones_like(x, bool)) is None
    assert not plain.supports_masking


def test_default_initializer_is_keras_uniform():
    v = Embedding(200, 50).init(jax.random.key(0), TensorSpec((None, 3), "int32"))
    table = np.asarray(v["params"]["embeddings"])
    assert table.shape == (200, 50) and table.dtype == np.float32
    assert -0.05 <= table.min() < -0.04 and 0.04 < table.max() <= 0.05


def test_keras2_input_length_and_weights():
    layer = Embedding(output_dim=8, input_dim=100, input_length=10)
    assert layer.batch_input_shape == (None, 10)
    assert layer.input_dim == 100  # the vocabulary, not the base class's input shape
    config = layer.get_config()
    assert config["batch_input_shape"] == (None, 10) and "input_length" not in config
    assert Embedding.from_config(config).batch_input_shape == (None, 10)
    matrix = np.arange(12, dtype="float32").reshape(6, 2)
    for weights in ([matrix], matrix):
        preset = Embedding(6, 2, weights=weights)
        out = preset(np.array([[5, 1]]))
        np.testing.assert_array_equal(out, [[[10, 11], [2, 3]]])
        np.testing.assert_array_equal(preset.get_weights()[0], matrix)


def test_penalty_and_constraint():
    from fkeras import regularizers

    layer = Embedding(
        5, 3, embeddings_regularizer=regularizers.L1(0.5), embeddings_constraint="non_neg"
    )
    v = layer.init(jax.random.key(0), TensorSpec((None, 2), "int32"))
    table = v["params"]["embeddings"]
    np.testing.assert_allclose(layer.penalty(v["params"]), 0.5 * np.abs(table).sum(), rtol=1e-6)
    assert np.all(np.asarray(layer.constrain(v["params"])["embeddings"]) >= 0)
    assert Embedding(5, 3).penalty(v["params"]) == 0.0


@given(
    st.integers(1, 20),
    st.integers(1, 6),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["int32", "float32"]),
)
def test_output_spec_matches_apply(input_dim, output_dim, shape, dtype):
    layer = Embedding(input_dim, output_dim)
    kwargs = {"int_high": input_dim} if dtype == "int32" else {"low": 0, "high": input_dim - 0.01}
    check_shapes(layer, tuple(shape), dtype=dtype, **kwargs)
    assert layer.compute_output_spec(TensorSpec((None,) * len(shape), dtype)).shape == (
        None,
    ) * len(shape) + (output_dim,)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_dim": 0, "output_dim": 2}, "input_dim=0"),
        ({"input_dim": -3, "output_dim": 2}, "input_dim=-3"),
        ({"input_dim": 2.5, "output_dim": 2}, "input_dim=2.5"),
        ({"input_dim": 5, "output_dim": 0}, "output_dim=0"),
        ({"input_dim": 5, "output_dim": True}, "output_dim=True"),
        ({"input_dim": 5, "output_dim": 2, "input_length": 0}, "input_length=0"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Embedding(**kwargs)


def test_invalid_inputs_and_unknown_arguments():
    with pytest.raises(TypeError, match="single tensor"):
        Embedding(5, 2).compute_output_spec([TensorSpec((None, 2)), TensorSpec((None, 2))])
    with pytest.raises(TypeError, match="mask_zeros"):
        Embedding(5, 2, mask_zeros=True)
