"""Attention and MultiHeadAttention: harness checks, Keras 3 parity (weights layout, outputs,
scores, masks, causal masks), Keras-style calls, dropout, Hypothesis shapes and errors."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fkeras.layers._attention as AT
from fkeras.graph._tensor import KerasTensor
from fkeras.layers._input import Input
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_keras_parity, check_shapes, make_inputs, run_layer_test

keras = pytest.importorskip("keras")


def keras_mha(**kwargs):
    """Keras's MultiHeadAttention behind a one-argument (list) call, as the harness calls layers."""

    class ListMHA(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.mha = keras.layers.MultiHeadAttention(**kwargs)

        def build(self, shapes):
            self.mha.build(*shapes)

        def call(self, inputs, **call_kwargs):
            return self.mha(*inputs, **call_kwargs)

    return ListMHA()


# ---- Attention ----------------------------------------------------------------------------

ATTENTION_CASES = {
    "dot": ({}, [(2, 4, 3), (2, 5, 3)], {}),
    "dot_key": ({}, [(2, 4, 3), (2, 5, 2), (2, 5, 3)], {}),
    "dot_scale": ({"use_scale": True}, [(2, 4, 3), (2, 5, 3)], {}),
    "concat": ({"score_mode": "concat"}, [(2, 4, 3), (2, 5, 3)], {}),
    "concat_scale_key": (
        {"score_mode": "concat", "use_scale": True},
        [(2, 3, 4), (2, 2, 5), (2, 2, 4)],
        {},
    ),
    "scores": ({}, [(2, 4, 3), (2, 5, 3)], {"return_attention_scores": True}),
    "causal": ({}, [(2, 4, 3), (2, 4, 3)], {"use_causal_mask": True}),
    "masked": (
        {"dropout": 0.3},
        [(2, 4, 3), (2, 5, 3)],
        {
            "mask": [
                np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool),
                np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], bool),
            ]
        },
    ),
    "masked_value_only_causal": (
        {},
        [(2, 4, 3), (2, 4, 3)],
        {
            "mask": [None, np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)],
            "use_causal_mask": True,
        },
    ),
    "rank4": ({"use_scale": True}, [(2, 2, 4, 3), (2, 2, 5, 3)], {"return_attention_scores": True}),
}


# the full harness (jit, grad, vmap, config) on these; all cases check shapes and parity
ATTENTION_FULL_HARNESS = {"dot", "concat_scale_key", "masked"}


@pytest.mark.parametrize("name", sorted(ATTENTION_CASES))
def test_attention_harness_and_keras_parity(name):
    kwargs, shapes, call = ATTENTION_CASES[name]
    layer = AT.Attention(**kwargs)
    if name in ATTENTION_FULL_HARNESS:
        run_layer_test(layer, shapes, keras.layers.Attention(**kwargs), call_kwargs=call)
    variables, x, _ = check_shapes(layer, shapes, call_kwargs=call)
    # learned scalars away from their initial 1.0
    variables["params"] = {k: jnp.asarray(1.7, "float32") for k in variables["params"]}
    check_keras_parity(layer, keras.layers.Attention(**kwargs), variables, x, call_kwargs=call)


def test_attention_weights_and_hand_computed():
    layer = AT.Attention(use_scale=True, score_mode="concat")
    v = layer.init(jax.random.key(0), [TensorSpec((None, 1, 2)), TensorSpec((None, 2, 2))])
    assert jax.tree.map(jnp.shape, v) == {
        "params": {"scale": (), "concat_score_weight": ()},
        "state": {},
    }
    q = jnp.array([[[1.0, 0.0]]])
    value = jnp.array([[[1.0, 0.0], [0.0, 1.0]]])
    out, _ = AT.Attention().apply({"params": {}}, [q, value], return_attention_scores=True)
    w = np.exp([1.0, 0.0]) / np.exp([1.0, 0.0]).sum()
    np.testing.assert_allclose(out[1], [[w]], rtol=1e-6)
    np.testing.assert_allclose(out[0], [[w]], rtol=1e-6)  # value is the identity


