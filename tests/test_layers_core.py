"""Core layers (Dense, Activation, Dropout, Flatten, Reshape, InputLayer): harness checks,
Keras 3 parity, Hypothesis shape properties, hand-computed cases and argument errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fkeras import layers as L
from fkeras.layers import TensorSpec
from tests.layer_harness import check_pure, check_shapes, run_layer_test

keras = pytest.importorskip("keras")

CASES = {
    "dense": (lambda m: m.Dense(5, activation="relu"), (4, 3)),
    "dense_nobias_rank3": (lambda m: m.Dense(2, use_bias=False, activation="tanh"), (2, 4, 3)),
    "dense_sigmoid": (lambda m: m.Dense(1, activation="sigmoid"), (3, 7)),
    "activation_softmax": (lambda m: m.Activation("softmax"), (2, 7)),
    "activation_elu": (lambda m: m.Activation("elu"), (2, 3, 4)),
    "dropout": (lambda m: m.Dropout(0.5), (2, 7)),
    "flatten": (lambda m: m.Flatten(), (2, 4, 3)),
    "flatten_channels_first": (lambda m: m.Flatten(data_format="channels_first"), (2, 3, 2, 2)),
    "reshape": (lambda m: m.Reshape((3, 4)), (2, 12)),
    "reshape_infer": (lambda m: m.Reshape((-1, 2)), (2, 4, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shape = CASES[name]
    run_layer_test(make(L), shape, make(keras.layers))


def test_dense_correctness():
    layer = L.Dense(2, activation="relu")
    variables = {"params": {"kernel": jnp.array([[1.0, -1.0], [2.0, 0.5]]), "bias": jnp.array([0.5, -1.0])}, "state": {}}
    out, state = layer.apply(variables, jnp.array([[1.0, 1.0], [0.0, -1.0]]))
    np.testing.assert_allclose(out, [[3.5, 0.0], [0.0, 0.0]])
    assert state == {}


def test_dense_variable_tree_and_weight_order():
    v = L.Dense(3).init(jax.random.key(0), TensorSpec((None, 4)))
    assert jax.tree.map(jnp.shape, v) == {"params": {"bias": (3,), "kernel": (4, 3)}, "state": {}}
    layer = L.Dense(3)
    layer.build((None, 4))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert np.all(layer.get_weights()[1] == 0)
    limit = np.sqrt(6 / (4 + 3))  # glorot_uniform
    assert np.abs(layer.get_weights()[0]).max() <= limit


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: L.Dense(0), "units=0"),
        (lambda: L.Dense(-3), "units=-3"),
        (lambda: L.Dense(2.5), "units=2.5"),
        (lambda: L.Dense(4, activation="nope"), "nope"),
        (lambda: L.Dropout(1.5), "rate=1.5"),
        (lambda: L.Reshape((2, -1, -1)), "target_shape"),
        (lambda: L.Dense(3, bogus=1), "bogus"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_layer_is_immutable():
    layer = L.Dense(3)
    with pytest.raises(AttributeError, match="immutable"):
        layer.units = 4
    layer.trainable = False  # facade state, not config
    assert layer.trainable is False


def test_incompatible_inputs_name_the_layer():
    x = L.Input(shape=(4,))
    dense = L.Dense(3, name="proj")
    dense(x)
    with pytest.raises(ValueError, match="proj.*expected axis -1 of input shape to have value 4"):
        dense(L.Input(shape=(5,)))
    with pytest.raises(ValueError, match="Reshape"):
        L.Reshape((5,))(L.Input(shape=(4,)))


def test_dropout_training_needs_rng_and_scales():
    layer = L.Dropout(0.5)
    x = jnp.ones((1000, 10))
    with pytest.raises(ValueError, match="rng"):
        layer.apply({}, x, training=True)
    out, _ = layer.apply({}, x, training=True, rng=jax.random.key(1))
    kept = np.asarray(out) != 0
    assert 0.45 < kept.mean() < 0.55
    np.testing.assert_allclose(np.asarray(out)[kept], 2.0)
    same, _ = layer.apply({}, x, training=False, rng=jax.random.key(1))
    np.testing.assert_array_equal(same, x)


def test_eager_call_builds_and_uses_cell_weights():
    layer = L.Dense(2)
    out = layer(np.ones((3, 4), "float32"))
    w, b = layer.get_weights()
    np.testing.assert_allclose(out, np.ones((3, 4)) @ w + b, rtol=1e-6)
    layer.set_weights([np.zeros_like(w), np.ones_like(b)])
    np.testing.assert_allclose(layer(np.ones((3, 4), "float32")), np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        layer.set_weights([np.zeros((5, 2)), np.ones(2)])


# ---- Hypothesis: shape inference agrees with eval_shape and with real outputs ------------------

@st.composite
def dense_cases(draw):
    rank = draw(st.integers(2, 4))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    units = draw(st.integers(1, 6))
    act = draw(st.sampled_from(["linear", "relu", "tanh", "softmax", "sigmoid"]))
    return L.Dense(units, activation=act, use_bias=draw(st.booleans())), shape


@st.composite
def reshape_cases(draw):
    dims = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3)))]
    batch = draw(st.integers(1, 3))
    target = list(draw(st.permutations(dims)))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return L.Reshape(tuple(target)), (batch,) + tuple(dims)


@st.composite
def shape_only_cases(draw):
    shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(2, 4))))
    layer = draw(st.sampled_from([L.Flatten(), L.Activation("relu"), L.Dropout(0.3), L.Flatten(data_format="channels_first")]))
    return layer, shape


@given(st.one_of(dense_cases(), reshape_cases(), shape_only_cases()))
def test_shape_inference_property(case):
    layer, shape = case
    variables, x, _ = check_shapes(layer, shape)
    check_pure(layer, variables, x, vmap=False)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4))
def test_reshape_size_mismatch_raises(a, b, extra):
    with pytest.raises(ValueError, match="Reshape"):
        L.Reshape((a * b + extra,)).compute_output_spec(TensorSpec((None, a, b)))


@given(st.integers(-5, 0))
def test_dense_nonpositive_units_raise(units):
    with pytest.raises(ValueError, match=f"units={units}"):
        L.Dense(units)


def test_named_weight_attributes_like_keras():
    import fkeras

    dense = fkeras.layers.Dense(2)
    assert not hasattr(dense, "kernel")  # not built yet, as in Keras
    norm = fkeras.layers.BatchNormalization()
    model = fkeras.Sequential([fkeras.Input((3,)), dense, norm])
    assert dense.kernel.shape == (3, 2) and dense.bias.shape == (2,)
    assert dense.kernel.path == dense.weights[0].path
    assert norm.moving_mean.trainable is False and norm.gamma.trainable is True
    dense.kernel.assign(np.zeros((3, 2), "float32"))
    dense.bias.assign(np.array([1.0, -1.0], "float32"))
    out = model.predict(np.ones((1, 3), "float32"))
    np.testing.assert_allclose(out, norm(np.array([[1.0, -1.0]], "float32")), rtol=1e-5)
    with pytest.raises(AttributeError, match="'Dense' object has no attribute 'kernal'"):
        dense.kernal
