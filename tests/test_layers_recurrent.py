"""Recurrent layers (SimpleRNN, GRU, LSTM, RNN(cell), StackedRNNCells, ConvLSTM*D): Keras 3 parity,
purity, masks, initial and carried states, dropout, shapes, invalid configurations."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fkeras.layers._conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from fkeras.layers._recurrent import GRU, LSTM, RNN, SimpleRNN, StackedRNNCells
from fkeras.layers._rnn_cells import GRUCell, LSTMCell, RNNCell, SimpleRNNCell
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, fkeras_weights, make_inputs, run_layer_test

B, T, F = 3, 5, 4
SHAPE = (B, T, F)


def _mask(batch=B, steps=T):
    """Padding at the end, padding at the start, and a hole in the middle."""
    m = np.ones((batch, steps), bool)
    m[0, steps - 2 :] = False
    m[1, :2] = False
    m[-1, steps // 2] = False
    return m


MASK = _mask()
H0 = np.random.RandomState(7).uniform(-1, 1, (B, 3)).astype("float32")
C0 = np.random.RandomState(8).uniform(-1, 1, (B, 3)).astype("float32")


def _cells(ns):
    return [SimpleRNNCell(3), LSTMCell(2)] if ns == "fk" else [ns.SimpleRNNCell(3), ns.LSTMCell(2)]


# id -> (fkeras factory, keras factory (given the keras module), call kwargs, input shape)
CASES = {
    "simple_rnn": (lambda: SimpleRNN(3), lambda k: k.layers.SimpleRNN(3), {}, SHAPE),
    "simple_rnn_seq_state_back": (
        lambda: SimpleRNN(3, return_sequences=True, return_state=True, go_backwards=True),
        lambda k: k.layers.SimpleRNN(
            3, return_sequences=True, return_state=True, go_backwards=True
        ),
        {},
        SHAPE,
    ),
    "simple_rnn_relu_nobias_mask": (
        lambda: SimpleRNN(3, activation="relu", use_bias=False, return_sequences=True),
        lambda k: k.layers.SimpleRNN(3, activation="relu", use_bias=False, return_sequences=True),
        {"mask": MASK},
        SHAPE,
    ),
    "gru": (lambda: GRU(3), lambda k: k.layers.GRU(3), {}, SHAPE),
    "gru_reset_before_seq": (
        lambda: GRU(3, reset_after=False, return_sequences=True),
        lambda k: k.layers.GRU(3, reset_after=False, return_sequences=True),
        {},
        SHAPE,
    ),
    "gru_back_unroll_state": (
        lambda: GRU(3, go_backwards=True, unroll=True, return_state=True),
        lambda k: k.layers.GRU(3, go_backwards=True, unroll=True, return_state=True),
        {},
        SHAPE,
    ),
    "gru_nobias_reset_before": (
        lambda: GRU(3, use_bias=False, reset_after=False),
        lambda k: k.layers.GRU(3, use_bias=False, reset_after=False),
        {},
        SHAPE,
    ),
    "gru_mask_zero_output": (
        lambda: GRU(3, return_sequences=True, zero_output_for_mask=True),
        lambda k: k.layers.GRU(3, return_sequences=True, zero_output_for_mask=True),
        {"mask": MASK},
        SHAPE,
    ),
    "gru_initial_state_mask": (
        lambda: GRU(3, return_sequences=True),
        lambda k: k.layers.GRU(3, return_sequences=True),
        {"mask": MASK, "initial_state": [H0]},
        SHAPE,
    ),
    "lstm": (lambda: LSTM(3), lambda k: k.layers.LSTM(3), {}, SHAPE),
    "lstm_seq_state": (
        lambda: LSTM(3, return_sequences=True, return_state=True),
        lambda k: k.layers.LSTM(3, return_sequences=True, return_state=True),
        {},
        SHAPE,
    ),
    "lstm_back_seq": (
        lambda: LSTM(3, go_backwards=True, return_sequences=True),
        lambda k: k.layers.LSTM(3, go_backwards=True, return_sequences=True),
        {},
        SHAPE,
    ),
    "lstm_unroll_seq": (
        lambda: LSTM(3, unroll=True, return_sequences=True),
        lambda k: k.layers.LSTM(3, unroll=True, return_sequences=True),
        {},
        SHAPE,
    ),
    "lstm_no_forget_bias_hard_sigmoid": (
        lambda: LSTM(
            3, unit_forget_bias=False, recurrent_activation="hard_sigmoid", activation="relu"
        ),
        lambda k: k.layers.LSTM(
            3, unit_forget_bias=False, recurrent_activation="hard_sigmoid", activation="relu"
        ),
        {},
        SHAPE,
    ),
    "lstm_mask_seq": (
        lambda: LSTM(3, return_sequences=True),
        lambda k: k.layers.LSTM(3, return_sequences=True),
        {"mask": MASK},
        SHAPE,
    ),
    "lstm_mask_last_state": (
        lambda: LSTM(3, return_state=True),
        lambda k: k.layers.LSTM(3, return_state=True),
        {"mask": MASK},
        SHAPE,
    ),
    "lstm_mask_unroll_initial_state": (
        lambda: LSTM(3, unroll=True, return_sequences=True),
        lambda k: k.layers.LSTM(3, unroll=True, return_sequences=True),
        {"mask": MASK, "initial_state": [H0, C0]},
        SHAPE,
    ),
    "lstm_mask_back": (
        lambda: LSTM(3, go_backwards=True, return_sequences=True),
        lambda k: k.layers.LSTM(3, go_backwards=True, return_sequences=True),
        {"mask": MASK},
        SHAPE,
    ),
    "lstm_recurrent_dropout_inference": (
        lambda: LSTM(3, recurrent_dropout=0.3, dropout=0.2),
        lambda k: k.layers.LSTM(3, recurrent_dropout=0.3, dropout=0.2),
        {},
        SHAPE,
    ),
    "rnn_lstm_cell": (
        lambda: RNN(LSTMCell(3)),
        lambda k: k.layers.RNN(k.layers.LSTMCell(3)),
        {},
        SHAPE,
    ),
    "rnn_stacked_state_mask": (
        lambda: RNN(_cells("fk"), return_sequences=True, return_state=True),
        lambda k: k.layers.RNN(_cells(k.layers), return_sequences=True, return_state=True),
        {"mask": MASK},
        SHAPE,
    ),
    "rnn_stacked_cells_object": (
        lambda: RNN(StackedRNNCells([GRUCell(2), SimpleRNNCell(3)])),
        lambda k: k.layers.RNN(
            k.layers.StackedRNNCells([k.layers.GRUCell(2), k.layers.SimpleRNNCell(3)])
        ),
        {},
        SHAPE,
    ),
    "conv_lstm2d": (
        lambda: ConvLSTM2D(2, 3),
        lambda k: k.layers.ConvLSTM2D(2, 3),
        {},
        (2, 3, 5, 5, 2),
    ),
    "conv_lstm2d_same_strides_seq_state": (
        lambda: ConvLSTM2D(
            2, (3, 2), strides=2, padding="same", return_sequences=True, return_state=True
        ),
        lambda k: k.layers.ConvLSTM2D(
            2, (3, 2), strides=2, padding="same", return_sequences=True, return_state=True
        ),
        {},
        (2, 3, 5, 6, 2),
    ),
    "conv_lstm2d_channels_first_dilated_back": (
        lambda: ConvLSTM2D(2, 2, dilation_rate=2, data_format="channels_first", go_backwards=True),
        lambda k: k.layers.ConvLSTM2D(
            2, 2, dilation_rate=2, data_format="channels_first", go_backwards=True
        ),
        {},
        (2, 3, 2, 5, 5),
    ),
    "conv_lstm1d": (
        lambda: ConvLSTM1D(3, 2),
        lambda k: k.layers.ConvLSTM1D(3, 2),
        {},
        (2, 3, 6, 2),
    ),
    "conv_lstm3d": (
        lambda: ConvLSTM3D(2, 2),
        lambda k: k.layers.ConvLSTM3D(2, 2),
        {},
        (1, 2, 3, 3, 3, 1),
    ),
}


# Rows that also run the whole harness (shapes, jit/grad/vmap purity, config round trip, input
# gradients against Keras); the others compare outputs only, to keep the file fast.
FULL = {
    "simple_rnn_seq_state_back",
    "gru_initial_state_mask",
    "lstm_mask_seq",
    "lstm_mask_unroll_initial_state",
}


def check_outputs(layer, klayer, shape, call_kwargs, rtol=1e-5, atol=1e-5):
    """Same weights in Keras 3 -> same outputs (jitted apply against Keras's eager call)."""
    variables = layer.init(jax.random.key(0), TensorSpec((None,) + tuple(shape[1:])))
    x = make_inputs(shape)
    klayer.build(tuple(shape))
    klayer.set_weights(fkeras_weights(layer, variables))
    ours = jax.jit(lambda v, x: layer.apply(v, x, **call_kwargs)[0])(variables, x)
    theirs = klayer(x, **call_kwargs)
    ours, theirs = jax.tree.leaves(ours), jax.tree.leaves(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", list(CASES))
def test_keras_parity(case, keras3):
    fk, kf, call_kwargs, shape = CASES[case]
    if case in FULL:
        run_layer_test(
            fk(), shape, keras_layer=kf(keras3), call_kwargs=call_kwargs, rtol=1e-5, atol=1e-5
        )
    else:
        check_outputs(fk(), kf(keras3), shape, call_kwargs)


def _keras_weights_in(layer, klayer, x, v, **kwargs):
    klayer(x, **kwargs)
    klayer.set_weights(fkeras_weights(layer, v))


def test_hand_computed_simple_rnn():
    layer = SimpleRNN(1, activation="linear", return_sequences=True)
    v = {
        "params": {
            "kernel": jnp.array([[2.0]]),
            "recurrent_kernel": jnp.array([[0.5]]),
            "bias": jnp.array([1.0]),
        },
        "state": {},
    }
    x = jnp.array([[[1.0], [0.0], [-1.0]]])
    out, _ = layer.apply(v, x)
    # h1 = 2 + 1 = 3; h2 = 0 + 1 + 1.5 = 2.5; h3 = -2 + 1 + 1.25 = 0.25
    np.testing.assert_allclose(np.asarray(out)[0, :, 0], [3.0, 2.5, 0.25], rtol=1e-6)


def test_hoisted_projection_runs_one_matmul_outside_the_loop():
    layer = LSTM(3)
    v = layer.init(jax.random.key(0), TensorSpec((None, T, F)))
    jaxpr = jax.make_jaxpr(lambda v, x: layer.apply(v, x)[0])(v, jnp.ones(SHAPE))
    outer = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    scan = next(e for e in jaxpr.jaxpr.eqns if e.primitive.name == "scan")
    inner = [e.primitive.name for e in scan.params["jaxpr"].jaxpr.eqns]
    assert outer.count("dot_general") == 1  # x @ kernel over all timesteps
    assert inner.count("dot_general") == 1  # only h @ recurrent_kernel per step


def test_stateful_carries_states_over_two_batches(keras3):
    x1, x2 = make_inputs(SHAPE, seed=1), make_inputs(SHAPE, seed=2)
    layer = LSTM(3, stateful=True, return_sequences=True)
    v = layer.init(jax.random.key(0), TensorSpec(SHAPE))
    assert set(v["state"]) == {"rnn_state_0", "rnn_state_1"}
    klayer = keras3.layers.LSTM(3, stateful=True, return_sequences=True)
    _keras_weights_in(layer, klayer, x1, {"params": v["params"], "state": {}})
    klayer.reset_state()
    step = jax.jit(lambda v, x: layer.apply(v, x))
    out1, s1 = step(v, x1)
    out2, s2 = step({**v, "state": s1}, x2)
    np.testing.assert_allclose(out1, klayer(x1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out2, klayer(x2), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s2["rnn_state_0"], klayer.states[0].value, rtol=1e-5, atol=1e-6)
    # A second call from the first state gives a different result than from zeros.
    assert not np.allclose(out2, step(v, x2)[0])
    reset = layer.reset_state_variables({**v, "state": s2})
    assert all(np.all(np.asarray(a) == 0) for a in reset["state"].values())
    np.testing.assert_allclose(step(reset, x1)[0], out1, rtol=1e-6)


def test_stateful_facade_weights_and_reset():
    layer = GRU(2, stateful=True, batch_input_shape=(2, 4, 3))
    out = layer(make_inputs((2, 4, 3)))
    assert out.shape == (2, 2)
    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert len(layer.get_weights()) == 3
    layer._assign_state({"rnn_state_0": jnp.ones((2, 2))})
    layer.reset_states()
    np.testing.assert_array_equal(
        layer._current_variables()["state"]["rnn_state_0"], np.zeros((2, 2))
    )
    layer.reset_states([np.full((2, 2), 3.0)])
    np.testing.assert_array_equal(
        layer._current_variables()["state"]["rnn_state_0"], np.full((2, 2), 3.0)
    )


def test_stateful_needs_a_fixed_batch_size():
    with pytest.raises(ValueError, match="stateful.*batch_input_shape"):
        LSTM(3, stateful=True).init(jax.random.key(0), TensorSpec((None, T, F)))
    layer = LSTM(3, stateful=True)
    v = layer.init(jax.random.key(0), TensorSpec(SHAPE))
    with pytest.raises(ValueError, match="Expected batch size: 3"):
        layer.apply(v, jnp.ones((2, T, F)))


def test_dropout_one_mask_per_sequence_and_needs_rng():
    # Linear cell, identity kernel, no recurrence: output_t = x_t * mask, so mask = out / x.
    layer = SimpleRNN(F, activation="linear", use_bias=False, dropout=0.5, return_sequences=True)
    v = {"params": {"kernel": jnp.eye(F), "recurrent_kernel": jnp.zeros((F, F))}, "state": {}}
    x = jnp.asarray(make_inputs(SHAPE, low=0.5, high=1.0))
    out, _ = layer.apply(v, x, training=True, rng=jax.random.key(3))
    ratio = np.asarray(out / x)
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1], ratio.shape), rtol=1e-6)
    assert set(np.unique(np.round(ratio, 5))) == {0.0, 2.0}
    again, _ = layer.apply(v, x, training=True, rng=jax.random.key(3))
    np.testing.assert_array_equal(out, again)
    np.testing.assert_allclose(layer.apply(v, x)[0], x, rtol=1e-6)  # inference: no dropout
    with pytest.raises(ValueError, match="rng"):
        layer.apply(v, x, training=True)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_recurrent_dropout_trains_and_differs(cls):
    layer = cls(3, dropout=0.3, recurrent_dropout=0.3, return_sequences=True)
    v = layer.init(jax.random.key(0), TensorSpec((None, T, F)))
    x = make_inputs(SHAPE)
    a = layer.apply(v, x, training=True, rng=jax.random.key(1))[0]
    b = layer.apply(v, x, training=True, rng=jax.random.key(2))[0]
    c = layer.apply(v, x)[0]
    assert not np.allclose(a, b) and not np.allclose(a, c)
    g = jax.grad(
        lambda p: jnp.sum(
            layer.apply({"params": p, "state": {}}, x, training=True, rng=jax.random.key(1))[0]
        )
    )(v["params"])
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(g))


