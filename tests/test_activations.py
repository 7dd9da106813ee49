"""fkeras.activations against Keras 3's keras.activations (JAX backend)."""

import contextlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras.activations as activations


@contextlib.contextmanager
def strict_jax():
    """fkeras code must not rely on implicit rank or dtype promotion."""
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


# A mix of values around every kink and saturation point, plus larger magnitudes.
_EDGES = [
    -10.0,
    -6.0,
    -3.0,
    -2.0,
    -1.0,
    -0.5,
    -1e-3,
    0.0,
    1e-3,
    0.5,
    1.0,
    2.0,
    3.0,
    5.9,
    6.0,
    6.1,
    10.0,
]
X = np.concatenate([np.array(_EDGES), np.random.default_rng(0).normal(0, 3, 47)]).astype("float32")
X2D = X.reshape(4, 16)

# name, kwargs. Every Keras 3 built-in (and its kwargs variants) is a row.
CASES = [
    ("relu", {}),
    ("relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 6.0}),
    ("relu", {"max_value": 2.5}),
    ("relu", {"threshold": 1.0}),
    ("relu", {"negative_slope": 0.3, "max_value": 4.0}),
    ("relu", {"negative_slope": 0.3, "threshold": -1.0}),
    ("relu", {"negative_slope": 0.2, "max_value": 5.0, "threshold": 0.5}),
    ("relu", {"max_value": 6.0, "threshold": 2.0}),
    ("relu6", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("sigmoid", {}),
    ("log_sigmoid", {}),
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("softmax", {"axis": (0, 1)}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 0}),
    ("tanh", {}),
    ("tanh_shrink", {}),
    ("hard_tanh", {}),
    ("linear", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("selu", {}),
    ("softplus", {}),
    ("softsign", {}),
    ("exponential", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("silu", {}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("glu", {}),
    ("glu", {"axis": 0}),
    ("mish", {}),
    ("sparse_plus", {}),
    ("sparse_sigmoid", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 1.0}),
    ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 1.0}),
    ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 2.0}),
    ("threshold", {"threshold": 0.5, "default_value": -1.0}),
]
IDS = [f"{name}-{kwargs}" for name, kwargs in CASES]
# sparsemax is checked against its definition instead: Keras 3.15's version sums the cumulative
# sums over the support where it needs the cumulative sum at the support's end, so its rows do
# not sum to 1 once more than one entry is nonzero (keras.ops.sparsemax([[.1, .2, .15]]) returns
# the input unchanged).
JIT_CASES = CASES + [("sparsemax", {}), ("sparsemax", {"axis": 0})]


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_keras3(keras3, name, kwargs):
    expected = np.asarray(getattr(keras3.activations, name)(X2D, **kwargs))
    with strict_jax():
        got = getattr(activations, name)(jnp.asarray(X2D), **kwargs)
    assert got.dtype == jnp.float32
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", JIT_CASES, ids=[f"{n}-{k}" for n, k in JIT_CASES])
def test_jit_and_grad_agree_with_eager(name, kwargs):
    fn = getattr(activations, name)
    x = jnp.asarray(X2D)
    eager = fn(x, **kwargs)
    # XLA may fuse differently under jit: allow float32 rounding on values of order 1.
    np.testing.assert_allclose(jax.jit(lambda v: fn(v, **kwargs))(x), eager, rtol=1e-6, atol=1e-6)
    grad = jax.grad(lambda v: jnp.sum(fn(v, **kwargs)))(x)
    assert grad.shape == x.shape


