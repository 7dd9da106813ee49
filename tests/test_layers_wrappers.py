"""TimeDistributed and Bidirectional: Keras 3 parity, weight order and sharing, shapes, errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fkeras import _tree
from fkeras.layers import Dense, Input
from fkeras.layers._recurrent import GRU, LSTM, SimpleRNN
from fkeras.layers._spec import TensorSpec
from fkeras.layers._wrappers import Bidirectional, TimeDistributed
from fkeras.models import Model
from tests.layer_harness import (
    check_config_roundtrip,
    check_pure,
    check_shapes,
    make_inputs,
    run_layer_test,
)

B, T, F = 3, 5, 4
SHAPE = (B, T, F)
MASK = np.ones((B, T), bool)
MASK[0, 3:] = False
MASK[1, :2] = False


def keras_order(variables) -> list:
    """A nested variables tree's arrays in Keras's weight order (params, then state)."""
    return [
        np.asarray(a)
        for c in ("params", "state")
        for a in _tree.flatten(variables.get(c, {})).values()
    ]


def check_wrapper_parity(layer, klayer, shape, call_kwargs=None, harness=True):
    """The harness's own checks, then outputs against Keras 3 with the same weights."""
    call_kwargs = call_kwargs or {}
    if harness:
        variables, x, _ = check_shapes(layer, shape, call_kwargs=call_kwargs)
        check_pure(layer, variables, x, call_kwargs)
        check_config_roundtrip(layer, variables, x, call_kwargs)
    else:
        variables = layer.init(jax.random.key(0), TensorSpec((None,) + tuple(shape[1:])))
        x = make_inputs(shape)
    klayer(x, **call_kwargs)
    klayer.set_weights(keras_order(variables))
    ours = jax.tree.leaves(jax.jit(lambda v, x: layer.apply(v, x, **call_kwargs)[0])(variables, x))
    theirs = jax.tree.leaves(klayer(x, **call_kwargs))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    return variables


# ---- Bidirectional ---------------------------------------------------------------------------

# id -> (fkeras factory, keras factory, call kwargs, run the whole harness?)
BIDI_CASES = {
    "lstm_concat": (
        lambda: Bidirectional(LSTM(3)),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(3)),
        {},
        True,
    ),
    "gru_sum_seq_mask": (
        lambda: Bidirectional(GRU(3, return_sequences=True), merge_mode="sum"),
        lambda k: k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True), merge_mode="sum"),
        {"mask": MASK},
        True,
    ),
    "lstm_mul_state": (
        lambda: Bidirectional(LSTM(3, return_state=True), merge_mode="mul"),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(3, return_state=True), merge_mode="mul"),
        {},
        False,
    ),
    "simple_ave_seq_state_mask": (
        lambda: Bidirectional(
            SimpleRNN(3, return_sequences=True, return_state=True), merge_mode="ave"
        ),
        lambda k: k.layers.Bidirectional(
            k.layers.SimpleRNN(3, return_sequences=True, return_state=True), merge_mode="ave"
        ),
        {"mask": MASK},
        False,
    ),
    "lstm_none_seq_mask": (
        lambda: Bidirectional(LSTM(3, return_sequences=True), merge_mode=None),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(3, return_sequences=True), merge_mode=None),
        {"mask": MASK},
        False,
    ),
    "lstm_none_state": (
        lambda: Bidirectional(LSTM(2, return_state=True), merge_mode=None),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(2, return_state=True), merge_mode=None),
        {},
        False,
    ),
    "gru_backward_layer": (
        lambda: Bidirectional(GRU(3), backward_layer=GRU(2, activation="relu", go_backwards=True)),
        lambda k: k.layers.Bidirectional(
            k.layers.GRU(3), backward_layer=k.layers.GRU(2, activation="relu", go_backwards=True)
        ),
        {},
        False,
    ),
    "lstm_initial_state": (
        lambda: Bidirectional(LSTM(3, return_sequences=True)),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(3, return_sequences=True)),
        {"initial_state": [make_inputs((B, 3), seed=i) for i in range(4)]},
        False,
    ),
}


@pytest.mark.parametrize("case", list(BIDI_CASES))
def test_bidirectional_keras_parity(case, keras3):
    fk, kf, call_kwargs, harness = BIDI_CASES[case]
    check_wrapper_parity(fk(), kf(keras3), SHAPE, call_kwargs, harness=harness)