def test_embedding_mask_zero_into_lstm_functional_model(keras3):
    from fkeras.layers import Input
    from fkeras.layers._embedding import Embedding
    from fkeras.models import Model

    inp = Input(shape=(6,), dtype="int32")
    model = Model(inp, LSTM(4)(Embedding(10, 3, mask_zero=True)(inp)))
    kinp = keras3.Input(shape=(6,), dtype="int32")
    kmodel = keras3.Model(
        kinp, keras3.layers.LSTM(4)(keras3.layers.Embedding(10, 3, mask_zero=True)(kinp))
    )
    model.set_weights(kmodel.get_weights())
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9], [3, 0, 0, 0, 0, 0]], "int32")
    ours, _ = jax.jit(model.apply)(model.get_variables(), x)
    np.testing.assert_allclose(ours, kmodel(x), rtol=1e-5, atol=1e-6)
    # The padding matters: without the mask the answers differ.
    unmasked = Model(inp, LSTM(4)(Embedding(10, 3)(inp)))
    unmasked.set_weights(kmodel.get_weights())
    assert not np.allclose(unmasked.apply(unmasked.get_variables(), x)[0], ours)


def test_symbolic_initial_state_in_functional_model(keras3):
    from fkeras.layers import Input
    from fkeras.models import Model

    x, h, c = Input(shape=(T, F)), Input(shape=(3,)), Input(shape=(3,))
    layer = LSTM(3, return_sequences=True)
    model = Model([x, h, c], layer(x, initial_state=[h, c]))
    kx, kh, kc = keras3.Input(shape=(T, F)), keras3.Input(shape=(3,)), keras3.Input(shape=(3,))
    kmodel = keras3.Model(
        [kx, kh, kc], keras3.layers.LSTM(3, return_sequences=True)(kx, initial_state=[kh, kc])
    )
    model.set_weights(kmodel.get_weights())
    data = [make_inputs(SHAPE), H0, C0]
    ours, _ = model.apply(model.get_variables(), data)
    np.testing.assert_allclose(ours, kmodel(data), rtol=1e-5, atol=1e-6)


