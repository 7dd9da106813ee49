"""Pooling layers (windowed and global, 1D/2D/3D): harness checks with Keras 3 parity, config
parity, hand-computed cases, masks, Hypothesis shape properties and argument errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fkeras.layers._pooling as P
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, run_layer_test

keras = pytest.importorskip("keras")

CF = "channels_first"

# name -> (factory over a module holding the layer classes, input shape[, call kwargs]).
CASES = {
    "max1d": (lambda m: m.MaxPooling1D(), (2, 8, 3)),
    "max1d_same_cf": (
        lambda m: m.MaxPooling1D(3, strides=2, padding="same", data_format=CF),
        (2, 3, 8),
    ),
    "max2d": (lambda m: m.MaxPooling2D(), (2, 6, 6, 3)),
    "max2d_same": (lambda m: m.MaxPooling2D((2, 3), strides=(1, 2), padding="same"), (2, 5, 7, 3)),
    "max2d_valid_cf": (lambda m: m.MaxPooling2D(3, strides=1, data_format=CF), (2, 3, 5, 6)),
    "max3d": (lambda m: m.MaxPooling3D(), (2, 4, 4, 4, 2)),
    "max3d_same_cf": (
        lambda m: m.MaxPooling3D(3, strides=2, padding="same", data_format=CF),
        (2, 2, 5, 4, 3),
    ),
    "avg1d_same": (lambda m: m.AveragePooling1D(3, strides=1, padding="same"), (2, 7, 3)),
    "avg1d_cf": (lambda m: m.AveragePooling1D(2, data_format=CF), (2, 3, 7)),
    "avg2d_same": (lambda m: m.AveragePooling2D(3, strides=2, padding="same"), (2, 5, 7, 2)),
    "avg2d_same_stride1": (
        lambda m: m.AveragePooling2D((2, 3), strides=1, padding="same"),
        (2, 4, 5, 2),
    ),
    "avg2d_cf": (lambda m: m.AveragePooling2D((2, 2), data_format=CF), (2, 3, 4, 6)),
    "avg3d_same": (lambda m: m.AveragePooling3D(2, strides=1, padding="same"), (2, 3, 4, 5, 2)),
    "avg3d_valid_cf": (lambda m: m.AveragePooling3D((1, 2, 2), data_format=CF), (2, 2, 3, 4, 5)),
    "gmax1d": (lambda m: m.GlobalMaxPooling1D(), (2, 5, 3)),
    "gmax1d_keep_cf": (lambda m: m.GlobalMaxPooling1D(data_format=CF, keepdims=True), (2, 3, 5)),
    "gmax2d_keep": (lambda m: m.GlobalMaxPooling2D(keepdims=True), (2, 4, 5, 3)),
    "gmax3d_cf": (lambda m: m.GlobalMaxPooling3D(data_format=CF), (2, 3, 2, 3, 4)),
    "gavg1d": (lambda m: m.GlobalAveragePooling1D(), (2, 5, 3)),
    "gavg1d_keep_cf": (
        lambda m: m.GlobalAveragePooling1D(data_format=CF, keepdims=True),
        (2, 3, 5),
    ),
    "gavg2d": (lambda m: m.GlobalAveragePooling2D(), (2, 4, 5, 3)),
    "gavg2d_keep_cf": (
        lambda m: m.GlobalAveragePooling2D(data_format=CF, keepdims=True),
        (2, 3, 4, 5),
    ),
    "gavg3d_keep": (lambda m: m.GlobalAveragePooling3D(keepdims=True), (2, 2, 3, 4, 3)),
}

MASK = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
MASKED_CASES = {
    "gavg1d_mask": (lambda m: m.GlobalAveragePooling1D(), (2, 5, 3)),
    "gavg1d_mask_keep": (lambda m: m.GlobalAveragePooling1D(keepdims=True), (2, 5, 3)),
    "gavg1d_mask_cf": (lambda m: m.GlobalAveragePooling1D(data_format=CF), (2, 3, 5)),
}

ALIASES = {
    "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D",
    "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D",
}


def assert_config_matches_keras(ours, theirs):
    """Every config key Keras writes (but name/dtype) is ours too, with the same value."""
    mine = ours.get_config()
    for key, value in theirs.get_config().items():
        if key in ("name", "dtype", "trainable"):
            continue
        assert key in mine, key
        assert mine[key] == value, (key, mine[key], value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shape = CASES[name]
    ours, theirs = make(P), make(keras.layers)
    run_layer_test(ours, shape, theirs)
    assert_config_matches_keras(ours, theirs)


@pytest.mark.parametrize("name", sorted(MASKED_CASES))
def test_global_average_1d_mask_matches_keras(name):
    make, shape = MASKED_CASES[name]
    run_layer_test(make(P), shape, make(keras.layers), call_kwargs={"mask": MASK})


def test_global_average_1d_mask_hand_computed():
    x = jnp.arange(2 * 4 * 1, dtype="float32").reshape(2, 4, 1)
    mask = jnp.array([[True, False, True, False], [False, False, False, True]])
    layer = P.GlobalAveragePooling1D()
    out, _ = layer.apply({}, x, mask=mask)
    np.testing.assert_allclose(out, [[1.0], [7.0]])  # (0 + 2) / 2 and 7 / 1
    assert layer.compute_mask(x, mask) is None  # the mask is consumed
    assert layer.accepts("mask")


def test_max_and_average_hand_computed():
    x = jnp.array([1.0, 5.0, 2.0, 4.0, 3.0]).reshape(1, 5, 1)
    out, _ = P.MaxPooling1D(2).apply({}, x)
    np.testing.assert_allclose(out.ravel(), [5.0, 4.0])  # valid: last step dropped
    out, _ = P.MaxPooling1D(2, padding="same").apply({}, x)
    np.testing.assert_allclose(out.ravel(), [5.0, 4.0, 3.0])
    # 'same' average divides by the count of real elements: the border window holds only 3.0.
    out, _ = P.AveragePooling1D(2, padding="same").apply({}, x)
    np.testing.assert_allclose(out.ravel(), [3.0, 3.0, 3.0])
    out, _ = P.AveragePooling1D(3, strides=1, padding="same").apply({}, x)
    np.testing.assert_allclose(out.ravel(), [3.0, 8 / 3, 11 / 3, 3.0, 3.5], rtol=1e-6)
    out, _ = P.GlobalMaxPooling1D().apply({}, x)
    np.testing.assert_allclose(out, [[5.0]])
    out, _ = P.GlobalAveragePooling1D().apply({}, x)
    np.testing.assert_allclose(out, [[3.0]])


def test_default_arguments_and_aliases():
    assert P.MaxPooling2D().pool_size == (2, 2) and P.MaxPooling2D().strides == (2, 2)
    assert P.MaxPooling1D(3).strides == (3,)
    assert P.AveragePooling2D((2, 3), strides=1).strides == (1, 1)
    assert P.AveragePooling3D().pool_size == (2, 2, 2)  # Keras 2's default (Keras 3 requires it)
    assert P.GlobalAveragePooling2D().keepdims is False
    for alias, name in ALIASES.items():
        assert getattr(P, alias) is getattr(P, name)
        assert getattr(keras.layers, alias) is getattr(keras.layers, name)


def test_unknown_dims_and_jit():
    layer = P.MaxPooling2D(2, padding="same")
    spec = layer.compute_output_spec(TensorSpec((None, None, 7, 3)))
    assert spec.shape == (None, None, 4, 3)
    x = jnp.ones((2, 5, 7, 3))
    np.testing.assert_array_equal(
        jax.jit(lambda x: layer.apply({}, x)[0])(x), jnp.ones((2, 3, 4, 3))
    )


def test_config_round_trip_keeps_everything():
    layer = P.AveragePooling2D((2, 3), strides=(1, 2), padding="same", data_format=CF, name="p")
    clone = P.AveragePooling2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.pool_size, clone.strides, clone.padding, clone.data_format) == (
        (2, 3),
        (1, 2),
        "same",
        CF,
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: P.MaxPooling2D(0), "pool_size=0"),
        (lambda: P.MaxPooling2D((2, 2, 2)), r"pool_size=\(2, 2, 2\)"),
        (lambda: P.MaxPooling1D(2.5), "pool_size=2.5"),
        (lambda: P.AveragePooling2D(2, strides=0), "strides=0"),
        (lambda: P.AveragePooling3D(2, strides=(1, -1, 1)), "strides"),
        (lambda: P.MaxPooling2D(padding="causal"), "padding='causal'"),
        (lambda: P.MaxPooling2D(data_format="channels_middle"), "data_format"),
        (lambda: P.GlobalMaxPooling2D(keepdims="yes"), "keepdims"),
        (lambda: P.GlobalAveragePooling1D(data_format="NCW"), "data_format"),
        (lambda: P.MaxPooling2D(bogus=1), "bogus"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (P.MaxPooling2D(name="mp"), (2, 6, 3)),  # wrong rank
        (P.AveragePooling1D(name="mp"), (2, 6, 3, 1)),
        (P.GlobalMaxPooling3D(name="mp"), (2, 3, 4, 5)),
        (P.MaxPooling2D(3, name="mp"), (2, 2, 6, 3)),  # window larger than the input, valid padding
        (P.AveragePooling3D((1, 1, 4), name="mp"), (2, 3, 3, 3, 1)),
    ],
)
def test_invalid_inputs_raise_naming_the_layer(layer, shape):
    with pytest.raises(ValueError, match="'mp'"):
        layer.compute_output_spec(TensorSpec(shape))
    with pytest.raises(ValueError, match="'mp'"):
        layer.apply({}, jnp.ones(shape))


def test_two_inputs_raise():
    with pytest.raises(ValueError, match="single input"):
        P.GlobalMaxPooling1D().compute_output_spec([TensorSpec((2, 3, 4)), TensorSpec((2, 3, 4))])


# ---- Hypothesis ---------------------------------------------------------------------------------

WINDOWED = {
    (1, "max"): P.MaxPooling1D,
    (2, "max"): P.MaxPooling2D,
    (3, "max"): P.MaxPooling3D,
    (1, "avg"): P.AveragePooling1D,
    (2, "avg"): P.AveragePooling2D,
    (3, "avg"): P.AveragePooling3D,
}


@st.composite
def windowed_configs(draw):
    rank = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["max", "avg"]))
    pool = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * rank)))
    padding = draw(st.sampled_from(["valid", "same"]))
    data_format = draw(st.sampled_from(["channels_last", CF]))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    shape = (
        (batch,) + spatial + (channels,)
        if data_format == "channels_last"
        else (batch, channels) + spatial
    )
    layer = WINDOWED[rank, mode](pool, strides=strides, padding=padding, data_format=data_format)
    return layer, shape


@given(windowed_configs())
def test_windowed_pooling_shapes_property(config):
    from keras.src.ops.operation_utils import compute_pooling_output_shape

    layer, shape = config
    spatial = shape[1:-1] if layer.data_format == "channels_last" else shape[2:]
    if layer.padding == "valid" and any(s < p for s, p in zip(spatial, layer.pool_size)):
        with pytest.raises(ValueError, match=layer.name):
            layer.compute_output_spec(TensorSpec(shape))
        with pytest.raises(ValueError, match=layer.name):
            layer.apply({}, jnp.ones(shape))
        return
    _, _, out = check_shapes(layer, shape)
    expected = compute_pooling_output_shape(
        shape, layer.pool_size, layer.strides, layer.padding, layer.data_format
    )
    assert out.shape == tuple(expected)
    assert bool(jnp.all(jnp.isfinite(out)))


GLOBAL = {
    (1, "max"): P.GlobalMaxPooling1D,
    (2, "max"): P.GlobalMaxPooling2D,
    (3, "max"): P.GlobalMaxPooling3D,
    (1, "avg"): P.GlobalAveragePooling1D,
    (2, "avg"): P.GlobalAveragePooling2D,
    (3, "avg"): P.GlobalAveragePooling3D,
}


@given(
    st.integers(1, 3),
    st.sampled_from(["max", "avg"]),
    st.booleans(),
    st.sampled_from(["channels_last", CF]),
    st.lists(st.integers(1, 4), min_size=1, max_size=6),
)
def test_global_pooling_shapes_property(rank, mode, keepdims, data_format, dims):
    layer = GLOBAL[rank, mode](data_format=data_format, keepdims=keepdims)
    shape = tuple(dims)
    if len(shape) != rank + 2:
        with pytest.raises(ValueError, match=f"rank {rank + 2}"):
            layer.compute_output_spec(TensorSpec(shape))
        return
    _, x, out = check_shapes(layer, shape)
    reduce = jnp.max if mode == "max" else jnp.mean
    axes = (
        tuple(range(1, rank + 1)) if data_format == "channels_last" else tuple(range(2, rank + 2))
    )
    np.testing.assert_allclose(out, reduce(x, axis=axes, keepdims=keepdims), rtol=1e-6)
