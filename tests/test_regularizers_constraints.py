"""fkeras.regularizers and fkeras.constraints against Keras 3."""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras.constraints as constraints
import fkeras.regularizers as regularizers


@contextlib.contextmanager
def strict_jax():
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


RNG = np.random.default_rng(0)
W = {
    "matrix": RNG.normal(0, 1.5, (6, 4)).astype("float32"),
    "wide": RNG.normal(0, 0.2, (3, 7)).astype("float32"),
    "kernel": RNG.normal(0, 1.0, (3, 3, 2, 5)).astype("float32"),
}
W["matrix"][:, 1] = 0.0  # a zero column: norms of 0 must not produce NaN

# class name, kwargs, weight names it applies to.
REGULARIZERS = [
    ("L1", {}, ["matrix", "kernel"]),
    ("L1", {"l1": 0.3}, ["matrix"]),
    ("L2", {}, ["matrix", "kernel"]),
    ("L2", {"l2": 1e-4}, ["wide"]),
    ("L1L2", {}, ["matrix"]),
    ("L1L2", {"l1": 0.01, "l2": 0.02}, ["matrix", "kernel"]),
    ("L1L2", {"l2": 0.1}, ["wide"]),
    ("OrthogonalRegularizer", {}, ["matrix", "wide"]),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}, ["matrix", "wide"]),
]
REG_CASES = [(n, k, w) for n, k, ws in REGULARIZERS for w in ws]


@pytest.mark.parametrize(
    "name,kwargs,weight", REG_CASES, ids=[f"{n}-{k}-{w}" for n, k, w in REG_CASES]
)
def test_regularizer_matches_keras3(keras3, name, kwargs, weight):
    x = W[weight]
    theirs = getattr(keras3.regularizers, name)(**kwargs)
    # A JAX array takes Keras's tensor path (its NumPy path of `normalize` fails for axis 0).
    expected = float(theirs(jnp.asarray(x)))
    ours = getattr(regularizers, name)(**kwargs)
    with strict_jax():
        got = ours(jnp.asarray(x))
    assert got.shape == () and got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), expected, rtol=1e-6)
    np.testing.assert_allclose(float(jax.jit(ours)(x)), expected, rtol=1e-5)
    # Keras 3 stores some factors as float32 tensors, so its configs hold 0.009999999776...
    ours_config, their_config = ours.get_config(), theirs.get_config()
    assert ours_config.keys() == their_config.keys()
    for k, v in ours_config.items():
        assert v == (
            pytest.approx(their_config[k], rel=1e-7) if isinstance(v, float) else their_config[k]
        )
    serialized = regularizers.serialize(ours)
    assert serialized == {**keras3.regularizers.serialize(theirs), "config": serialized["config"]}


def test_regularizer_hand_computed_and_grad():
    x = jnp.array([[1.0, -2.0], [0.0, 3.0]])
    np.testing.assert_allclose(regularizers.L1(0.1)(x), 0.6, rtol=1e-6)
    np.testing.assert_allclose(regularizers.L2(0.1)(x), 1.4, rtol=1e-6)
    np.testing.assert_allclose(regularizers.L1L2(0.1, 0.1)(x), 2.0, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(regularizers.L2(0.5))(x), x, rtol=1e-6)
    assert float(regularizers.L1L2()(x)) == 0.0


def test_defaults_and_keras2_spellings():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert regularizers.l1_l2(l2=0.5).get_config() == {"l1": 0.01, "l2": 0.5}
    assert regularizers.l1(0.2).get_config() == {"l1": 0.2}
    assert regularizers.l2 is regularizers.L2
    assert regularizers.L1(None).l1 == 0.01 and regularizers.L1L2(None, None).l2 == 0.0


@pytest.mark.parametrize(
    "identifier,cls,config",
    [
        ("l1", "L1", {"l1": 0.01}),
        ("L2", "L2", {"l2": 0.01}),
        ("l2", "L2", {"l2": 0.01}),
        ("l1_l2", "L1L2", {"l1": 0.01, "l2": 0.01}),
        ("L1L2", "L1L2", {"l1": 0.0, "l2": 0.0}),
        ("l1l2", "L1L2", {"l1": 0.0, "l2": 0.0}),
        ("orthogonal_regularizer", "OrthogonalRegularizer", {"factor": 0.01, "mode": "rows"}),
        ({"class_name": "L2", "config": {"l2": 0.3}}, "L2", {"l2": 0.3}),
        (
            {
                "module": "keras.regularizers",
                "class_name": "L1L2",
                "config": {"l1": 0.1, "l2": 0.2},
                "registered_name": None,
            },
            "L1L2",
            {"l1": 0.1, "l2": 0.2},
        ),
    ],
)
def test_regularizer_get(identifier, cls, config):
    reg = regularizers.get(identifier)
    assert type(reg).__name__ == cls and reg.get_config() == config