class MinimalRNNCell(RNNCell):
    """The user cell of the `_rnn_cells` module docstring."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def init(self, rng, input_spec):
        k1, k2 = jax.random.split(rng)
        return {
            "params": {
                "kernel": jax.random.normal(k1, (input_spec.shape[-1], self.units)),
                "recurrent_kernel": jax.random.normal(k2, (self.units, self.units)) * 0.1,
            },
            "state": {},
        }

    def step(self, params, inputs, states, *, training=False, rng=None):
        h = inputs @ params["kernel"] + states[0] @ params["recurrent_kernel"]
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class CountingCell(RNNCell):
    """A weightless cell written Keras's way: `call(inputs, states)`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_size = 1

    def call(self, inputs, states):
        total = states[0] + jnp.sum(inputs, axis=-1, keepdims=True)
        return total, [total]


def test_user_cells_follow_the_protocol():
    x = make_inputs(SHAPE)
    layer = RNN(MinimalRNNCell(2), return_sequences=True)
    v = layer.init(jax.random.key(0), TensorSpec((None, T, F)))
    out = layer.apply(v, x)[0]
    h = np.zeros((B, 2), "float32")
    p = {k: np.asarray(a) for k, a in v["params"].items()}
    for t in range(T):
        h = x[:, t] @ p["kernel"] + h @ p["recurrent_kernel"]
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)
    stacked = RNN([MinimalRNNCell(2), LSTMCell(3)])
    sv = stacked.init(jax.random.key(0), TensorSpec((None, T, F)))
    assert list(sv["params"]) == [
        "cell_0/kernel",
        "cell_0/recurrent_kernel",
        "cell_1/kernel",
        "cell_1/recurrent_kernel",
        "cell_1/bias",
    ]
    assert stacked.apply(sv, x)[0].shape == (B, 3)
    counting = RNN(CountingCell(), return_sequences=True)
    out = counting.apply(counting.init(jax.random.key(0), TensorSpec(SHAPE)), x)[0]
    np.testing.assert_allclose(out[..., 0], np.cumsum(x.sum(-1), axis=1), rtol=1e-5)
    # A cell is also usable on its own, one step at a time (Keras's `cell(x, states)`).
    cell = LSTMCell(3)
    cv = cell.init(jax.random.key(0), TensorSpec((None, F)))
    (y, (h1, c1)), _ = cell.apply(cv, x[:, 0])
    assert y.shape == h1.shape == c1.shape == (B, 3)


