"""Convolution layers (fkeras.layers._conv) against Keras 3 on the JAX backend.

A registry table drives the harness (shapes, purity, config round trip, output and input-gradient
parity) and a weight-gradient parity check; Hypothesis draws random valid configs (shapes agree
with Keras's own shape inference) and invalid ones (a ValueError naming the layer).
"""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fkeras import constraints, regularizers
from fkeras.layers import _conv as conv
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import init_layer, make_inputs, run_layer_test


@contextlib.contextmanager
def strict_jax():
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


# A random bias, so that parity also checks how the bias is broadcast.
B = {"bias_initializer": "random_uniform"}
CF = {"data_format": "channels_first"}


def row(name, shape, weight_grads=False, **kwargs):
    """A registry row: the same kwargs build the fkeras and the Keras 3 layer; `weight_grads`
    asks for a weight-gradient comparison too (on some rows only, to keep the file fast)."""
    return pytest.param(name, kwargs, shape, weight_grads, id=f"{name}{shape}-{_describe(kwargs)}")


def _describe(kwargs):
    return "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "bias_initializer")


LAYERS = [
    row(
        "Conv1D", (2, 9, 3), True, filters=4, kernel_size=3, padding="causal", dilation_rate=2, **B
    ),
    row("Conv1D", (2, 4, 7), filters=6, kernel_size=2, padding="causal", strides=2, groups=2, **CF),
    row("Conv1D", (2, 3, 9), filters=4, kernel_size=3, strides=2, padding="same", **CF, **B),
    row(
        "Conv2D",
        (2, 3, 7, 6),
        True,
        filters=4,
        kernel_size=(3, 2),
        strides=2,
        padding="same",
        **CF,
        **B,
    ),
    row(
        "Conv2D",
        (2, 8, 6, 2),
        filters=5,
        kernel_size=3,
        dilation_rate=(2, 1),
        padding="same",
        activation="relu",
        **B,
    ),
    row("Conv2D", (2, 5, 5, 6), filters=6, kernel_size=2, groups=3, use_bias=False),
    row("Conv3D", (1, 2, 5, 4, 5), filters=4, kernel_size=3, strides=2, padding="same", **CF, **B),
    row("Conv3D", (1, 5, 5, 5, 4), True, filters=4, kernel_size=2, dilation_rate=2, groups=2, **B),
    row(
        "Conv1DTranspose",
        (2, 4, 5),
        filters=3,
        kernel_size=4,
        strides=3,
        padding="same",
        output_padding=1,
        **CF,
        **B,
    ),
    row("Conv1DTranspose", (2, 5, 2), filters=3, kernel_size=3, dilation_rate=2, padding="same"),
    row("Conv2DTranspose", (2, 4, 5, 3), filters=4, kernel_size=3, strides=2, padding="same", **B),
    row(
        "Conv2DTranspose",
        (2, 3, 4, 3),
        True,
        filters=4,
        kernel_size=(3, 2),
        strides=(2, 3),
        output_padding=(1, 2),
        **CF,
        **B,
    ),
    row(
        "Conv2DTranspose",
        (2, 3, 3, 2),
        filters=2,
        kernel_size=4,
        strides=2,
        padding="same",
        output_padding=0,
    ),
    row(
        "Conv3DTranspose",
        (1, 3, 2, 3, 2),
        True,
        filters=2,
        kernel_size=2,
        strides=2,
        padding="same",
        output_padding=1,
        **B,
    ),
    row(
        "DepthwiseConv1D",
        (2, 9, 3),
        kernel_size=3,
        depth_multiplier=2,
        strides=2,
        padding="same",
        **B,
    ),
    row(
        "DepthwiseConv2D",
        (2, 3, 7, 6),
        True,
        kernel_size=(2, 3),
        strides=2,
        padding="same",
        **CF,
        **B,
    ),
    row(
        "SeparableConv1D",
        (2, 3, 8),
        filters=4,
        kernel_size=3,
        depth_multiplier=2,
        padding="same",
        **CF,
    ),
    row(
        "SeparableConv2D",
        (2, 7, 6, 3),
        filters=5,
        kernel_size=3,
        strides=2,
        padding="same",
        depth_multiplier=2,
        **B,
    ),
    row(
        "SeparableConv2D", (2, 3, 6, 6), True, filters=5, kernel_size=2, dilation_rate=2, **CF, **B
    ),
]