def test_attention_keras2_causal_argument():
    x = make_inputs([(2, 4, 3), (2, 4, 3)], seed=7)
    layer = AT.Attention(causal=True)
    ours = layer.apply({"params": {}}, x)[0]
    np.testing.assert_array_equal(
        np.asarray(ours),
        np.asarray(AT.Attention().apply({"params": {}}, x, use_causal_mask=True)[0]),
    )
    assert AT.Attention.from_config(layer.get_config()).causal
    assert "causal" not in AT.Attention().get_config()


def test_attention_output_mask_is_query_mask():
    qm = jnp.array([[True, False]])
    assert AT.Attention().compute_mask([None, None], [qm, None]) is not None
    np.testing.assert_array_equal(AT.Attention().compute_mask([None, None], [qm, None]), qm)
    assert AT.Attention().compute_mask([None, None], None) is None


# ---- MultiHeadAttention -------------------------------------------------------------------

MHA_CASES = {
    "basic": ({"num_heads": 2, "key_dim": 3}, [(2, 4, 5), (2, 6, 5)], {}),
    "key": ({"num_heads": 2, "key_dim": 3}, [(2, 4, 5), (2, 6, 3), (2, 6, 7)], {}),
    "scores": (
        {"num_heads": 3, "key_dim": 2, "value_dim": 4},
        [(2, 4, 5), (2, 6, 5)],
        {"return_attention_scores": True},
    ),
    "no_bias_output_shape": (
        {"num_heads": 2, "key_dim": 3, "use_bias": False, "output_shape": (2, 3)},
        [(2, 4, 5), (2, 6, 5)],
        {},
    ),
    "causal": ({"num_heads": 2, "key_dim": 3}, [(2, 5, 4), (2, 5, 4)], {"use_causal_mask": True}),
    "causal_scores": (
        {"num_heads": 2, "key_dim": 3},
        [(2, 5, 4), (2, 5, 4)],
        {"use_causal_mask": True, "return_attention_scores": True},
    ),
    "dropout_inference": (
        {"num_heads": 2, "key_dim": 3, "dropout": 0.5},
        [(2, 4, 5), (2, 6, 5)],
        {},
    ),
    "gate": ({"num_heads": 2, "key_dim": 3, "use_gate": True}, [(2, 4, 5), (2, 6, 5)], {}),
    "sliding_window": (
        {"num_heads": 2, "key_dim": 2, "sliding_window": 2},
        [(2, 5, 4), (2, 5, 4)],
        {},
    ),
    "attention_mask": (
        {"num_heads": 2, "key_dim": 3},
        [(2, 4, 5), (2, 6, 5)],
        {"attention_mask": np.random.RandomState(0).rand(2, 4, 6) > 0.3},
    ),
    "rank4_2d_attention": (
        {"num_heads": 2, "key_dim": 2, "attention_axes": (1, 2)},
        [(2, 3, 2, 4), (2, 2, 3, 4)],
        {},
    ),
    "rank4_axis2_scores": (
        {"num_heads": 2, "key_dim": 2, "attention_axes": 2},
        [(2, 3, 2, 4), (2, 3, 4, 4)],
        {"return_attention_scores": True},
    ),
}


# the full harness (jit, grad, vmap, config) on these; the others check shapes and parity only
FULL_HARNESS = {"basic", "scores"}


@pytest.mark.parametrize("name", sorted(MHA_CASES))
def test_mha_harness_and_keras_parity(name):
    kwargs, shapes, call = MHA_CASES[name]
    layer = AT.MultiHeadAttention(**kwargs)
    if name in FULL_HARNESS:
        run_layer_test(layer, shapes, keras_mha(**kwargs), call_kwargs=call)
    else:
        variables, x, _ = check_shapes(layer, shapes, call_kwargs=call)
        check_keras_parity(layer, keras_mha(**kwargs), variables, x, call_kwargs=call, grad=False)