def test_conv_lstm_mask_keeps_the_previous_state():
    # Keras 3's ConvLSTM cannot broadcast its step mask over feature maps; fkeras keeps the
    # previous state of a masked sample, as for the other RNNs.
    layer = ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    v = layer.init(jax.random.key(0), TensorSpec((None, 4, 5, 5, 3)))
    mask = np.ones((2, 4), bool)
    mask[0, 2:] = False
    out, _ = layer.apply(v, make_inputs((2, 4, 5, 5, 3)), mask=mask)
    np.testing.assert_array_equal(out[0, 3], out[0, 1])
    assert not np.allclose(out[1, 3], out[1, 1])


def test_penalty_and_constraint_reach_the_cell():
    from fkeras import regularizers

    layer = LSTM(3, kernel_regularizer=regularizers.L2(0.1), recurrent_constraint="non_neg")
    v = layer.init(jax.random.key(0), TensorSpec((None, T, F)))
    np.testing.assert_allclose(
        layer.penalty(v["params"]), 0.1 * np.sum(np.square(v["params"]["kernel"])), rtol=1e-6
    )
    assert np.all(np.asarray(layer.constrain(v["params"])["recurrent_kernel"]) >= 0)


def test_config_round_trip_keeps_keras_keys(keras3):
    layer = GRU(4, reset_after=False, go_backwards=True, dropout=0.1)
    config = layer.get_config()
    assert set(keras3.layers.GRU(4).get_config()) - set(config) <= {"activity_regularizer"}
    assert GRU.from_config(config).get_config() == config
    rnn = RNN([GRUCell(2), LSTMCell(3)], return_state=True)
    assert RNN.from_config(rnn.get_config()).get_config() == rnn.get_config()