@pytest.mark.parametrize("name,kwargs,shape,weight_grads", LAYERS)
def test_layer_matches_keras3(keras3, name, kwargs, shape, weight_grads):
    layer = getattr(conv, name)(**kwargs)
    theirs = getattr(keras3.layers, name)(**kwargs)
    with strict_jax():
        variables, x, _ = run_layer_test(layer, shape, keras_layer=theirs)
    # Keras's weight names, shapes and creation order (the harness copied ours into `theirs`).
    assert list(variables["params"]) == [w.path.split("/")[-1] for w in theirs.weights]
    assert [v.shape for v in variables["params"].values()] == [
        tuple(w.shape) for w in theirs.weights
    ]
    if weight_grads:
        check_weight_gradients(layer, theirs, variables, jnp.asarray(x))


def check_weight_gradients(layer, theirs, variables, x):
    """Gradients of a scalar loss w.r.t. every weight agree with Keras 3's."""

    def ours_loss(params):
        return jnp.sum(jnp.sin(layer.apply({"params": params, "state": {}}, x)[0]))

    def theirs_loss(weights):
        return jnp.sum(jnp.sin(theirs.stateless_call(weights, [], x)[0]))

    ours_grads = jax.grad(ours_loss)(variables["params"])
    their_grads = jax.grad(theirs_loss)([w.value for w in theirs.trainable_variables])
    assert len(ours_grads) == len(their_grads)
    for a, b in zip([ours_grads[k] for k in variables["params"]], their_grads):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


# ---- hand-computed cases ---------------------------------------------------------------------------


def test_conv1d_causal_is_a_running_window_sum():
    layer = conv.Conv1D(1, 3, padding="causal", kernel_initializer="ones", bias_initializer="ones")
    variables, _ = init_layer(layer, (1, 5, 1))
    x = np.arange(1.0, 6.0, dtype="float32").reshape(1, 5, 1)
    out, state = layer.apply(variables, x)
    # output[t] = x[t-2] + x[t-1] + x[t] + 1, with zeros before the start.
    np.testing.assert_array_equal(np.asarray(out).ravel(), [2.0, 4.0, 7.0, 10.0, 13.0])
    assert state == {}


def test_conv2d_transpose_stride_spreads_the_input():
    layer = conv.Conv2DTranspose(1, 1, strides=2, kernel_initializer="ones", use_bias=False)
    variables, _ = init_layer(layer, (1, 2, 2, 1))
    x = np.array([1.0, 2.0, 3.0, 4.0], "float32").reshape(1, 2, 2, 1)
    out = np.asarray(layer.apply(variables, x)[0])[0, :, :, 0]
    # 'valid' with strides 2 and a 1x1 kernel: (2 - 1) * 2 + max(1, 2) = 4 outputs per axis.
    np.testing.assert_array_equal(out, [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])


def test_depthwise_output_channels_are_channel_major():
    layer = conv.DepthwiseConv1D(1, depth_multiplier=2, use_bias=False)
    kernel = np.array([[[1.0, 10.0], [100.0, 1000.0]]], "float32")  # (1, in=2, multiplier=2)
    x = np.array([[[1.0, 2.0]]], "float32")
    out = layer.apply({"params": {"kernel": kernel}, "state": {}}, x)[0]
    np.testing.assert_array_equal(np.asarray(out), [[[1.0, 10.0, 200.0, 2000.0]]])


def test_integer_inputs_are_cast_to_the_kernel_dtype():
    layer = conv.Conv2D(2, 2)
    variables, _ = init_layer(layer, (1, 3, 3, 1))
    out = layer.apply(variables, np.ones((1, 3, 3, 1), "int32"))[0]
    assert out.dtype == jnp.float32 and out.shape == (1, 2, 2, 2)


# ---- arguments, config, penalties, aliases ---------------------------------------------------------

