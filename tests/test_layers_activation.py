"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax): harness checks,
Keras 3 parity, masks, Hypothesis shape properties, hand-computed cases and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fkeras.layers._activation_layers as A
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, run_layer_test

keras = pytest.importorskip("keras")


def _thresholded(m, theta):
    # Keras 3 dropped ThresholdedReLU; `ReLU(threshold=theta)` computes the same x * (x > theta).
    return A.ThresholdedReLU(theta=theta) if m is A else keras.layers.ReLU(threshold=theta)


# name -> (factory taking a layers namespace, input shape, call kwargs)
CASES = {
    "relu": (lambda m: m.ReLU(), (3, 5), {}),
    "relu_max": (lambda m: m.ReLU(max_value=0.5), (2, 3, 4), {}),
    "relu6": (lambda m: m.ReLU(max_value=6.0), (2, 7), {}),
    "relu_slope": (lambda m: m.ReLU(negative_slope=0.2), (2, 7), {}),
    "relu_all": (lambda m: m.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.3), (2, 4, 3), {}),
    "relu_threshold": (lambda m: m.ReLU(threshold=0.25), (4, 3), {}),
    "leaky_relu": (lambda m: m.LeakyReLU(), (3, 4), {}),
    "leaky_relu_slope": (lambda m: m.LeakyReLU(negative_slope=0.05), (2, 2, 3), {}),
    "elu": (lambda m: m.ELU(), (3, 4), {}),
    "elu_alpha": (lambda m: m.ELU(alpha=0.5), (2, 3, 2), {}),
    "thresholded_relu": (lambda m: _thresholded(m, 1.0), (3, 6), {}),
    "thresholded_relu_small": (lambda m: _thresholded(m, 0.1), (2, 3, 2), {}),
    "softmax": (lambda m: m.Softmax(), (3, 5), {}),
    "softmax_axis1": (lambda m: m.Softmax(axis=1), (2, 4, 3), {}),
    "softmax_axes": (lambda m: m.Softmax(axis=[1, 2]), (2, 3, 4), {}),
    "softmax_axes_one": (lambda m: m.Softmax(axis=[-2]), (2, 3, 4), {}),
    "softmax_mask": (
        lambda m: m.Softmax(),
        (2, 5),
        {"mask": np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool)},
    ),
    "softmax_mask_bcast": (
        lambda m: m.Softmax(),
        (2, 3, 4),
        {"mask": np.array([[[1, 0, 1, 1]]], bool)},
    ),
    "softmax_mask_float": (
        lambda m: m.Softmax(axis=1),
        (2, 3),
        {"mask": np.array([[0.9, 0.2, 0.7], [0.0, 1.0, 0.0]], "float32")},
    ),
    "softmax_mask_full_row": (
        lambda m: m.Softmax(),
        (2, 3),
        {"mask": np.array([[0, 0, 0], [1, 0, 1]], bool)},
    ),
    "prelu": (lambda m: m.PReLU(alpha_initializer="random_uniform"), (3, 4), {}),
    "prelu_shared": (
        lambda m: m.PReLU(alpha_initializer="random_uniform", shared_axes=[1, 2]),
        (2, 3, 2, 4),
        {},
    ),
    "prelu_shared_int": (
        lambda m: m.PReLU(alpha_initializer="random_normal", shared_axes=1),
        (2, 3, 4),
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shape, call_kwargs = CASES[name]
    # wide inputs so thresholds, ceilings and slopes all matter
    run_layer_test(make(A), shape, make(keras.layers), call_kwargs=call_kwargs, low=-2.0, high=2.0)


def test_hand_computed_values():
    x = jnp.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    relu, _ = A.ReLU(max_value=10, negative_slope=0.5, threshold=0).apply({}, x)
    np.testing.assert_allclose(relu, [-5.0, -2.5, 0.0, 5.0, 10.0])
    leaky, _ = A.LeakyReLU(negative_slope=0.5).apply({}, x)
    np.testing.assert_allclose(leaky, [-5.0, -2.5, 0.0, 5.0, 10.0])
    thr, _ = A.ThresholdedReLU(theta=5.0).apply({}, x)
    np.testing.assert_allclose(thr, [0.0, 0.0, 0.0, 0.0, 10.0])
    soft, _ = A.Softmax().apply({}, jnp.array([1.0, 2.0, 1.0]))
    np.testing.assert_allclose(soft, [0.21194157, 0.5761169, 0.21194157], rtol=1e-6)
    masked, _ = A.Softmax().apply(
        {}, jnp.array([[1.0, 2.0, 1.0]]), mask=jnp.array([[True, False, True]])
    )
    np.testing.assert_allclose(masked, [[0.5, 0.0, 0.5]], rtol=1e-6)
    prelu, _ = A.PReLU().apply(
        {"params": {"alpha": jnp.array([0.1, 2.0])}}, jnp.array([[-1.0, -1.0], [3.0, 4.0]])
    )
    np.testing.assert_allclose(prelu, [[-0.1, -2.0], [3.0, 4.0]], rtol=1e-6)


def test_prelu_variables_and_weights():
    v = A.PReLU(shared_axes=[1]).init(jax.random.key(0), TensorSpec((None, 5, 3)))
    assert jax.tree.map(jnp.shape, v) == {"params": {"alpha": (1, 3)}, "state": {}}
    assert np.all(np.asarray(v["params"]["alpha"]) == 0)  # default 'Zeros'
    layer = A.PReLU(alpha_regularizer="l2", alpha_constraint="non_neg")
    p = {"alpha": jnp.array([-1.0, 2.0])}
    np.testing.assert_allclose(layer.penalty(p), 0.01 * 5.0, rtol=1e-6)
    np.testing.assert_allclose(layer.constrain(p)["alpha"], [0.0, 2.0])
    assert A.PReLU().penalty(p) == 0.0


def test_prelu_incompatible_input_raises():
    layer = A.PReLU()
    with pytest.raises(ValueError, match="incompatible") as err:
        layer.check_input_spec(TensorSpec((None, 4)), TensorSpec((None, 5)))
    assert layer.name in str(err.value)
    with pytest.raises(ValueError, match="known"):
        A.PReLU().init(jax.random.key(0), TensorSpec((None, None, 3)))
    # a shared axis may have any size
    A.PReLU(shared_axes=[1]).init(jax.random.key(0), TensorSpec((None, None, 3)))
    with pytest.raises(ValueError, match="out of range"):
        A.PReLU(shared_axes=[3]).compute_output_spec(TensorSpec((None, 2, 3)))


def test_leaky_relu_keras2_alpha_alias():
    layer = A.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    assert layer.get_config()["negative_slope"] == 0.1
    assert "alpha" not in layer.get_config()
    # a Keras 2 config dict loads
    keras2 = {"name": "lr", "trainable": True, "dtype": "float32", "alpha": 0.2}
    assert A.LeakyReLU.from_config(keras2).negative_slope == 0.2
    assert A.LeakyReLU().negative_slope == 0.3


def test_softmax_mask_shape_errors():
    layer = A.Softmax()
    with pytest.raises(ValueError, match="broadcastable") as err:
        layer.apply({}, jnp.zeros((2, 3)), mask=jnp.ones((2, 4), bool))
    assert layer.name in str(err.value)
    with pytest.raises(ValueError, match="broadcastable"):
        layer.apply({}, jnp.zeros((2, 3)), mask=jnp.ones((1, 2, 3), bool))
    with pytest.raises(ValueError, match="out of bounds"):
        A.Softmax(axis=2).compute_output_spec(TensorSpec((None, 3)))


def test_softmax_jit_with_mask():
    x = jnp.arange(6.0).reshape(2, 3)
    m = jnp.array([[True, False, True], [True, True, False]])
    eager = A.Softmax().apply({}, x, mask=m)[0]
    jitted = jax.jit(lambda x, m: A.Softmax().apply({}, x, mask=m)[0])(x, m)
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(jitted))