def _sparsemax_by_bisection(z):
    """The simplex projection max(z - tau, 0), with tau found by bisection on sum(...) = 1."""
    lo, hi = z.max() - 1.0, z.max()
    for _ in range(200):
        tau = (lo + hi) / 2
        lo, hi = (tau, hi) if np.maximum(z - tau, 0).sum() > 1 else (lo, tau)
    return np.maximum(z - (lo + hi) / 2, 0)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_sparsemax_matches_its_definition(axis):
    x = np.random.default_rng(1).normal(0, 1, (5, 7))
    x[0, :3] = [6.1, 6.0, 5.9]
    x[1] = 0.3
    with strict_jax():
        got = np.asarray(activations.sparsemax(jnp.asarray(x, "float32"), axis=axis))
    expected = np.apply_along_axis(_sparsemax_by_bisection, axis, x)
    np.testing.assert_allclose(got, expected, atol=2e-6)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-5)


def test_hand_computed_values():
    x = jnp.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(activations.relu(x), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0), [0, 0, 0, 0, 10])
    np.testing.assert_allclose(
        activations.hard_sigmoid(jnp.array([-3.0, 0.0, 1.5, 3.0])), [0, 0.5, 0.75, 1]
    )
    np.testing.assert_allclose(activations.softmax(jnp.array([[0.0, 0.0]])), [[0.5, 0.5]])
    np.testing.assert_allclose(activations.sparsemax(jnp.array([1.0, 2.0, 3.0])), [0, 0, 1])
    np.testing.assert_allclose(
        activations.sparsemax(jnp.array([0.1, 0.2, 0.15])),
        [0.3 - 0.1 / 6, 0.4 - 0.1 / 6, 1 / 3],
        rtol=1e-6,
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_dtype_is_preserved(dtype):
    x = jnp.asarray(X2D).astype(dtype) if dtype != "float64" else np.asarray(X2D, "float64")
    for name in ("relu", "sigmoid", "softmax", "gelu", "hard_silu", "mish", "selu", "elu"):
        out = getattr(activations, name)(x)
        expected = jnp.asarray(x).dtype
        assert out.dtype == expected, name


def test_accepts_lists_and_numpy():
    np.testing.assert_allclose(activations.relu([-1.0, 2.0]), [0.0, 2.0])
    np.testing.assert_allclose(activations.tanh(np.array([0.0])), [0.0])


def test_softmax_over_unit_axis_warns():
    with pytest.warns(UserWarning, match="axis -1 of a tensor of shape"):
        activations.softmax(jnp.ones((4, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        activations.softmax(jnp.ones((4, 2)))


def test_glu_odd_axis_raises():
    with pytest.raises(ValueError, match="axis=-1"):
        activations.glu(jnp.ones((2, 3)))


# --- get / serialize / deserialize ------------------------------------------------------------


def test_same_names_as_keras3(keras3):
    from keras.src.activations import ALL_OBJECTS_DICT

    assert set(ALL_OBJECTS_DICT) == set(activations._BY_NAME)


def test_get_none_is_linear():
    assert activations.get(None) is activations.linear


@pytest.mark.parametrize("name", sorted(activations._BY_NAME))
def test_get_by_name_and_serialize_match_keras3(keras3, name):
    fn = activations.get(name)
    assert callable(fn)
    assert activations.serialize(fn) == keras3.activations.serialize(keras3.activations.get(name))
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_keras2_aliases():
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.swish is activations.silu


def test_get_callable_is_returned_unchanged():
    def my_act(x):
        return x * 2

    assert activations.get(my_act) is my_act
    assert activations.get(jnp.tanh) is jnp.tanh


def test_get_config_dicts():
    assert activations.get({"class_name": "function", "config": "relu"}) is activations.relu
    keras3_style = {
        "module": "keras.activations",
        "class_name": "function",
        "config": "elu",
        "registered_name": "function",
    }
    assert activations.get(keras3_style) is activations.elu


def test_get_unknown_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"Unknown activation.*'relu'.*Received: identifier='rleu'"
    ):
        activations.get("rleu")
    with pytest.raises(ValueError, match="Received: identifier=3"):
        activations.get(3)


def test_custom_function_serializes_by_name():
    def my_act(x):
        return x

    assert activations.serialize(my_act) == "my_act"
    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match="Cannot serialize"):
        activations.serialize(lambda x: x)