INVALID_ARGS = [
    ("Conv2D", {"filters": 0, "kernel_size": 3}, "filters=0"),
    ("Conv1D", {"filters": -2, "kernel_size": 3}, "filters=-2"),
    ("Conv2D", {"filters": 2.5, "kernel_size": 3}, "filters=2.5"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 0}, "groups=0"),
    ("Conv2D", {"filters": 5, "kernel_size": 3, "groups": 2}, "groups=2, filters=5"),
    ("Conv2D", {"filters": 4, "kernel_size": 0}, "kernel_size=0"),
    ("Conv2D", {"filters": 4, "kernel_size": (3, 3, 3)}, "kernel_size=(3, 3, 3)"),
    ("Conv3D", {"filters": 4, "kernel_size": 3, "strides": (1, 0, 1)}, "strides=(1, 0, 1)"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "dilation_rate": "2"}, "dilation_rate='2'"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "causal"}, "padding='causal'"),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "padding": "causal"}, "padding='causal'"),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "full"}, "padding='full'"),
    (
        "Conv2D",
        {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
        "dilation_rate=(2, 2)",
    ),
    (
        "Conv2DTranspose",
        {"filters": 4, "kernel_size": 3, "strides": 2, "output_padding": 2},
        "output_padding=(2, 2)",
    ),
    (
        "Conv1DTranspose",
        {"filters": 4, "kernel_size": 3, "output_padding": -1},
        "output_padding=-1",
    ),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 0}, "depth_multiplier=0"),
    ("SeparableConv2D", {"filters": 0, "kernel_size": 3}, "filters=0"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "NHWC"}, "data_format='NHWC'"),
]


@pytest.mark.parametrize("name,kwargs,message", INVALID_ARGS, ids=[m for _, _, m in INVALID_ARGS])
def test_invalid_arguments_raise(name, kwargs, message):
    with pytest.raises(ValueError) as info:
        getattr(conv, name)(**kwargs)
    assert message in str(info.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="kernel_initializer"):
        conv.DepthwiseConv2D(3, kernel_initializer="zeros")  # Keras names it depthwise_initializer


INVALID_INPUTS = [
    (conv.Conv2D(4, 3), (None, 8, 8), "rank 4"),
    (conv.Conv1D(4, 3), (None, 2, 8, 3), "rank 3"),
    (conv.Conv2D(4, 5), (None, 4, 9, 3), "too small"),
    (conv.Conv1D(4, 3, dilation_rate=4), (None, 8, 3), "too small"),
    (conv.SeparableConv2D(4, 3), (None, 9, 2, 3), "too small"),
    (conv.Conv2D(4, 3, groups=2), (None, 8, 8, 3), "divisible by the number of groups"),
    (conv.Conv2D(4, 3, data_format="channels_first"), (None, 3, 8, 8, 8), "rank 4"),
]