def test_mha_weight_names_and_order_match_keras():
    kwargs = {"num_heads": 2, "key_dim": 4, "use_gate": True}
    layer = AT.MultiHeadAttention(**kwargs)
    v = layer.init(jax.random.key(0), [TensorSpec((None, 5, 16)), TensorSpec((None, 6, 8))])
    kl = keras.layers.MultiHeadAttention(**kwargs)
    kl.build((2, 5, 16), (2, 6, 8))
    assert [w.path.split("/", 1)[1] for w in kl.weights] == list(v["params"])
    assert [tuple(w.shape) for w in kl.weights] == [tuple(a.shape) for a in v["params"].values()]
    assert v["params"]["query/kernel"].shape == (16, 2, 4)
    assert v["params"]["attention_output/kernel"].shape == (2, 4, 16)
    assert v["state"] == {}


MASK_CASES = {
    "query_value": (True, True, {}),
    "value_only": (False, True, {}),
    "query_only_causal": (True, False, {"use_causal_mask": True}),
    "scores_path": (True, True, {"return_attention_scores": True}),
    "fully_masked_query_row": ("all_masked_row", True, {}),
}


@pytest.mark.parametrize("name", sorted(MASK_CASES))
def test_mha_masks_match_keras(name):
    """Keras 3 reads query/value masks from the tensors; fkeras takes them as `mask=`."""
    from keras.src.backend import set_keras_mask

    use_q, use_v, call = MASK_CASES[name]
    kwargs = {"num_heads": 2, "key_dim": 3}
    q, v = make_inputs([(2, 5, 4), (2, 5, 4)], seed=2)
    qm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    if use_q == "all_masked_row":
        qm[0] = False
    vm = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], bool)
    masks = [qm if use_q else None, vm if use_v else None]
    layer = AT.MultiHeadAttention(**kwargs)
    variables = layer.init(jax.random.key(3), [TensorSpec((None, 5, 4))] * 2)
    ours, _ = layer.apply(variables, [q, v], mask=masks, **call)
    kl = keras.layers.MultiHeadAttention(**kwargs)
    kl.build(q.shape, v.shape)
    kl.set_weights([np.asarray(a) for a in variables["params"].values()])
    kq, kv = jnp.asarray(q), jnp.asarray(v)
    for t, m in zip((kq, kv), masks):
        if m is not None:
            set_keras_mask(t, jnp.asarray(m))
    theirs = kl(kq, kv, **call)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    out_mask = layer.compute_mask([q, v], masks)
    assert (out_mask is None) == (masks[0] is None)


def test_mha_keras_style_calls():
    layer = AT.MultiHeadAttention(num_heads=2, key_dim=3)
    q, v = make_inputs([(2, 4, 5), (2, 6, 5)], seed=1)
    a = layer(q, v)  # eager, Keras's two positional arguments
    b = layer([q, v])  # one list, the fkeras graph convention
    c = layer(q, v, v)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-6)
    _, scores = layer(q, value=v, return_attention_scores=True)
    assert scores.shape == (2, 2, 4, 6)
    variables = {"params": layer._current_variables()["params"], "state": {}}
    np.testing.assert_allclose(
        np.asarray(layer.apply(variables, [q, v])[0]), np.asarray(a), rtol=1e-6
    )


def test_mha_symbolic_call_and_model():
    from fkeras.models._functional import Model

    query, value = Input(shape=(4, 5)), Input(shape=(6, 5))
    amask = Input(shape=(4, 6), dtype="bool")
    layer = AT.MultiHeadAttention(num_heads=2, key_dim=3)
    y = layer(query, value, attention_mask=amask)
    assert isinstance(y, KerasTensor) and tuple(y.shape) == (None, 4, 5)
    model = Model([query, value, amask], y)
    q, v = make_inputs([(2, 4, 5), (2, 6, 5)], seed=4)
    m = np.random.RandomState(1).rand(2, 4, 6) > 0.4
    model_vars = model.init(jax.random.key(0))
    out, _ = model.apply(model_vars, [q, v, m])
    direct, _ = layer.apply(
        {"params": model_vars["params"][layer.name], "state": {}}, [q, v], attention_mask=m
    )
    np.testing.assert_allclose(np.asarray(out), np.asarray(direct), rtol=1e-6)
    _, s2 = AT.MultiHeadAttention(num_heads=3, key_dim=2)(
        query, value, return_attention_scores=True
    )
    assert tuple(s2.shape) == (None, 3, 4, 6)


