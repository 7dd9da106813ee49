"""Lambda, Masking, Identity, ActivityRegularization and the noise layers: harness checks with
Keras 3 parity at inference, Lambda serialization and safe mode, masks through a model,
statistical checks of the noise layers in training mode, Hypothesis properties, argument errors."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fkeras.layers._core_extra as C
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, run_layer_test

keras = pytest.importorskip("keras")

CF = "channels_first"


def scaled(x, factor=2.0):
    """A named (module-level) function for Lambda."""
    return x * factor


def masked_sum(x, mask=None, training=False):
    del training
    return x if mask is None else x * mask[..., None]


def _closure(k):
    return lambda x, a=2.0: x * a + k


CASES = {
    "masking": (lambda m: m.Masking(0.5), (2, 3, 4)),
    "masking_default": (lambda m: m.Masking(), (2, 5, 3)),
    "identity": (lambda m: m.Identity(), (2, 3)),
    "activity_reg": (lambda m: m.ActivityRegularization(l1=0.1, l2=0.2), (2, 3)),
    "spatial1d": (lambda m: m.SpatialDropout1D(0.5), (2, 3, 4)),
    "spatial2d_cf": (lambda m: m.SpatialDropout2D(0.3, data_format=CF), (2, 3, 4, 5)),
    "spatial3d": (lambda m: m.SpatialDropout3D(0.5), (2, 3, 2, 2, 2)),
    "gaussian_noise": (lambda m: m.GaussianNoise(0.5), (2, 3)),
    "gaussian_dropout": (lambda m: m.GaussianDropout(0.4), (2, 3, 2)),
    "alpha_dropout": (lambda m: m.AlphaDropout(0.2), (2, 3)),
    "alpha_dropout_noise_shape": (lambda m: m.AlphaDropout(0.2, noise_shape=(None, 1)), (2, 3)),
    "lambda_square": (lambda m: m.Lambda(lambda x: x**2), (2, 3)),
    "lambda_named_args": (lambda m: m.Lambda(scaled, arguments={"factor": 3.0}), (2, 3)),
    "lambda_output_shape": (
        lambda m: m.Lambda(lambda x: jnp.sum(x, axis=1), output_shape=(4,)),
        (2, 3, 4),
    ),
    "lambda_closure": (lambda m: m.Lambda(_closure(1.5)), (2, 3)),
    "lambda_reshape": (lambda m: m.Lambda(lambda x: x.reshape(x.shape[0], -1)), (2, 3, 2)),
}


def assert_config_matches_keras(ours, theirs):
    mine = ours.get_config()
    for key, value in theirs.get_config().items():
        if key in ("name", "dtype", "trainable", "function"):
            continue
        assert key in mine, key
        assert mine[key] == value, (key, mine[key], value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shape = CASES[name]
    ours, theirs = make(C), make(keras.layers)
    with C.safe_mode_scope(False):  # the harness's config round trip reloads lambdas
        run_layer_test(ours, shape, theirs)
    assert_config_matches_keras(ours, theirs)


def test_lambda_on_two_inputs_matches_keras():
    fn = lambda xs: xs[0] * xs[1] + 1.0
    with C.safe_mode_scope(False):
        run_layer_test(C.Lambda(fn), [(2, 3), (2, 3)], keras.layers.Lambda(fn))


# ---- Masking and masks through a model ------------------------------------------------------------


def test_masking_output_and_mask_match_keras():
    x = np.random.RandomState(0).rand(3, 4, 2).astype("float32")
    x[0, 1] = 0.0
    x[2, 3] = 0.0
    x[1, 2, 0] = 0.0  # one zero feature is not enough to mask the step
    ours, theirs = C.Masking(), keras.layers.Masking()
    out, _ = ours.apply({}, x)
    np.testing.assert_array_equal(out, np.asarray(theirs(x)))
    mask = ours.compute_mask(x)
    np.testing.assert_array_equal(mask, np.asarray(theirs.compute_mask(x)))
    np.testing.assert_array_equal(mask, [[1, 0, 1, 1], [1, 1, 1, 1], [1, 1, 1, 0]])


def test_mask_flows_from_masking_to_global_average_pooling_in_a_model():
    from fkeras.layers._input import Input
    from fkeras.layers._pooling import GlobalAveragePooling1D
    from fkeras.models._functional import Model

    x = np.random.RandomState(1).rand(3, 5, 2).astype("float32")
    x[0, 3:] = 0.0
    x[1, 0] = 0.0
    inputs = Input((5, 2))
    model = Model(inputs, GlobalAveragePooling1D()(C.Masking()(inputs)))
    out, _ = model.apply(model.init(jax.random.key(0)), x)
    k_in = keras.Input((5, 2))
    k_model = keras.Model(k_in, keras.layers.GlobalAveragePooling1D()(keras.layers.Masking()(k_in)))
    np.testing.assert_allclose(out, np.asarray(k_model(x)), rtol=1e-6)
    np.testing.assert_allclose(out[0], x[0, :3].mean(axis=0), rtol=1e-6)


# ---- Lambda ------------------------------------------------------------------------------------------


def test_lambda_serializes_a_lambda_as_keras_does_and_configs_load_both_ways():
    fn = _closure(3.0)
    ours, theirs = C.Lambda(fn, name="lam"), keras.layers.Lambda(fn, name="lam")
    assert ours.get_config()["function"] == theirs.get_config()["function"]
    x = jnp.ones((1, 2))
    from_keras = C.Lambda.from_config(theirs.get_config(), safe_mode=False)
    np.testing.assert_allclose(from_keras.apply({}, x)[0], [[5.0, 5.0]])
    to_keras = keras.layers.Lambda.from_config(ours.get_config(), safe_mode=False)
    np.testing.assert_allclose(np.asarray(to_keras(x)), [[5.0, 5.0]])


def test_lambda_json_round_trip_keeps_defaults_closure_and_config():
    layer = C.Lambda(_closure(1.0), output_shape=(3,), arguments={"a": 4.0})
    config = json.loads(json.dumps(layer.get_config()))
    clone = C.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(clone.apply({}, jnp.ones((2, 3)))[0], 5.0)
    # Re-saved unchanged (the loaded function keeps the config it came from).
    assert json.dumps(clone.get_config()) == json.dumps(layer.get_config())
    assert clone.compute_output_spec(TensorSpec((None, 3))).shape == (None, 3)


def test_lambda_loading_code_is_refused_in_safe_mode():
    config = C.Lambda(lambda x: x + 1).get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        C.Lambda.from_config(config)
    with C.safe_mode_scope(False):
        assert C.Lambda.from_config(config).apply({}, jnp.zeros(2))[0][0] == 1
        with pytest.raises(ValueError, match="arbitrary code"):  # an explicit value wins
            C.Lambda.from_config(config, safe_mode=True)
    C.enable_unsafe_deserialization()
    try:
        assert C.in_safe_mode() is False
        C.Lambda.from_config(config)
    finally:
        C.disable_unsafe_deserialization()
    assert C.in_safe_mode() is True
    keras_config = keras.layers.Lambda(lambda x: x + 1).get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        C.Lambda.from_config(keras_config)


def test_lambda_named_functions_load_by_name():
    config = C.Lambda(scaled, arguments={"factor": 2.0}).get_config()
    assert config["function"]["module"] == __name__ and config["function"]["config"] == "scaled"
    with pytest.raises(ValueError, match="custom_objects"):
        C.Lambda.from_config(config)  # importing a module is code: refused in safe mode
    assert C.Lambda.from_config(config, custom_objects={"scaled": scaled}).function is scaled
    assert C.Lambda.from_config(config, safe_mode=False).function is scaled
    # fkeras's activations and backend functions are safe to name.
    from fkeras import activations, backend

    assert C.Lambda.from_config(C.Lambda(backend.square).get_config()).function is backend.square
    keras_relu = keras.layers.Lambda(keras.activations.relu).get_config()  # module 'builtins'
    assert C.Lambda.from_config(keras_relu).function is activations.relu


def test_lambda_reads_keras2_configs():
    config = {
        "name": "l",
        "function": "scaled",
        "function_type": "function",
        "module": __name__,
        "output_shape": None,
        "output_shape_type": "raw",
        "output_shape_module": None,
        "arguments": {},
    }
    layer = C.Lambda.from_config(config, custom_objects={"scaled": scaled})
    np.testing.assert_allclose(layer.apply({}, jnp.ones(2))[0], [2.0, 2.0])


def test_lambda_mask_training_and_output_shape_function():
    layer = C.Lambda(masked_sum, mask=lambda inputs, mask: mask, output_shape=lambda s: s)
    x, mask = jnp.ones((2, 3, 2)), jnp.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    out, _ = layer.apply({}, x, mask=mask)
    np.testing.assert_array_equal(out[:, :, 0], mask)
    assert layer.compute_mask(x, mask) is mask and layer.supports_masking
    assert C.Lambda(masked_sum).compute_mask(x, mask) is None
    assert layer.compute_output_spec(TensorSpec((None, 3, 2))).shape == (None, 3, 2)
    seen = C.Lambda(lambda x, training=False: x * (2.0 if training else 1.0))
    assert float(seen.apply({}, jnp.ones(1), training=True)[0][0]) == 2.0


def test_lambda_output_dtype_and_shape_inference():
    layer = C.Lambda(lambda x: jnp.argmax(x, axis=-1))
    assert layer.compute_output_spec(TensorSpec((None, 4, 5))) == TensorSpec((None, 4), "int32")
    split = C.Lambda(lambda x: [x[:, :2], x[:, 2:]])
    specs = split.compute_output_spec(TensorSpec((None, 5)))
    assert [s.shape for s in specs] == [(None, 2), (None, 3)]
    given_shape = C.Lambda(lambda x: x[:, :2], output_shape=[(2,)])
    assert given_shape.compute_output_spec(TensorSpec((7, 5)))[0].shape == (7, 2)


def test_lambda_inference_failure_is_a_clear_error():
    layer = C.Lambda(lambda x: x @ jnp.ones((3, 3)), name="bad")
    with pytest.raises(ValueError, match="'bad'.*output_shape"):
        layer.compute_output_spec(TensorSpec((None, 4)))


# ---- ActivityRegularization ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "l1, l2, shape", [(0.1, 0.2, (4, 3)), (0.0, 0.5, (2, 3, 2)), (0.3, 0.0, (5,))]
)
def test_activity_penalty_matches_keras_losses(l1, l2, shape):
    x = jnp.asarray(np.random.RandomState(2).randn(*shape).astype("float32"))
    theirs = keras.layers.ActivityRegularization(l1=l1, l2=l2)
    theirs(x)
    ours = C.ActivityRegularization(l1=l1, l2=l2)
    np.testing.assert_allclose(ours.activity_penalty(x), float(theirs.losses[0]), rtol=1e-6)
    np.testing.assert_allclose(
        jax.jit(ours.activity_penalty)(x), float(theirs.losses[0]), rtol=1e-6
    )
    np.testing.assert_array_equal(ours.apply({}, x)[0], x)


# ---- noise layers in training mode ------------------------------------------------------------------


def _train(layer, x, seed=0):
    return np.asarray(layer.apply({}, jnp.asarray(x), training=True, rng=jax.random.key(seed))[0])


def test_gaussian_noise_statistics():
    x = np.ones((200, 100), "float32")
    noise = _train(C.GaussianNoise(0.3), x) - x
    assert abs(noise.mean()) < 4 * 0.3 / np.sqrt(noise.size)
    np.testing.assert_allclose(noise.std(), 0.3, rtol=0.03)


def test_gaussian_dropout_statistics():
    rate = 0.3
    x = np.full((200, 100), 2.0, "float32")
    factor = _train(C.GaussianDropout(rate), x) / 2.0
    np.testing.assert_allclose(
        factor.mean(), 1.0, atol=4 * np.sqrt(rate / (1 - rate) / factor.size)
    )
    np.testing.assert_allclose(factor.var(), rate / (1 - rate), rtol=0.05)


@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_alpha_dropout_keeps_mean_and_variance(rate):
    x = np.random.RandomState(3).randn(400, 100).astype("float32")
    out = _train(C.AlphaDropout(rate), x)
    assert abs(out.mean()) < 0.02 and abs(out.var() - 1.0) < 0.03
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    dropped = np.isclose(out, a * alpha_p - a * alpha_p * rate, atol=1e-5)
    np.testing.assert_allclose(dropped.mean(), rate, atol=0.01)
    kept = ~dropped
    np.testing.assert_allclose(out[kept], a * x[kept] - a * alpha_p * rate, rtol=1e-5, atol=1e-5)


def test_alpha_dropout_noise_shape_drops_whole_rows():
    out = _train(C.AlphaDropout(0.5, noise_shape=(None, 1)), np.ones((64, 8), "float32"))
    assert all(len(set(row.round(5))) == 1 for row in out)


@pytest.mark.parametrize(
    "make, shape, spatial_axes",
    [
        (lambda: C.SpatialDropout1D(0.4), (64, 5, 16), (1,)),
        (lambda: C.SpatialDropout2D(0.4), (64, 3, 4, 16), (1, 2)),
        (lambda: C.SpatialDropout2D(0.4, data_format=CF), (64, 16, 3, 4), (2, 3)),
        (lambda: C.SpatialDropout3D(0.4, data_format=CF), (64, 16, 2, 2, 3), (2, 3, 4)),
        (lambda: C.SpatialDropout3D(0.4), (64, 2, 2, 3, 16), (1, 2, 3)),
    ],
)
def test_spatial_dropout_drops_whole_channels(make, shape, spatial_axes):
    x = np.random.RandomState(4).rand(*shape).astype("float32") + 0.5
    out = _train(make(), x)
    zero = out == 0
    per_channel = zero.all(axis=spatial_axes)
    assert np.array_equal(per_channel, zero.any(axis=spatial_axes))  # all or nothing
    np.testing.assert_allclose(per_channel.mean(), 0.4, atol=0.04)
    np.testing.assert_allclose(out[~zero], x[~zero] / 0.6, rtol=1e-6)


@pytest.mark.parametrize(
    "layer",
    [C.SpatialDropout1D(0.5), C.GaussianNoise(0.1), C.GaussianDropout(0.5), C.AlphaDropout(0.5)],
)
def test_noise_layers_need_rng_and_are_pure(layer):
    x = jnp.ones((4, 3, 5))
    with pytest.raises(ValueError, match="rng"):
        layer.apply({}, x, training=True)
    np.testing.assert_array_equal(layer.apply({}, x)[0], x)  # identity at inference
    key = jax.random.key(7)
    eager = layer.apply({}, x, training=True, rng=key)[0]
    jitted = jax.jit(lambda x, k: layer.apply({}, x, training=True, rng=k)[0])(x, key)
    np.testing.assert_allclose(eager, jitted, rtol=1e-6)
    other = layer.apply({}, x, training=True, rng=jax.random.key(8))[0]
    assert not np.array_equal(eager, other)


def test_zero_and_full_rates():
    x = jnp.ones((2, 3, 4))
    key = jax.random.key(0)
    for layer in (
        C.SpatialDropout1D(0.0),
        C.GaussianNoise(0.0),
        C.GaussianDropout(0.0),
        C.AlphaDropout(0.0),
    ):
        np.testing.assert_array_equal(layer.apply({}, x, training=True)[0], x)  # no rng needed
    np.testing.assert_array_equal(
        C.SpatialDropout1D(1.0).apply({}, x, training=True, rng=key)[0], 0.0
    )


# ---- arguments and inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: C.Lambda(3), "function=3"),
        (lambda: C.Lambda(scaled, mask=np.ones(3)), "mask"),
        (lambda: C.Lambda(scaled, arguments=[1]), r"arguments=\[1\]"),
        (lambda: C.Lambda(scaled, output_shape=5), "output_shape=5"),
        (lambda: C.Masking("pad"), "mask_value='pad'"),
        (lambda: C.ActivityRegularization(l1=-1.0), "l1=-1.0"),
        (lambda: C.ActivityRegularization(l2="x"), "l2='x'"),
        (lambda: C.SpatialDropout2D(1.5), "rate=1.5"),
        (lambda: C.SpatialDropout1D(-0.1), "rate=-0.1"),
        (lambda: C.SpatialDropout3D(0.5, data_format="NDHWC"), "data_format"),
        (lambda: C.GaussianNoise(-1.0), "stddev=-1.0"),
        (lambda: C.GaussianDropout(1.0), "rate=1.0"),
        (lambda: C.AlphaDropout(True), "rate=True"),
        (lambda: C.Identity(bogus=1), "bogus"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (C.SpatialDropout1D(0.5, name="lay"), (2, 3)),
        (C.SpatialDropout2D(0.5, name="lay"), (2, 3, 4)),
        (C.SpatialDropout3D(0.5, name="lay"), (2, 3, 4, 5)),
        (C.AlphaDropout(0.5, noise_shape=(None, 1), name="lay"), (2, 3, 4)),
        (C.Masking(name="lay"), ()),
    ],
)
def test_invalid_inputs_raise_naming_the_layer(layer, shape):
    with pytest.raises(ValueError, match="'lay'"):
        layer.compute_output_spec(TensorSpec(shape))
    with pytest.raises(ValueError, match="'lay'"):
        layer.apply({}, jnp.ones(shape), training=True, rng=jax.random.key(0))


# ---- Hypothesis ---------------------------------------------------------------------------------

NOISE = [
    lambda r, fmt: C.GaussianNoise(r),
    lambda r, fmt: C.GaussianDropout(min(r, 0.9)),
    lambda r, fmt: C.AlphaDropout(min(r, 0.9)),
    lambda r, fmt: C.SpatialDropout1D(r),
    lambda r, fmt: C.SpatialDropout2D(r, data_format=fmt),
    lambda r, fmt: C.SpatialDropout3D(r, data_format=fmt),
]


@settings(max_examples=12)
@given(
    st.integers(0, len(NOISE) - 1),
    st.floats(0.0, 1.0),
    st.sampled_from(["channels_last", CF]),
    st.lists(st.integers(1, 4), min_size=1, max_size=5),
    st.integers(0, 2**31 - 1),
)
def test_noise_layers_shape_property(index, rate, fmt, dims, seed):
    layer = NOISE[index](rate, fmt)
    shape = tuple(dims)
    needed = getattr(layer, "_ndim", None)
    if needed is not None and len(shape) != needed:
        with pytest.raises(ValueError, match=f"rank {needed}"):
            layer.compute_output_spec(TensorSpec(shape))
        return
    check_shapes(layer, shape)
    out = _train(layer, np.ones(shape, "float32"), seed)
    assert out.shape == shape and out.dtype == np.float32 and np.all(np.isfinite(out))


@settings(max_examples=12)
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4),
    st.sampled_from([0.0, 1.0, -2.5]),
    st.data(),
)
def test_masking_property(dims, value, data):
    shape = tuple(dims)
    x = np.asarray(
        data.draw(
            st.lists(
                st.sampled_from([value, 0.5]),
                min_size=int(np.prod(shape)),
                max_size=int(np.prod(shape)),
            )
        ),
        "float32",
    ).reshape(shape)
    layer = C.Masking(value)
    _, _, out = check_shapes(layer, shape)
    keep = np.any(x != value, axis=-1)
    np.testing.assert_array_equal(layer.compute_mask(jnp.asarray(x)), keep)
    np.testing.assert_array_equal(layer.apply({}, x)[0], np.where(keep[..., None], x, 0.0))
    assert out.shape == shape
