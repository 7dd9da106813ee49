"""Models: the functional graph, Sequential building, the pure init/apply path, the engine's
fused and unfused loops, and the errors a Keras user meets."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import fkeras
from fkeras import layers as L
from fkeras.models import Model, Sequential


def mlp(units=(8, 3), input_dim=5, dropout=0.0):
    model = Sequential()
    model.add(L.Dense(units[0], activation="relu", input_dim=input_dim))
    if dropout:
        model.add(L.Dropout(dropout))
    model.add(L.Dense(units[1], activation="softmax"))
    return model


def data(n=70, d=5, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, d).astype("float32"), np.eye(classes, dtype="float32")[rng.randint(classes, size=n)]


# ---- graph construction -------------------------------------------------------------------

def test_functional_model_structure_and_names():
    inputs = L.Input(shape=(4,), name="features")
    h = L.Dense(6, activation="relu", name="hidden")(inputs)
    out = L.Dense(2, name="out")(h)
    model = Model(inputs=inputs, outputs=out, name="net")
    assert [layer.name for layer in model.layers] == ["features", "hidden", "out"]
    assert model.input_names == ["features"] and model.output_names == ["out"]
    assert model.get_layer("hidden") is model.layers[1] is model.get_layer(index=1)
    assert model.count_params() == 4 * 6 + 6 + 6 * 2 + 2
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")


def test_layer_names_are_unique_keras_style():
    a, b, c = L.Dense(1), L.Dense(1), L.Dense(1)
    base = a.name
    assert b.name == base + "_1" or b.name.startswith("dense_")
    assert len({a.name, b.name, c.name}) == 3


def test_symbolic_tensors_compare_by_identity_and_refuse_numbers():
    x = L.Input(shape=(3,))
    dense = L.Dense(2)
    y = dense(x)
    assert dense.output == y and not (dense.output == x)
    assert bool(y)
    with pytest.raises(TypeError, match="symbolic tensor"):
        np.asarray(y)
    with pytest.raises(TypeError, match="symbolic tensor"):
        float(y)


def test_shared_layer_multiple_nodes_error_message():
    dense = L.Dense(2, name="shared_dense")
    a, b = L.Input(shape=(3,)), L.Input(shape=(3,))
    ya, yb = dense(a), dense(b)
    assert dense.get_output_at(0) == ya and dense.get_output_at(1) == yb
    assert dense.input_shape == (None, 3)  # every node has the same shape
    with pytest.raises(AttributeError, match="Layer shared_dense has multiple inbound nodes"):
        dense.output
    model = Model([a, b], [ya, yb])
    assert len(model.weights) == 2  # one kernel, one bias


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Model(L.Input(shape=(3,)), L.Dense(1)(L.Input(shape=(3,)))), "Graph disconnected"),
        (lambda: Model(L.Dense(1)(L.Input(shape=(3,))), L.Input(shape=(3,))), "Input"),
        (lambda: Model(np.zeros(3), np.zeros(3)), "symbolic tensor"),
        (lambda: Model(inputs=None, outputs=None), "inputs"),
    ],
)
def test_graph_errors(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_duplicate_layer_names_rejected():
    x = L.Input(shape=(3,))
    y = L.Dense(2, name="twin")(L.Dense(2, name="twin")(x))
    with pytest.raises(ValueError, match="twin.*unique"):
        Model(x, y)


def test_sequential_deferred_build_and_errors():
    model = Sequential([L.Dense(4), L.Dense(2)])
    with pytest.raises(ValueError, match="not been built"):
        model.summary()
    out = model.predict(np.ones((3, 7), "float32"), verbose=0)
    assert out.shape == (3, 2) and model.input_shape == (None, 7)
    with pytest.raises(TypeError, match="instance of class Layer"):
        model.add("dense")
    popped = model.pop()
    assert isinstance(popped, L.Dense) and model.output_shape == (None, 4)


def test_batch_input_shape_and_batch_size():
    model = Sequential([L.Dense(3, batch_input_shape=(8, 5))])
    assert model.input_shape == (8, 5)
    model = Sequential([L.Dense(3, input_shape=(5,), batch_size=4)])
    assert model.input_shape == (4, 5)


def test_models_nest_and_share_weights():
    inner = mlp()
    x = L.Input(shape=(5,))
    outer = Model(x, L.Dense(1)(inner(x)))
    xb = np.random.rand(4, 5).astype("float32")
    np.testing.assert_allclose(outer.get_layer(inner.name)(xb), inner.predict(xb, verbose=0), rtol=1e-6)
    before = inner.layers[0].get_weights()[0].copy()
    outer.compile("sgd", "mse")
    outer.fit(xb, np.ones((4, 1)), epochs=1, verbose=0)
    assert not np.allclose(inner.layers[0].get_weights()[0], before)  # trained through the outer model


# ---- the pure path ------------------------------------------------------------------------

def test_pure_apply_composes_with_jit_grad_vmap():
    model = mlp(dropout=0.5)
    variables = model.init(jax.random.key(0))
    x = jnp.asarray(data(6)[0])
    eager, _ = model.apply(variables, x)
    jitted, _ = jax.jit(lambda v, x: model.apply(v, x))(variables, x)
    np.testing.assert_allclose(eager, jitted, rtol=1e-6)
    per_sample = jax.vmap(lambda xi: model.apply(variables, xi[None])[0][0])(x)
    np.testing.assert_allclose(per_sample, eager, rtol=1e-5, atol=1e-6)

    def loss(params, x, rng):
        out, _ = model.apply({"params": params, "state": {}}, x, training=True, rng=rng)
        return jnp.mean(out ** 2)

    grads = jax.grad(loss)(variables["params"], x, jax.random.key(1))
    assert jax.tree.structure(grads) == jax.tree.structure(variables["params"])
    trained_a, _ = model.apply(variables, x, training=True, rng=jax.random.key(3))
    trained_b, _ = model.apply(variables, x, training=True, rng=jax.random.key(3))
    np.testing.assert_array_equal(trained_a, trained_b)
    with pytest.raises(ValueError, match="rng"):
        model.apply(variables, x, training=True)


def test_handwritten_optax_loop_equals_fit():
    x, y = data(64)
    model = mlp()
    model.compile(optimizer=fkeras.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    start = model.get_variables()
    tx = optax.sgd(0.1)
    params = start["params"]
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, xb, yb):
        def loss_fn(p):
            probs, _ = model.apply({"params": p, "state": {}}, xb)
            return fkeras.losses.get("categorical_crossentropy")(yb, probs)

        grads = jax.grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    for epoch in range(2):
        for i in range(0, 64, 16):
            params, opt_state = step(params, opt_state, x[i:i + 16], y[i:i + 16])
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for path_a, path_b in zip(jax.tree.leaves(params), jax.tree.leaves(model.get_variables()["params"])):
        np.testing.assert_allclose(path_a, path_b, rtol=1e-5, atol=1e-6)


# ---- the engine ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [64, 70])
def test_fused_and_unfused_training_agree(n):
    x, y = data(n)
    histories, weights = [], []
    for spe in ("auto", 1, 3):
        fkeras.utils.set_random_seed(7)
        model = mlp(dropout=0.25)
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"], steps_per_execution=spe)
        histories.append(model.fit(x, y, batch_size=16, epochs=3, verbose=0).history)
        weights.append(model.get_weights())
    for h in histories[1:]:
        for key in ("loss", "accuracy"):
            np.testing.assert_allclose(h[key], histories[0][key], rtol=1e-5)
    for w in weights[1:]:
        for a, b in zip(w, weights[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_no_retrace_across_epochs_and_fits():
    x, y = data(70)
    model = mlp()
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    with jax.log_compiles(True), _count_compiles() as counter:
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        model.optimizer.learning_rate = 0.5
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert counter.count == 0, counter.messages


def test_step_by_step_epoch_compiles_one_program_per_batch_shape():
    """The first step of an epoch (which zeroes the metrics) shares its compiled program with the
    others: an epoch of full batches plus a partial one compiles exactly two train programs."""
    x, y = data(70)
    model = mlp()
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"], steps_per_execution=1)
    with jax.log_compiles(True), _count_compiles() as counter:
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert counter.count == 2, counter.messages


class _count_compiles:
    """Counts XLA compilations of fkeras step functions logged while active."""

    def __enter__(self):
        import logging

        self.count, self.messages = 0, []
        outer = self

        class Handler(logging.Handler):
            def emit(self, record):
                msg = record.getMessage()
                if "Finished XLA compilation" in msg and any(k in msg for k in ("one", "many", "step")):
                    outer.count += 1
                    outer.messages.append(msg)

        self.handler = Handler()
        logging.getLogger("jax").addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        import logging

        logging.getLogger("jax").removeHandler(self.handler)


def test_partial_batch_keras_semantics():
    # 10 samples, batch 4: batches of 4, 4, 2; the epoch loss is the sample-weighted mean.
    x, y = data(10)
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    start = model.get_weights()
    losses = []
    for i in (0, 4, 8):
        losses.append((model.train_on_batch(x[i:i + 4], y[i:i + 4]), len(x[i:i + 4])))
    expected = sum(l * n for l, n in losses) / 10
    model.set_weights(start)
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_evaluate_any_size_matches_full_batch_and_predict_shapes():
    x, y = data(37)
    model = mlp()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    full = model.evaluate(x, y, batch_size=37, verbose=0)
    for bs in (5, 8, 32):
        np.testing.assert_allclose(model.evaluate(x, y, batch_size=bs, verbose=0), full, rtol=1e-5)
    assert model.predict(x[:1], verbose=0).shape == (1, 3)
    assert model.predict(x, batch_size=10, verbose=0).shape == (37, 3)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}


def test_fit_validation_split_and_history():
    x, y = data(50)
    model = mlp()
    model.compile("adam", "categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert model.history is history and history.epoch == [0, 1]
    assert model.metrics_names == ["loss", "acc"]


# ---- errors at the user's call ------------------------------------------------------------

def test_fit_before_compile():
    with pytest.raises(ValueError, match="compile"):
        mlp().fit(*data(8), verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "nosuchopt", "loss": "mse"}, "nosuchopt"),
        ({"optimizer": "sgd", "loss": "nosuchloss"}, "nosuchloss"),
        ({"optimizer": "sgd", "loss": "mse", "metrics": ["nosuchmetric"]}, "nosuchmetric"),
        ({"optimizer": "sgd", "loss": "mse", "bogus": 1}, "bogus"),
    ],
)
def test_compile_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        mlp().compile(**kwargs)


def test_data_errors():
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    x, y = data(10)
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5|incompatible"):
        model.predict(np.ones((2, 6), "float32"), verbose=0)
    with pytest.raises(TypeError, match="numbers"):
        model.fit(np.array([["a"] * 5] * 10), y, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)


def test_multi_input_data_as_lists_and_dicts():
    a, b = L.Input(shape=(2,), name="a"), L.Input(shape=(3,), name="b")
    out = L.Dense(1, name="o")(L.Dense(2)(b))
    out2 = L.Dense(1, name="p")(a)
    model = Model([a, b], [out, out2])
    model.compile("sgd", "mse", metrics={"o": ["mae"]})
    xa, xb = np.ones((6, 2), "float32"), np.ones((6, 3), "float32")
    y = np.zeros((6, 1), "float32")
    h1 = model.fit([xa, xb], [y, y], verbose=0)
    h2 = model.fit({"a": xa, "b": xb}, {"o": y, "p": y}, verbose=0)
    assert set(h1.history) == set(h2.history) == {"loss", "o_loss", "p_loss", "o_mae"}
    assert model.metrics_names == ["loss", "o_loss", "p_loss", "o_mae"]
    with pytest.raises(ValueError, match="unknown keys"):
        model.fit({"a": xa, "c": xb}, [y, y], verbose=0)
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(xa, verbose=0)


def test_trainable_false_freezes_layer_in_fit():
    x, y = data(20)
    model = mlp()
    frozen = model.layers[0]
    frozen.trainable = False
    model.compile("sgd", "categorical_crossentropy")
    before = frozen.get_weights()
    other_before = model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(model.layers[1].get_weights()[0], other_before[0])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_target_shape_mismatch_is_a_clear_error():
    model = mlp()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, _ = data(10)
    with pytest.raises(ValueError, match="targets for output .* shape \\(None, 5\\).*\\(None, 3\\)"):
        model.fit(x, np.ones((10, 5), "float32"), verbose=0)


def test_raw_optax_optimizer_and_loss_only_evaluate():
    x, y = data(40)
    model = mlp()
    model.compile(optimizer=optax.adam(1e-2), loss="categorical_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    assert isinstance(before, float)
    model.fit(x, y, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = data(40)
    model = mlp()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=2, batch_size=16)
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("3/3 - ") and "accuracy: " in lines[1] and "loss: " in lines[1]


def test_tracebacks_hide_fkeras_frames_unless_disabled():
    import os
    import traceback

    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    fkeras_dir = os.path.dirname(fkeras.__file__)

    def frames():
        try:
            model.fit(np.ones((4, 6), "float32"), np.ones((4, 3), "float32"), verbose=0)
        except ValueError as err:
            return [f.filename for f in traceback.extract_tb(err.__traceback__)]

    inside = [f for f in frames() if f.startswith(fkeras_dir) and not f.endswith("_traceback.py")]
    assert inside == []
    fkeras.utils.disable_traceback_filtering()
    try:
        assert any(f.endswith("_training.py") for f in frames())
    finally:
        fkeras.utils.enable_traceback_filtering()


def test_frozen_batch_normalization_runs_in_inference_mode():
    model = Sequential([L.Dense(4, input_dim=3), L.BatchNormalization()])
    model.compile("sgd", "mse")
    bn = model.layers[1]
    x = np.random.rand(16, 3).astype("float32") * 5
    y = np.random.rand(16, 4).astype("float32")
    bn.trainable = False
    moving = [w.copy() for w in bn.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(bn.get_weights(), moving):
        np.testing.assert_array_equal(a, b)  # statistics untouched, gamma/beta frozen
    bn.trainable = True
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(bn.get_weights()[2], moving[2])  # moving mean updated again


def test_wrapped_layers_train_and_stateful_state_carries():
    model = Sequential([L.Embedding(20, 4, input_length=6), L.Bidirectional(L.LSTM(3)), L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    x = np.random.randint(20, size=(32, 6))
    y = np.random.randint(2, size=(32, 1))
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))

    stateful = Sequential([L.LSTM(2, stateful=True, batch_input_shape=(4, 3, 1))])
    xs = np.random.rand(4, 3, 1).astype("float32")
    first = stateful.predict(xs, batch_size=4, verbose=0)
    second = stateful.predict(xs, batch_size=4, verbose=0)
    assert not np.allclose(first, second)  # the state carried over
    stateful.reset_states()
    np.testing.assert_allclose(stateful.predict(xs, batch_size=4, verbose=0), first, rtol=1e-6)


def test_symbolic_tensors_in_call_keywords_are_graph_inputs():
    x = L.Input(shape=(5, 3))
    m = L.Input(shape=(5,), dtype="bool")
    h0 = L.Input(shape=(4,))
    c0 = L.Input(shape=(4,))
    out = L.LSTM(4)(x, mask=m, initial_state=[h0, c0])
    model = Model([x, m, h0, c0], out)
    xs = np.random.rand(2, 5, 3).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    h = np.random.rand(2, 4).astype("float32")
    c = np.random.rand(2, 4).astype("float32")
    got = model.predict([xs, mask, h, c], verbose=0)
    lstm = model.layers[-1]
    want = lstm(xs[:1, :3], initial_state=[h[:1], c[:1]])  # the masked steps are skipped
    np.testing.assert_allclose(got[:1], want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got[1], lstm(xs[1:2, :3], initial_state=[h[1:], c[1:]])[0])


def test_operators_on_symbolic_tensors_build_nodes():
    x = L.Input(shape=(3,))
    y = L.Dense(3)(x)
    z = (x + y) * 2.0 - x[:, :1] / 4.0
    w = -abs(z) + 1.0
    model = Model(x, [z, w])
    xs = np.random.rand(5, 3).astype("float32")
    dense = model.get_layer(model.layers[1].name)
    yv = dense(xs)
    want = (xs + yv) * 2.0 - xs[:, :1] / 4.0
    got_z, got_w = model.predict(xs, verbose=0)
    np.testing.assert_allclose(got_z, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_w, -np.abs(want) + 1.0, rtol=1e-5, atol=1e-6)
    assert z.shape == (None, 3) and (x == x) is True and (x == y) is False
    clone = fkeras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(xs, verbose=0)[0], got_z, rtol=1e-6)


def _copy_data():
    rng = np.random.default_rng(4)
    return rng.normal(size=(40, 3)).astype("float32"), rng.normal(size=(40, 2)).astype("float32")


def test_deepcopy_of_a_trained_model_is_independent_and_trains_on_identically():
    import copy

    fkeras.utils.set_random_seed(11)
    inp = L.Input((3,))
    out = L.Dense(2)(L.Dropout(0.3)(L.BatchNormalization()(L.Dense(5, activation="relu")(inp))))
    model = Model(inp, out)
    model.compile("adam", "mse")
    x, y = _copy_data()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    twin = copy.deepcopy(model)
    assert twin.layers[1] is not model.layers[1] and twin.layers[1].name == model.layers[1].name
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # same optimizer state and training key: both continue alike (shuffle and dropout included)
    h1 = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]
    h2 = twin.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]
    np.testing.assert_allclose(h2, h1, rtol=1e-6)
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # and from now on they are separate
    before = model.predict(x)
    twin.set_weights([w * 0 for w in twin.get_weights()])
    twin.layers[1].kernel.assign(np.ones((3, 5), "float32"))
    np.testing.assert_array_equal(model.predict(x), before)
    assert float(np.abs(twin.layers[-1].kernel.numpy()).sum()) == 0.0


def test_deepcopy_of_layers_and_sequential_models():
    import copy

    dense = L.Dense(3)
    fresh = copy.deepcopy(dense)
    assert not fresh.built and fresh.get_config() == dense.get_config()
    model = Sequential([L.Input((3,)), dense])
    twin = copy.deepcopy(model)
    x, _ = _copy_data()
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    twin.add(L.Dense(1))  # the copy grows alone
    assert twin.output_shape == (None, 1) and model.output_shape == (None, 3)
    layer_twin = copy.deepcopy(dense)  # a built layer copies its weights
    np.testing.assert_array_equal(layer_twin.kernel.numpy(), dense.kernel.numpy())
    layer_twin.kernel.assign(np.zeros((3, 3), "float32"))
    assert float(np.abs(dense.kernel.numpy()).sum()) > 0