def test_dropout_needs_rng_and_uses_it():
    for layer, shapes in (
        (AT.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5), [(2, 4, 5), (2, 6, 5)]),
        (AT.Attention(dropout=0.5), [(2, 4, 3), (2, 5, 3)]),
    ):
        variables = layer.init(jax.random.key(0), [TensorSpec(s) for s in shapes])
        x = make_inputs(shapes)
        with pytest.raises(ValueError, match="rng") as err:
            layer.apply(variables, x, training=True)
        assert layer.name in str(err.value)
        a = layer.apply(variables, x, training=True, rng=jax.random.key(1))[0]
        b = layer.apply(variables, x, training=True, rng=jax.random.key(1))[0]
        c = layer.apply(variables, x, training=True, rng=jax.random.key(2))[0]
        infer = layer.apply(variables, x, training=False)[0]
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert not np.allclose(np.asarray(a), np.asarray(c))
        assert not np.allclose(np.asarray(a), np.asarray(infer))


def test_mha_value_dim_differs_from_key_dim_on_the_fused_path():
    # Keras 3 fails here (its fused kernel assumes value_dim == key_dim); fkeras computes it.
    layer = AT.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5)
    variables = layer.init(jax.random.key(0), [TensorSpec((None, 4, 6))] * 2)
    q, v = make_inputs([(2, 4, 6), (2, 4, 6)])
    fused, _ = layer.apply(variables, [q, v])
    explicit, _ = layer.apply(variables, [q, v], return_attention_scores=True)
    np.testing.assert_allclose(np.asarray(fused), np.asarray(explicit[0]), rtol=1e-5, atol=1e-6)