# ---- shapes as a property --------------------------------------------------------------------


@st.composite
def rnn_configs(draw):
    kind = draw(st.sampled_from(["simple", "gru", "lstm", "stacked"]))
    units = draw(st.integers(1, 4))
    flags = {
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "unroll": draw(st.booleans()),
    }
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    if kind == "simple":
        layer = SimpleRNN(units, **flags)
    elif kind == "gru":
        layer = GRU(units, reset_after=draw(st.booleans()), **flags)
    elif kind == "lstm":
        layer = LSTM(units, **flags)
    else:
        layer = RNN([SimpleRNNCell(units), LSTMCell(units + 1)], **flags)
    return layer, shape, draw(st.booleans())


@settings(max_examples=6)
@given(rnn_configs())
def test_output_spec_matches_apply(config):
    layer, shape, masked = config
    kwargs = {"mask": np.ones(shape[:2], bool)} if masked else {}
    check_shapes(layer, shape, call_kwargs=kwargs)


@settings(max_examples=3)
@given(
    st.integers(1, 3), st.sampled_from([1, 2]), st.sampled_from(["valid", "same"]), st.booleans()
)
def test_conv_lstm_output_spec_matches_apply(filters, strides, padding, return_sequences):
    layer = ConvLSTM2D(
        filters, 2, strides=strides, padding=padding, return_sequences=return_sequences
    )
    check_shapes(layer, (1, 2, 4, 5, 2))