def test_layers_pass_masks_through():
    mask = jnp.array([[True, False]])
    for layer in (A.ReLU(), A.LeakyReLU(), A.PReLU(), A.ELU(), A.ThresholdedReLU(), A.Softmax()):
        assert layer.supports_masking
        assert layer.compute_mask(jnp.zeros((1, 2, 3)), mask) is mask


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: A.ReLU(max_value=-1.0), "max_value=-1.0"),
        (lambda: A.ReLU(negative_slope=-0.1), "negative_slope=-0.1"),
        (lambda: A.ReLU(negative_slope=None), "negative_slope=None"),
        (lambda: A.ReLU(threshold=-2), "threshold=-2"),
        (lambda: A.LeakyReLU(negative_slope=-1), "negative_slope=-1"),
        (lambda: A.LeakyReLU(alpha=None), "negative_slope=None"),
        (lambda: A.ThresholdedReLU(theta=-1.0), "theta=-1.0"),
        (lambda: A.ELU(alpha="big"), "alpha='big'"),
        (lambda: A.PReLU(shared_axes=[0]), r"shared_axes=\[0\]"),
        (lambda: A.PReLU(shared_axes=["a"]), "shared_axes"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_invalid_axis_type():
    with pytest.raises(TypeError, match="axis='x'"):
        A.Softmax(axis="x")


# ---- Hypothesis -------------------------------------------------------------------------------


@st.composite
def activation_case(draw):
    rank = draw(st.integers(2, 4))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    kind = draw(st.sampled_from(["relu", "leaky", "elu", "thr", "softmax", "prelu"]))
    if kind == "relu":
        layer = A.ReLU(
            max_value=draw(st.one_of(st.none(), st.floats(0, 3))),
            negative_slope=draw(st.floats(0, 1)),
            threshold=draw(st.floats(0, 1)),
        )
    elif kind == "leaky":
        layer = A.LeakyReLU(draw(st.floats(0, 1)))
    elif kind == "elu":
        layer = A.ELU(draw(st.floats(0.1, 2)))
    elif kind == "thr":
        layer = A.ThresholdedReLU(draw(st.floats(0, 1)))
    elif kind == "softmax":
        axes = draw(
            st.lists(
                st.integers(-rank, rank - 1), min_size=1, max_size=2, unique_by=lambda a: a % rank
            )
        )
        layer = A.Softmax(axis=axes if len(axes) > 1 or draw(st.booleans()) else axes[0])
    else:
        shared = draw(st.lists(st.integers(1, rank - 1), max_size=rank - 1, unique=True))
        layer = A.PReLU(alpha_initializer="random_uniform", shared_axes=shared or None)
    return layer, shape


@given(activation_case())
def test_shape_property(case):
    layer, shape = case
    _, _, out = check_shapes(layer, shape, low=-2.0, high=2.0)
    assert np.all(np.isfinite(np.asarray(out)))


@given(st.integers(1, 3), st.integers(2, 4))
def test_softmax_sums_to_one_over_unmasked(batch, n):
    x = jnp.asarray(np.random.RandomState(n).randn(batch, n).astype("float32"))
    mask = jnp.arange(n)[None, :] < jnp.arange(1, batch + 1)[:, None]
    out, _ = A.Softmax().apply({}, x, mask=mask)
    np.testing.assert_allclose(np.asarray(out).sum(-1), 1.0, rtol=1e-6)
    assert np.all(np.asarray(out)[~np.asarray(mask)] == 0)