@pytest.mark.parametrize(
    "layer,shape,message", INVALID_INPUTS, ids=[m for _, _, m in INVALID_INPUTS]
)
def test_invalid_inputs_raise_naming_the_layer(layer, shape, message):
    for call in (
        lambda: layer.compute_output_spec(TensorSpec(shape)),
        lambda: layer.init(jax.random.key(0), TensorSpec(shape)),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert message in str(info.value) and repr(layer.name) in str(info.value)


def test_unknown_channels_cannot_build_but_infer_shapes():
    layer = conv.DepthwiseConv2D(3, depth_multiplier=2)
    assert layer.compute_output_spec(TensorSpec((None, 8, None, None))).shape == (
        None,
        6,
        None,
        None,
    )
    with pytest.raises(ValueError, match="channel axis"):
        layer.init(jax.random.key(0), TensorSpec((None, 8, 8, None)))


def test_apply_on_a_too_small_input_raises_before_jax():
    layer = conv.Conv2D(2, 3)
    variables, _ = init_layer(layer, (1, 5, 5, 1))
    with pytest.raises(ValueError, match="too small"):
        jax.jit(lambda x: layer.apply(variables, x)[0])(np.zeros((1, 2, 5, 1), "float32"))


def test_built_layer_rejects_other_channel_counts():
    layer = conv.Conv2D(2, 3)
    assert layer(np.zeros((1, 5, 5, 2), "float32")).shape == (1, 3, 3, 2)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        layer(np.zeros((1, 5, 5, 3), "float32"))


def test_symbolic_call_infers_the_output_shape():
    from fkeras.layers._input import Input

    x = Input((28, 28, 1))
    y = conv.Conv2D(8, (3, 3), strides=2, padding="same")(x)
    assert tuple(y.shape) == (None, 14, 14, 8)
    z = conv.Conv2DTranspose(1, 3, strides=2, padding="same")(y)
    assert tuple(z.shape) == (None, 28, 28, 1)


def test_config_roundtrip_keeps_regularizers_and_constraints():
    layer = conv.SeparableConv2D(
        4,
        3,
        depthwise_regularizer=regularizers.L2(0.1),
        pointwise_regularizer="l1",
        bias_constraint=constraints.NonNeg(),
        pointwise_constraint=constraints.MaxNorm(1.0),
    )
    config = layer.get_config()
    clone = conv.SeparableConv2D.from_config(config)
    assert clone.get_config() == config
    for key in (
        "depthwise_initializer",
        "pointwise_initializer",
        "bias_initializer",
        "depth_multiplier",
        "filters",
    ):
        assert key in config


def test_penalty_and_constrain_use_each_weights_settings():
    layer = conv.Conv2D(
        3,
        2,
        kernel_regularizer=regularizers.L1(0.5),
        bias_regularizer=regularizers.L2(2.0),
        kernel_constraint=constraints.NonNeg(),
    )
    variables, _ = init_layer(layer, (1, 4, 4, 2))
    params = dict(variables["params"], bias=jnp.asarray([1.0, -2.0, 0.5]))
    expected = 0.5 * jnp.sum(jnp.abs(params["kernel"])) + 2.0 * jnp.sum(params["bias"] ** 2)
    np.testing.assert_allclose(float(layer.penalty(params)), float(expected), rtol=1e-6)
    constrained = layer.constrain(params)
    assert float(jnp.min(constrained["kernel"])) >= 0.0
    np.testing.assert_array_equal(np.asarray(constrained["bias"]), np.asarray(params["bias"]))
    assert conv.Conv2D(3, 2, use_bias=False).penalty({"kernel": params["kernel"]}) == 0.0


def test_depthwise_penalty_reads_depthwise_arguments():
    layer = conv.DepthwiseConv2D(2, depthwise_regularizer=regularizers.L2(1.0), use_bias=False)
    params = {"kernel": jnp.ones((2, 2, 3, 1))}
    np.testing.assert_allclose(float(layer.penalty(params)), 12.0)


def test_keras2_names_and_positional_arguments():
    assert conv.Convolution2D is conv.Conv2D and conv.Convolution1D is conv.Conv1D
    assert conv.Convolution3D is conv.Conv3D and conv.Deconvolution2D is conv.Conv2DTranspose
    assert (
        conv.SeparableConvolution2D is conv.SeparableConv2D
        and conv.Deconv3D is conv.Conv3DTranspose
    )
    layer = conv.Convolution2D(32, (3, 3), (2, 2), "same", input_shape=(28, 28, 1))
    assert (layer.filters, layer.kernel_size, layer.strides, layer.padding) == (
        32,
        (3, 3),
        (2, 2),
        "same",
    )
    assert layer.batch_input_shape == (None, 28, 28, 1)
    assert conv.Conv2D(4, 3, padding="SAME").padding == "same"


# ---- Hypothesis: shapes of random configs ----------------------------------------------------------

FAMILIES = {
    "conv": ("Conv1D", "Conv2D", "Conv3D"),
    "transpose": ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"),
    "depthwise": ("DepthwiseConv1D", "DepthwiseConv2D"),
    "separable": ("SeparableConv1D", "SeparableConv2D"),
}


@st.composite
def conv_configs(draw):
    """(class name, kwargs, input shape) for a random, valid convolution layer."""
    family = draw(st.sampled_from(sorted(FAMILIES)))
    rank = draw(st.integers(1, len(FAMILIES[family])))
    name = FAMILIES[family][rank - 1]
    tuples = lambda lo, hi: st.tuples(*[st.integers(lo, hi)] * rank)
    kernel, strides, dilation = draw(tuples(1, 3)), draw(tuples(1, 3)), draw(tuples(1, 2))
    if max(strides) > 1 and max(dilation) > 1 and family in ("conv", "transpose"):
        dilation = (1,) * rank
    paddings = ["valid", "same"] + (["causal"] if name == "Conv1D" else [])
    kwargs = {
        "kernel_size": kernel,
        "strides": strides,
        "dilation_rate": dilation,
        "padding": draw(st.sampled_from(paddings)),
        "data_format": draw(st.sampled_from(["channels_last", "channels_first"])),
    }
    groups = draw(st.integers(1, 3)) if family == "conv" else 1
    channels = groups * draw(st.integers(1, 2))
    if family != "depthwise":
        kwargs["filters"] = groups * draw(st.integers(1, 2))
    if family == "conv":
        kwargs["groups"] = groups
    if family in ("depthwise", "separable"):
        kwargs["depth_multiplier"] = draw(st.integers(1, 2))
    if family == "transpose" and draw(st.booleans()):
        kwargs["output_padding"] = tuple(draw(st.integers(0, s - 1)) for s in strides)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    low = span if kwargs["padding"] == "valid" else [1] * rank
    if family == "transpose":  # 'same' with output_padding 0 can make 0 outputs from 1 input
        low = [2] * rank
    spatial = tuple(draw(st.integers(lo, lo + 4)) for lo in low)
    shape = (
        (2, *spatial, channels)
        if kwargs["data_format"] == "channels_last"
        else (2, channels, *spatial)
    )
    return name, kwargs, shape


@settings(max_examples=10)
@given(conv_configs())
def test_random_configs_agree_on_shapes(case):
    keras = pytest.importorskip("keras")

    name, kwargs, shape = case
    layer = getattr(conv, name)(**kwargs)
    variables, spec = init_layer(layer, shape)
    x = make_inputs(shape)
    out = jax.jit(lambda v, x: layer.apply(v, x)[0])(variables, x)  # one compile, not one per op
    assert layer.compute_output_spec(TensorSpec(shape)).shape == out.shape
    assert jax.eval_shape(lambda v, x: layer.apply(v, x)[0], variables, x).shape == out.shape
    predicted = layer.compute_output_spec(spec).shape
    assert predicted[0] is None and predicted[1:] == out.shape[1:]
    # Keras 3's own static shape inference agrees (no Keras arithmetic is run).
    assert tuple(getattr(keras.layers, name)(**kwargs).compute_output_shape(shape)) == out.shape


MUTATIONS = ("filters", "groups_filters", "groups_channels", "rank", "too_small")


@st.composite
def invalid_cases(draw):
    """A valid config with one thing made wrong: (mutation, class name, kwargs, input shape)."""
    name, kwargs, shape = draw(conv_configs())
    mutation = draw(st.sampled_from(MUTATIONS))
    kwargs = dict(kwargs)
    channel_axis = -1 if kwargs["data_format"] == "channels_last" else 1
    if mutation == "filters":
        key = "filters" if "filters" in kwargs else "depth_multiplier"
        kwargs[key] = draw(st.integers(-3, 0))
    elif mutation in ("groups_filters", "groups_channels"):
        name = ("Conv1D", "Conv2D", "Conv3D")[len(shape) - 3]
        keep = ("kernel_size", "strides", "data_format")
        kwargs = {k: v for k, v in kwargs.items() if k in keep}
        kwargs.update(padding="same", groups=2, filters=3 if mutation == "groups_filters" else 2)
        shape = list(shape)
        shape[channel_axis] = 2 * shape[channel_axis] + 1  # odd: not divisible by 2 groups
        shape = tuple(shape)
    elif mutation == "rank":
        shape = shape + (2,) if draw(st.booleans()) else shape[:-1]
    else:
        if name.startswith("Conv") and "Transpose" in name:
            name = name.replace("Transpose", "")
            kwargs.pop("output_padding", None)
        kwargs["padding"] = "valid"
        kwargs["kernel_size"] = tuple(k + 3 for k in kwargs["kernel_size"])
        spatial = [1] * (len(shape) - 2)
        shape = (
            (2, *spatial, shape[-1])
            if kwargs["data_format"] == "channels_last"
            else (2, shape[1], *spatial)
        )
    return mutation, name, kwargs, shape


@settings(max_examples=25)
@given(invalid_cases())
def test_invalid_configs_raise_value_errors_naming_the_layer(case):
    mutation, name, kwargs, shape = case
    with pytest.raises(ValueError) as info:
        layer = getattr(conv, name)(**kwargs)
        layer.init(jax.random.key(0), TensorSpec((None, *shape[1:])))
    message = str(info.value)
    assert name in message, message
    if mutation in ("groups_channels", "rank", "too_small"):
        assert repr(layer.name) in message