def test_bidirectional_weight_order_and_names(keras3):
    layer = Bidirectional(LSTM(3, name="enc"), name="bidi")
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_enc", "backward_enc")
    assert layer.forward_layer.go_backwards is False and layer.backward_layer.go_backwards is True
    out = layer(make_inputs(SHAPE))  # eager call builds both directions
    assert out.shape == (B, 6)
    klayer = keras3.layers.Bidirectional(keras3.layers.LSTM(3))
    klayer(make_inputs(SHAPE))
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in klayer.get_weights()]
    assert layer.get_weights()[0] is not None
    np.testing.assert_array_equal(layer.get_weights()[3], layer.backward_layer.get_weights()[0])
    assert list(layer._current_variables()["params"]) == ["forward_enc", "backward_enc"]
    # Keras 2's `weights=`: forward weights, then backward ones.
    weights = [np.full(w.shape, i, "float32") for i, w in enumerate(layer.get_weights())]
    again = Bidirectional(LSTM(3), weights=weights)
    again.build((None, T, F))
    for a, b in zip(again.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    layer.trainable = False
    assert not layer.forward_layer.trainable and not layer.backward_layer.trainable
    assert layer.trainable_mask() == {
        "forward_enc": {"kernel": False, "recurrent_kernel": False, "bias": False},
        "backward_enc": {"kernel": False, "recurrent_kernel": False, "bias": False},
    }


def test_bidirectional_in_functional_model(keras3):
    inp = Input(shape=(T, F))
    out = Dense(2)(Bidirectional(LSTM(3, return_sequences=True))(inp))
    model = Model(inp, out)
    kinp = keras3.Input(shape=(T, F))
    kmodel = keras3.Model(
        kinp,
        keras3.layers.Dense(2)(
            keras3.layers.Bidirectional(keras3.layers.LSTM(3, return_sequences=True))(kinp)
        ),
    )
    assert model.output_shape == (None, T, 2)
    model.set_weights(kmodel.get_weights())
    x = make_inputs(SHAPE)
    np.testing.assert_allclose(
        model.apply(model.get_variables(), x)[0], kmodel(x), rtol=1e-5, atol=1e-6
    )


def test_bidirectional_stateful_carries_both_directions():
    layer = Bidirectional(LSTM(2, stateful=True), merge_mode="sum")
    v = layer.init(jax.random.key(0), TensorSpec(SHAPE))
    assert jax.tree.map(jnp.shape, v["state"]) == {
        "forward_" + layer.forward_layer.name[len("forward_") :]: {
            "rnn_state_0": (B, 2),
            "rnn_state_1": (B, 2),
        },
        layer.backward_layer.name: {"rnn_state_0": (B, 2), "rnn_state_1": (B, 2)},
    }
    x = make_inputs(SHAPE)
    out1, s1 = layer.apply(v, x)
    out2, _ = layer.apply({**v, "state": s1}, x)
    assert not np.allclose(out1, out2)
    reset = layer.reset_state_variables({**v, "state": s1})
    np.testing.assert_allclose(layer.apply(reset, x)[0], out1, rtol=1e-6)


# ---- TimeDistributed -------------------------------------------------------------------------


def test_time_distributed_dense(keras3):
    run_layer_test(
        TimeDistributed(Dense(3, activation="relu")),
        SHAPE,
        keras_layer=keras3.layers.TimeDistributed(keras3.layers.Dense(3, activation="relu")),
    )


def test_time_distributed_4d_inputs(keras3):
    run_layer_test(
        TimeDistributed(Dense(2)),
        (2, 3, 4, 5),
        keras_layer=keras3.layers.TimeDistributed(keras3.layers.Dense(2)),
    )


def _mlp(ns, name):
    inp = ns.Input(shape=(F,)) if ns is not None else Input(shape=(F,))
    dense = ns.layers.Dense if ns is not None else Dense
    return (ns.Model if ns is not None else Model)(
        inp, dense(2)(dense(3, activation="tanh")(inp)), name=name
    )


def test_time_distributed_model_shares_its_weights(keras3):
    model = _mlp(None, "frame_model")
    kmodel = _mlp(keras3, "frame_model")
    model.set_weights(kmodel.get_weights())
    layer = TimeDistributed(model)
    klayer = keras3.layers.TimeDistributed(kmodel)
    x = make_inputs(SHAPE)
    variables = check_wrapper_parity(layer, klayer, SHAPE, harness=False)
    assert set(variables["params"]) == {layer.name for layer in model.layers[1:]}
    # Functional use: the wrapper's weights are the model's (Keras semantics).
    model.set_weights(kmodel.get_weights())
    inp = Input(shape=(T, F))
    outer = Model(inp, TimeDistributed(model)(inp))
    assert outer.output_shape == (None, T, 2)
    np.testing.assert_allclose(
        outer.apply(outer.get_variables(), x)[0], klayer(x), rtol=1e-5, atol=1e-6
    )
    td = outer.layers[1]
    assert len(td.get_weights()) == 4
    np.testing.assert_array_equal(td.get_weights()[0], model.get_weights()[0])
    model.set_weights([w * 0 for w in model.get_weights()])
    np.testing.assert_array_equal(outer.apply(outer.get_variables(), x)[0], np.zeros((B, T, 2)))


def test_time_distributed_lstm_with_a_3d_mask(keras3):
    from fkeras.layers._embedding import Embedding

    inp = Input(shape=(2, 6), dtype="int32")
    model = Model(inp, TimeDistributed(LSTM(3))(Embedding(10, 4, mask_zero=True)(inp)))
    kinp = keras3.Input(shape=(2, 6), dtype="int32")
    kmodel = keras3.Model(
        kinp,
        keras3.layers.TimeDistributed(keras3.layers.LSTM(3))(
            keras3.layers.Embedding(10, 4, mask_zero=True)(kinp)
        ),
    )
    model.set_weights(kmodel.get_weights())
    x = np.array(
        [[[1, 2, 0, 0, 0, 0], [3, 4, 5, 6, 7, 8]], [[9, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0]]],
        "int32",
    )
    np.testing.assert_allclose(
        model.apply(model.get_variables(), x)[0], kmodel(x), rtol=1e-5, atol=1e-6
    )


# ---- shapes as a property --------------------------------------------------------------------


@settings(max_examples=8)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.lists(st.integers(1, 3), min_size=1, max_size=3),
    st.integers(1, 4),
)
def test_time_distributed_output_spec(batch, time, rest, units):
    check_shapes(TimeDistributed(Dense(units)), (batch, time, *rest))


