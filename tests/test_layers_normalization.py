"""Normalization layers (BatchNormalization, LayerNormalization, GroupNormalization,
UnitNormalization): harness checks, Keras 3 parity (inference, and BatchNormalization training
with its moving statistics), masks, Hypothesis shape properties and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fkeras.layers._normalization as N
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, make_inputs, run_layer_test

keras = pytest.importorskip("keras")

# Non-default initializers so that gamma, beta and the moving statistics all matter.
RANDOM_AFFINE = {"gamma_initializer": "random_uniform", "beta_initializer": "random_normal"}
RANDOM_BN = {
    **RANDOM_AFFINE,
    "moving_mean_initializer": "random_normal",
    "moving_variance_initializer": {
        "class_name": "RandomUniform",
        "config": {"minval": 0.5, "maxval": 1.5},
    },
}


def bn(m, **kw):
    return m.BatchNormalization(**{**RANDOM_BN, **kw})


# name -> (factory taking a layers namespace, input shape)
CASES = {
    "bn": (lambda m: bn(m), (4, 3)),
    "bn_rank4": (lambda m: bn(m, epsilon=1e-2), (2, 3, 3, 4)),
    "bn_axis1": (lambda m: bn(m, axis=1), (3, 4, 2)),
    "bn_no_scale": (lambda m: bn(m, scale=False), (3, 2, 5)),
    "bn_no_affine": (lambda m: bn(m, center=False, scale=False), (3, 5)),
    "ln": (lambda m: m.LayerNormalization(**RANDOM_AFFINE), (3, 6)),
    "ln_rank3": (lambda m: m.LayerNormalization(epsilon=1e-5, **RANDOM_AFFINE), (2, 3, 4)),
    "ln_axes": (lambda m: m.LayerNormalization(axis=[1, 2], **RANDOM_AFFINE), (2, 3, 4)),
    "ln_axes_neg": (lambda m: m.LayerNormalization(axis=[-1, -2], **RANDOM_AFFINE), (2, 3, 4)),
    "ln_no_affine": (lambda m: m.LayerNormalization(center=False, scale=False), (3, 6)),
    "ln_rms_scaling": (lambda m: m.LayerNormalization(rms_scaling=True, **RANDOM_AFFINE), (3, 6)),
    "gn": (lambda m: m.GroupNormalization(groups=2, **RANDOM_AFFINE), (2, 5, 4)),
    "gn_rank4": (lambda m: m.GroupNormalization(groups=3, **RANDOM_AFFINE), (2, 2, 3, 6)),
    "gn_axis1": (lambda m: m.GroupNormalization(groups=2, axis=1, **RANDOM_AFFINE), (2, 4, 3, 2)),
    "gn_axis_neg2": (
        lambda m: m.GroupNormalization(groups=2, axis=-2, **RANDOM_AFFINE),
        (2, 3, 4, 2),
    ),
    "gn_instance": (lambda m: m.GroupNormalization(groups=-1, **RANDOM_AFFINE), (2, 3, 4)),
    "unit": (lambda m: m.UnitNormalization(), (3, 5)),
    "unit_axes": (lambda m: m.UnitNormalization(axis=[1, 2]), (2, 3, 4)),
}


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shape = CASES[name]
    run_layer_test(make(N), shape, make(keras.layers), low=-3.0, high=5.0)


def test_ln_mixed_sign_axes_weight_shape_matches_keras():
    # Keras sorts the axes as given ([-1, 1]), so gamma has shape (4, 3) for input (2, 3, 4).
    layer = N.LayerNormalization(axis=[1, -1], **RANDOM_AFFINE)
    run_layer_test(layer, (2, 3, 4), keras.layers.LayerNormalization(axis=[1, -1]))
    v = layer.init(jax.random.key(0), TensorSpec((None, 3, 4)))
    assert v["params"]["gamma"].shape == (4, 3)


# ---- BatchNormalization training: outputs and new moving statistics vs Keras 3 ---------------


@pytest.mark.parametrize(
    "kwargs, shape, masked",
    [
        ({}, (6, 3), False),
        ({"momentum": 0.9}, (4, 3, 5), False),
        ({"axis": 1, "momentum": 0.5, "epsilon": 0.01}, (4, 3, 2, 2), False),
        ({"center": False, "scale": False}, (5, 4), False),
        ({"momentum": 0.8}, (3, 4, 2), True),
    ],
)
def test_bn_training_matches_keras(kwargs, shape, masked):
    layer = bn(N, **kwargs)
    variables = layer.init(jax.random.key(1), TensorSpec((None,) + shape[1:]))
    klayer = bn(keras.layers, **kwargs)
    klayer.build(shape)
    weights = [np.asarray(variables[c][n]) for c in ("params", "state") for n in variables[c]]
    klayer.set_weights(weights)
    state = variables["state"]
    for step in range(3):  # several steps: the state threads through
        x = make_inputs(shape, seed=step, low=-2.0, high=4.0)
        call = {}
        if masked:
            mask = np.random.RandomState(step).rand(*shape[:-1]) > 0.3
            call = {"mask": mask}
        out, new_state = layer.apply(
            {"params": variables["params"], "state": state}, x, training=True, **call
        )
        kout = klayer(
            jnp.asarray(x), training=True, **({"mask": jnp.asarray(mask)} if masked else {})
        )
        np.testing.assert_allclose(np.asarray(out), np.asarray(kout), rtol=1e-5, atol=1e-5)
        assert set(new_state) == {"moving_mean", "moving_variance"}
        np.testing.assert_allclose(
            new_state["moving_mean"], np.asarray(klayer.moving_mean), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            new_state["moving_variance"], np.asarray(klayer.moving_variance), rtol=1e-5, atol=1e-6
        )
        state = new_state
    # inference afterwards uses the moving statistics, as Keras's
    x = make_inputs(shape, seed=9)
    out, unchanged = layer.apply({"params": variables["params"], "state": state}, x, training=False)
    assert unchanged == {}
    np.testing.assert_allclose(
        np.asarray(out), np.asarray(klayer(jnp.asarray(x), training=False)), rtol=1e-5, atol=1e-5
    )


def test_bn_training_formula_by_hand():
    layer = N.BatchNormalization(momentum=0.5, epsilon=0.0)
    v = layer.init(jax.random.key(0), TensorSpec((None, 2)))
    x = jnp.array([[1.0, 10.0], [3.0, 30.0]])
    out, state = layer.apply(v, x, training=True)
    np.testing.assert_allclose(out, [[-1.0, -1.0], [1.0, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(state["moving_mean"], [1.0, 10.0])  # 0 * .5 + mean * .5
    np.testing.assert_allclose(state["moving_variance"], [1.0, 50.5])  # 1 * .5 + var * .5


def test_bn_training_is_jittable_and_differentiable():
    layer = bn(N)
    v = layer.init(jax.random.key(0), TensorSpec((None, 3)))
    x = make_inputs((5, 3))
    eager = layer.apply(v, x, training=True)
    jitted = jax.jit(lambda v, x: layer.apply(v, x, training=True))(v, x)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
    g = jax.grad(lambda p: jnp.sum(layer.apply({**v, "params": p}, x, training=True)[0] ** 2))(
        v["params"]
    )
    assert set(g) == {"gamma", "beta"}


def test_bn_variables_order_and_config():
    v = N.BatchNormalization().init(jax.random.key(0), TensorSpec((None, 4, 3)))
    assert jax.tree.map(jnp.shape, v) == {
        "params": {"gamma": (3,), "beta": (3,)},
        "state": {"moving_mean": (3,), "moving_variance": (3,)},
    }
    assert list(v["params"]) == ["gamma", "beta"] and list(v["state"]) == [
        "moving_mean",
        "moving_variance",
    ]
    layer = N.BatchNormalization(axis=1, momentum=0.9, synchronized=True, gamma_regularizer="l2")
    config = layer.get_config()
    assert config["axis"] == 1 and config["momentum"] == 0.9 and config["synchronized"] is True
    assert N.BatchNormalization.from_config(config).get_config() == config
    # a Keras 3 config loads (renorm keys at their defaults), a Keras 2 list axis too
    kcfg = keras.layers.BatchNormalization(axis=1).get_config()
    kcfg.pop("dtype")
    assert N.BatchNormalization.from_config(kcfg).axis == 1
    assert N.BatchNormalization(axis=[3], fused=True).axis == 3


def test_bn_penalty_and_constraints():
    layer = N.BatchNormalization(gamma_regularizer="l2", beta_constraint="non_neg")
    p = {"gamma": jnp.array([1.0, 2.0]), "beta": jnp.array([-1.0, 1.0])}
    np.testing.assert_allclose(layer.penalty(p), 0.01 * 5.0, rtol=1e-6)
    np.testing.assert_allclose(layer.constrain(p)["beta"], [0.0, 1.0])


def test_bn_mask_rank_checked():
    layer = N.BatchNormalization()
    v = layer.init(jax.random.key(0), TensorSpec((None, 4, 3)))
    with pytest.raises(ValueError, match="one axis") as err:
        layer.apply(v, jnp.zeros((2, 4, 3)), training=True, mask=jnp.ones((2, 4, 3), bool))
    assert layer.name in str(err.value)


def test_bn_check_input_spec():
    layer = N.BatchNormalization()
    with pytest.raises(ValueError, match="incompatible"):
        layer.check_input_spec(TensorSpec((None, 3)), TensorSpec((None, 4)))
    layer.check_input_spec(TensorSpec((None, 3)), TensorSpec((7, 3)))


# ---- invalid configurations ---------------------------------------------------------------

# name, layer, input shape, message, which calls raise ("spec": compute_output_spec, "init")
INVALID_SPECS = [
    (
        "bn_axis_range",
        lambda: N.BatchNormalization(axis=2),
        (None, 3),
        "out of bounds",
        "spec init",
    ),
    (
        "bn_axis_range_neg",
        lambda: N.BatchNormalization(axis=-3),
        (None, 3),
        "out of bounds",
        "spec init",
    ),
    ("bn_unknown_channels", lambda: N.BatchNormalization(), (None, None), "known", "init"),
    (
        "ln_axis_range",
        lambda: N.LayerNormalization(axis=[1, 3]),
        (None, 3, 2),
        "out of bounds",
        "spec init",
    ),
    ("ln_unknown_axis", lambda: N.LayerNormalization(), (None, None), "known", "init"),
    (
        "gn_not_dividing",
        lambda: N.GroupNormalization(groups=4),
        (None, 3, 6),
        "divide",
        "spec init",
    ),
    ("gn_too_many", lambda: N.GroupNormalization(groups=8), (None, 4), "divide", "spec init"),
    (
        "gn_axis_range",
        lambda: N.GroupNormalization(groups=1, axis=3),
        (None, 4),
        "out of bounds",
        "spec init",
    ),
    (
        "unit_axis_range",
        lambda: N.UnitNormalization(axis=[1, 2]),
        (None, 3),
        "out of bounds",
        "spec",
    ),
]


@pytest.mark.parametrize(
    "name, make, shape, message, where", INVALID_SPECS, ids=[c[0] for c in INVALID_SPECS]
)
def test_invalid_input_shapes_raise_naming_the_layer(name, make, shape, message, where):
    layer = make()
    calls = {"spec": layer.compute_output_spec, "init": lambda s: layer.init(jax.random.key(0), s)}
    for key in where.split():
        with pytest.raises(ValueError, match=message) as err:
            calls[key](TensorSpec(shape))
        assert layer.name in str(err.value)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: N.BatchNormalization(epsilon=-1e-3), ValueError, "epsilon=-0.001"),
        (lambda: N.BatchNormalization(axis="x"), TypeError, "axis='x'"),
        (lambda: N.BatchNormalization(axis=[1, 2]), TypeError, r"axis=\[1, 2\]"),
        (lambda: N.BatchNormalization(momentum="fast"), TypeError, "momentum='fast'"),
        (lambda: N.BatchNormalization(renorm=True), ValueError, "renorm=True"),
        (lambda: N.BatchNormalization(virtual_batch_size=4), ValueError, "virtual_batch_size=4"),
        (lambda: N.LayerNormalization(epsilon=-1), ValueError, "epsilon=-1"),
        (lambda: N.LayerNormalization(axis=1.5), TypeError, "axis=1.5"),
        (lambda: N.GroupNormalization(groups=0), ValueError, "groups=0"),
        (lambda: N.GroupNormalization(groups=-2), ValueError, "groups=-2"),
        (lambda: N.GroupNormalization(groups=2.0), ValueError, "groups=2.0"),
        (lambda: N.GroupNormalization(epsilon=None), ValueError, "epsilon=None"),
        (lambda: N.UnitNormalization(axis="last"), TypeError, "axis='last'"),
    ],
)
def test_invalid_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ---- Hypothesis ---------------------------------------------------------------------------


@st.composite
def norm_case(draw):
    rank = draw(st.integers(2, 4))
    shape = [draw(st.integers(1, 4)) for _ in range(rank)]
    kind = draw(st.sampled_from(["bn", "ln", "gn", "unit"]))
    axis = draw(st.integers(-rank + 1, rank - 1).filter(lambda a: a % rank != 0))
    if kind == "bn":
        return N.BatchNormalization(
            axis=axis, center=draw(st.booleans()), scale=draw(st.booleans())
        ), shape
    if kind == "gn":
        groups = draw(st.sampled_from([-1, 1, 2, 3]))
        if groups > 0:
            shape[axis] = groups * draw(st.integers(1, 2))
        return N.GroupNormalization(groups=groups, axis=axis), shape
    axes = draw(st.lists(st.integers(1, rank - 1), min_size=1, max_size=rank - 1, unique=True))
    axis_arg = axes if len(axes) > 1 else axis
    if kind == "ln":
        return N.LayerNormalization(axis=axis_arg, rms_scaling=draw(st.booleans())), shape
    return N.UnitNormalization(axis=axis_arg), shape


@settings(max_examples=12)
@given(norm_case(), st.booleans())
def test_shape_property(case, training):
    layer, shape = case
    variables, x, _ = check_shapes(layer, tuple(shape))
    out_t, new_state = layer.apply(variables, x, training=training)
    assert out_t.shape == tuple(shape) and np.all(np.isfinite(np.asarray(out_t)))
    if training and isinstance(layer, N.BatchNormalization):
        assert jax.tree.map(jnp.shape, new_state) == jax.tree.map(jnp.shape, variables["state"])
    else:
        assert new_state == {}


@given(st.integers(1, 6), st.integers(1, 12))
def test_group_normalization_divisibility_property(groups, channels):
    layer = N.GroupNormalization(groups=groups)
    spec = TensorSpec((None, 3, channels))
    if channels % groups:
        with pytest.raises(ValueError, match="divide"):
            layer.compute_output_spec(spec)
    else:
        assert layer.compute_output_spec(spec).shape == spec.shape
        v = layer.init(jax.random.key(0), spec)
        assert v["params"]["gamma"].shape == (channels,)