# ---- invalid configurations ------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SimpleRNN, GRU, LSTM, SimpleRNNCell, GRUCell, LSTMCell])
@pytest.mark.parametrize("units", [0, -2, 2.5, True, None])
def test_invalid_units(cls, units):
    with pytest.raises(ValueError, match=f"units={units!r}"):
        cls(units)


@pytest.mark.parametrize("arg", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5"])
def test_invalid_dropout(arg, rate):
    with pytest.raises(ValueError, match=f"{arg}="):
        LSTM(3, **{arg: rate})


@pytest.mark.parametrize("shape", [(B, F), (B, T, F, 2), (F,)])
def test_wrong_input_rank_names_the_layer(shape):
    layer = LSTM(3, name="my_lstm")
    with pytest.raises(ValueError, match="my_lstm.*rank 3"):
        layer.compute_output_spec(TensorSpec(shape))
    with pytest.raises(ValueError, match="my_lstm"):
        layer.apply(layer.init(jax.random.key(0), TensorSpec(SHAPE)), jnp.ones(shape))


def test_invalid_calls_raise_clear_errors():
    layer = LSTM(3, name="lstm_calls")
    v = layer.init(jax.random.key(0), TensorSpec(SHAPE))
    x = jnp.ones(SHAPE)
    with pytest.raises(ValueError, match="initial_state.*shapes"):
        layer.apply(v, x, initial_state=[H0])
    with pytest.raises(ValueError, match="mask"):
        layer.apply(v, x, mask=np.ones((B, T + 1), bool))
    with pytest.raises(ValueError, match="unroll"):
        LSTM(3, unroll=True).compute_output_spec(TensorSpec((None, None, F)))
    with pytest.raises(ValueError, match="Received: input shape"):
        layer.check_input_spec(TensorSpec((None, T, F)), TensorSpec((None, T, F + 1)))
    with pytest.raises(ValueError, match="use_cudnn"):
        LSTM(3, use_cudnn="yes")
    with pytest.raises(ValueError, match="state_size"):
        RNN(object())
    with pytest.raises(ValueError, match="strides.*dilation_rate"):
        ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        ConvLSTM2D(2, 3, padding="full")


@pytest.mark.parametrize("layer_cls, gates", [(GRU, 3), (LSTM, 4)])
def test_gate_split_gradient_has_no_zero_pads(layer_cls, gates):
    """The gates are cut apart with one `jnp.split` (its gradient: one concatenate), not one
    slice per gate (whose gradients are zero-pads back to the full width, summed: a GRU step
    ~20% slower on XLA:CPU). The bias rows `bias[0]`/`bias[1]` may still pad: (2, 3 * units)."""
    batch, units = 3, 4
    layer = layer_cls(units)
    variables = layer.init(jax.random.PRNGKey(0), TensorSpec((batch, 5, 2), "float32"))

    def loss(params, x):
        return jnp.sum(layer.apply({"params": params, "state": variables["state"]}, x)[0])

    jaxpr = jax.make_jaxpr(jax.grad(loss))(variables["params"], jnp.ones((batch, 5, 2)))

    def equations(jaxpr):
        for eqn in jaxpr.eqns:
            yield eqn
            for param in eqn.params.values():
                inner = getattr(param, "jaxpr", None)
                if inner is not None:
                    yield from equations(getattr(inner, "jaxpr", inner))

    eqns = list(equations(jaxpr.jaxpr))
    assert any(e.primitive.name == "scan" for e in eqns) and any(e.primitive.name == "split" for e in eqns)
    gate_pads = [
        e for e in eqns
        if e.primitive.name == "pad" and tuple(e.outvars[0].aval.shape) == (batch, gates * units)
    ]
    assert gate_pads == []