@settings(max_examples=6)
@given(
    st.sampled_from(["concat", "sum", "mul", "ave", None]),
    st.booleans(),
    st.booleans(),
    st.integers(1, 3),
    st.integers(1, 4),
)
def test_bidirectional_output_spec(merge_mode, return_sequences, return_state, units, time):
    layer = Bidirectional(
        GRU(units, return_sequences=return_sequences, return_state=return_state),
        merge_mode=merge_mode,
    )
    check_shapes(layer, (2, time, 3))
    spec = layer.compute_output_spec(TensorSpec((None, time, 3)))
    masks = layer.compute_mask(None, jnp.ones((2, time), bool))
    assert len(jax.tree.leaves(spec)) == (len(masks) if isinstance(masks, list) else 1)


# ---- invalid configurations ------------------------------------------------------------------


def test_invalid_wrapper_arguments():
    with pytest.raises(TypeError, match="layer="):
        TimeDistributed("dense")
    with pytest.raises(TypeError, match="layer="):
        Bidirectional(lambda x: x)
    with pytest.raises(ValueError, match="merge_mode='cat'"):
        Bidirectional(LSTM(2), merge_mode="cat")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="go_backwards.*attribute"):
        Bidirectional(Dense(2))
    with pytest.raises(TypeError, match="backward_layer="):
        Bidirectional(LSTM(2), backward_layer="lstm")


def test_invalid_wrapper_inputs():
    td = TimeDistributed(Dense(2), name="td")
    with pytest.raises(ValueError, match="'td'.*at least 3"):
        td.compute_output_spec(TensorSpec((None, 4)))
    v = td.init(jax.random.key(0), TensorSpec((None, T, F)))
    with pytest.raises(ValueError, match="at least 3"):
        td.apply(v, jnp.ones((B, F)))
    inner = TimeDistributed(LSTM(2))
    iv = inner.init(jax.random.key(0), TensorSpec((None, T, 6, F)))
    with pytest.raises(ValueError, match="mask"):
        inner.apply(iv, jnp.ones((B, T, 6, F)), mask=jnp.ones((B, T + 1, 6), bool))
    with pytest.raises(ValueError, match="rank 3"):
        Bidirectional(LSTM(2)).compute_output_spec(TensorSpec((None, F)))