def test_regularizer_get_passthrough_and_errors():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.2)
    assert regularizers.get(reg) is reg
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    fn = lambda x: jnp.sum(x)  # noqa: E731
    assert regularizers.get(fn) is fn
    with pytest.raises(ValueError, match=r"Unknown regularizer.*Received: identifier='l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Received: identifier=1.5"):
        regularizers.get(1.5)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: regularizers.L1(-1.0), r"l1: expected a non-negative float.*Received: l1=-1.0"),
        (lambda: regularizers.L2(float("nan")), r"Received: l2=nan"),
        (lambda: regularizers.L1L2(l2="0.1"), r"Received: l2='0.1'"),
        (lambda: regularizers.OrthogonalRegularizer(mode="diag"), r"Received: mode='diag'"),
        (lambda: regularizers.OrthogonalRegularizer()(jnp.ones((2, 2, 2))), r"rank 2.*\(2, 2, 2\)"),
    ],
)
def test_regularizer_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_regularizer_from_config_round_trip():
    for reg in (
        regularizers.L1(0.2),
        regularizers.L1L2(0.1, 0.3),
        regularizers.OrthogonalRegularizer(0.1, "columns"),
    ):
        rebuilt = regularizers.deserialize(regularizers.serialize(reg))
        assert type(rebuilt) is type(reg) and rebuilt.get_config() == reg.get_config()


# --- constraints --------------------------------------------------------------------------------

CONSTRAINTS = [
    ("MaxNorm", {}, ["matrix", "wide"]),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}, ["matrix", "wide"]),
    ("MaxNorm", {"max_value": 1.0, "axis": [0, 1, 2]}, ["kernel"]),
    ("NonNeg", {}, ["matrix", "kernel"]),
    ("UnitNorm", {}, ["matrix"]),
    ("UnitNorm", {"axis": 1}, ["wide"]),
    ("UnitNorm", {"axis": [0, 1, 2]}, ["kernel"]),
    ("MinMaxNorm", {}, ["matrix", "wide"]),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5, "axis": 1}, ["matrix"]),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.5, "axis": [0, 1, 2]}, ["kernel"]),
]
CON_CASES = [(n, k, w) for n, k, ws in CONSTRAINTS for w in ws]


@pytest.mark.parametrize(
    "name,kwargs,weight", CON_CASES, ids=[f"{n}-{k}-{w}" for n, k, w in CON_CASES]
)
def test_constraint_matches_keras3(keras3, name, kwargs, weight):
    x = W[weight]
    theirs = getattr(keras3.constraints, name)(**kwargs)
    ours = getattr(constraints, name)(**kwargs)
    expected = np.asarray(theirs(jnp.asarray(x)))
    with strict_jax():
        got = ours(jnp.asarray(x))
    assert got.shape == x.shape and got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(jax.jit(ours)(x)), expected, rtol=1e-6, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    assert constraints.serialize(ours) == keras3.constraints.serialize(theirs)


def test_constraint_hand_computed():
    w = jnp.array([[3.0, 0.1], [4.0, 0.0]])  # column norms 5 and 0.1
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(w), [[1.2, 0.1], [1.6, 0.0]], rtol=1e-5)
    np.testing.assert_allclose(constraints.UnitNorm()(w), [[0.6, 1.0], [0.8, 0.0]], rtol=1e-5)
    np.testing.assert_array_equal(constraints.NonNeg()(jnp.array([-1.0, 2.0])), [0.0, 2.0])
    np.testing.assert_allclose(constraints.MinMaxNorm(1.0, 2.0)(w)[:, 1], [1.0, 0.0], rtol=1e-5)


@pytest.mark.parametrize(
    "identifier,cls",
    [
        ("max_norm", "MaxNorm"),
        ("MaxNorm", "MaxNorm"),
        ("maxnorm", "MaxNorm"),
        ("non_neg", "NonNeg"),
        ("nonneg", "NonNeg"),
        ("NonNeg", "NonNeg"),
        ("unit_norm", "UnitNorm"),
        ("unitnorm", "UnitNorm"),
        ("min_max_norm", "MinMaxNorm"),
        ({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}}, "MaxNorm"),
    ],
)
def test_constraint_get(identifier, cls):
    assert type(constraints.get(identifier)).__name__ == cls


def test_constraint_aliases_get_and_errors(keras3):
    from keras.src.constraints import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():
        assert type(constraints.get(name)).__name__ == cls.__name__, name
    assert constraints.max_norm is constraints.MaxNorm and constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.get(None) is None
    c = constraints.MaxNorm(3)
    assert constraints.get(c) is c
    assert (
        constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}}).axis == 1
    )
    rebuilt = constraints.deserialize(constraints.serialize(c))
    assert rebuilt.get_config() == c.get_config()
    with pytest.raises(ValueError, match=r"Unknown constraint.*Received: identifier='max'"):
        constraints.get("max")
    with pytest.raises(ValueError, match="Received: identifier=2"):
        constraints.get(2)


def test_regularizer_names_match_keras3(keras3):
    from keras.src.regularizers import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():
        if name in ("Regularizer", "regularizer"):
            continue
        assert type(regularizers.get(name)).__name__ == cls.__name__, name


def test_functions_serialize_by_name_as_keras3(keras3):
    def my_reg(x):
        return jnp.sum(x)

    def my_con(w):
        return w

    assert regularizers.serialize(my_reg) == keras3.regularizers.serialize(my_reg)
    assert constraints.serialize(my_con) == keras3.constraints.serialize(my_con)
    config = regularizers.serialize(my_reg)
    assert regularizers.deserialize(config, custom_objects={"my_reg": my_reg}) is my_reg
    assert constraints.deserialize(constraints.serialize(my_con), {"my_con": my_con}) is my_con
    with pytest.raises(ValueError, match=r"custom_objects.*Received: identifier='my_reg'"):
        regularizers.deserialize(config)
    with pytest.raises(ValueError, match="named function"):
        constraints.serialize(lambda w: w)