def test_mha_penalty_constraints_config():
    layer = AT.MultiHeadAttention(
        num_heads=2, key_dim=3, kernel_regularizer="l2", bias_constraint="non_neg", output_shape=4
    )
    v = layer.init(jax.random.key(0), [TensorSpec((None, 3, 2))] * 2)
    expected = sum(
        0.01 * float(jnp.sum(a**2)) for n, a in v["params"].items() if n.endswith("kernel")
    )
    np.testing.assert_allclose(float(layer.penalty(v["params"])), expected, rtol=1e-5)
    neg = {n: -jnp.ones_like(a) for n, a in v["params"].items()}
    constrained = layer.constrain(neg)
    assert all(float(jnp.max(a)) == 0.0 for n, a in constrained.items() if n.endswith("bias"))
    assert all(float(jnp.max(a)) == -1.0 for n, a in constrained.items() if n.endswith("kernel"))
    config = layer.get_config()
    assert config["output_shape"] == (4,) and config["value_dim"] == 3
    assert AT.MultiHeadAttention.from_config(config).get_config() == config
    kconfig = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3).get_config()
    kconfig.pop("dtype")
    assert AT.MultiHeadAttention.from_config(kconfig).num_heads == 2


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: AT.MultiHeadAttention(num_heads=2, key_dim=0), "key_dim=0"),
        (lambda: AT.MultiHeadAttention(num_heads=2, key_dim=-3), "key_dim=-3"),
        (lambda: AT.MultiHeadAttention(num_heads=0, key_dim=2), "num_heads=0"),
        (lambda: AT.MultiHeadAttention(num_heads=2.0, key_dim=2), "num_heads=2.0"),
        (lambda: AT.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=0), "value_dim=0"),
        (lambda: AT.MultiHeadAttention(num_heads=2, key_dim=2, dropout=1.5), "dropout=1.5"),
        (
            lambda: AT.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes="x"),
            "attention_axes='x'",
        ),
        (lambda: AT.MultiHeadAttention(num_heads=2, key_dim=2, output_shape="x"), "output_shape"),
        (
            lambda: AT.MultiHeadAttention(num_heads=2, key_dim=2, activity_regularizer="l2"),
            "activity_regularizer",
        ),
        (lambda: AT.Attention(score_mode="additive"), "score_mode='additive'"),
        (lambda: AT.Attention(dropout=-0.1), "dropout=-0.1"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


INVALID_SPECS = [
    ("mha_one_input", lambda: AT.MultiHeadAttention(2, 3), [(None, 4, 5)], "query, value"),
    (
        "mha_key_value_mismatch",
        lambda: AT.MultiHeadAttention(2, 3),
        [(None, 4, 5), (None, 6, 5), (None, 7, 5)],
        "value and key",
    ),
    ("mha_rank2", lambda: AT.MultiHeadAttention(2, 3), [(None, 5), (None, 5)], "rank >= 3"),
    (
        "mha_attention_axes",
        lambda: AT.MultiHeadAttention(2, 3, attention_axes=2),
        [(None, 4, 5), (None, 6, 5)],
        "attention axes",
    ),
    ("attention_one_input", lambda: AT.Attention(), [(None, 4, 5)], "query, value"),
    ("attention_dim_mismatch", lambda: AT.Attention(), [(None, 4, 5), (None, 6, 3)], "shapes"),
    (
        "attention_key_steps",
        lambda: AT.Attention(),
        [(None, 4, 5), (None, 6, 2), (None, 5, 5)],
        "shapes",
    ),
]


@pytest.mark.parametrize(
    "name, make, shapes, message", INVALID_SPECS, ids=[c[0] for c in INVALID_SPECS]
)
def test_invalid_inputs_raise_naming_the_layer(name, make, shapes, message):
    layer = make()
    with pytest.raises(ValueError, match=message) as err:
        layer.compute_output_spec([TensorSpec(s) for s in shapes])
    assert layer.name in str(err.value)
    concrete = [np.zeros(tuple(2 if d is None else d for d in s), "float32") for s in shapes]
    with pytest.raises(ValueError, match=message):
        layer.apply({"params": {}, "state": {}}, concrete)


def test_mha_masks_with_several_attention_axes_raise():
    layer = AT.MultiHeadAttention(2, 2, attention_axes=(1, 2))
    v = layer.init(jax.random.key(0), [TensorSpec((None, 2, 3, 4))] * 2)
    x = make_inputs([(2, 2, 3, 4)] * 2)
    with pytest.raises(ValueError, match="single attention axis"):
        layer.apply(v, x, mask=[np.ones((2, 2), bool), None])


# ---- Hypothesis -------------------------------------------------------------------------------


@st.composite
def mha_case(draw):
    heads, key_dim = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    batch, t, s = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dq, dv, dk = (draw(st.integers(1, 5)) for _ in range(3))
    kwargs = {
        "num_heads": heads,
        "key_dim": key_dim,
        "value_dim": draw(st.one_of(st.none(), st.integers(1, 4))),
        "use_bias": draw(st.booleans()),
        "output_shape": draw(st.one_of(st.none(), st.integers(1, 3))),
    }
    shapes = [(batch, t, dq), (batch, s, dv)]
    if draw(st.booleans()):
        shapes.append((batch, s, dk))
    call = {"return_attention_scores": draw(st.booleans())}
    if t == s and draw(st.booleans()):
        call["use_causal_mask"] = True
    return kwargs, shapes, call


@settings(max_examples=6)
@given(mha_case())
def test_mha_shape_property(case):
    kwargs, shapes, call = case
    check_shapes(AT.MultiHeadAttention(**kwargs), shapes, call_kwargs=call)


@settings(max_examples=8)
@given(
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.booleans(),
    st.booleans(),
)
def test_attention_shape_property(batch, tq, tv, dim, concat, scores):
    layer = AT.Attention(score_mode="concat" if concat else "dot", use_scale=True)
    call = {"return_attention_scores": scores}
    _, _, out = check_shapes(
        layer, [(batch, tq, dim), (batch, tv, dim + 1), (batch, tv, dim)], call_kwargs=call
    )
    if scores:
        np.testing.assert_allclose(np.asarray(out[1]).sum(-1), 1.0, rtol=1e-5)


logging.getLogger("keras").setLevel(logging.CRITICAL)
