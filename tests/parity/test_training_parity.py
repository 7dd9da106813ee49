"""Training parity with Keras 3 (JAX backend): same weights, same data, shuffle=False ->
the same per-epoch losses and metrics (1e-4 relative) and the same final weights."""

import numpy as np
import pytest

import fkeras

keras = pytest.importorskip("keras")

N, D = 100, 12  # 100 samples with batch 32: three full batches and a partial one of 4


def _data(seed=0, classes=3):
    rng = np.random.RandomState(seed)
    x = rng.rand(N, D).astype("float32")
    y = np.eye(classes, dtype="float32")[rng.randint(classes, size=N)]
    return x, y


def _mlp(lib):
    L = lib.layers
    return lib.Sequential([
        L.Input(shape=(D,)),
        L.Dense(16, activation="relu"),
        L.Dropout(0.0),
        L.Dense(8, activation="tanh"),
        L.Dense(3, activation="softmax"),
    ])


OPTIMIZERS = {
    "sgd_nesterov": lambda lib: lib.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "sgd_momentum": lambda lib: lib.optimizers.SGD(learning_rate=0.05, momentum=0.5),
    "rmsprop": lambda lib: lib.optimizers.RMSprop(learning_rate=0.01),
    "adam": lambda lib: lib.optimizers.Adam(learning_rate=0.01),
    "adam_by_name": lambda lib: "adam",
    "rmsprop_by_name": lambda lib: "rmsprop",
}


def _assert_history_close(ours, theirs, keys):
    for key in keys:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_sequential_mlp_training_matches_keras(opt):
    x, y = _data()
    km = _mlp(keras)
    fm = _mlp(fkeras)
    fm.set_weights(km.get_weights())
    for model, lib in ((km, keras), (fm, fkeras)):
        model.compile(optimizer=OPTIMIZERS[opt](lib), loss="categorical_crossentropy", metrics=["accuracy"])
    kh = km.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, validation_data=(x[:20], y[:20]))
    fh = fm.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, validation_data=(x[:20], y[:20]))
    _assert_history_close(fh.history, kh.history, ["loss", "accuracy", "val_loss", "val_accuracy"])
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    ke = km.evaluate(x, y, verbose=0, batch_size=16)
    fe = fm.evaluate(x, y, verbose=0, batch_size=16)
    np.testing.assert_allclose(fe, ke, rtol=1e-4)


def _two_io(lib):
    L = lib.layers
    a = L.Input(shape=(5,), name="main_input")
    b = L.Input(shape=(3,), name="aux_input")
    ha = L.Dense(8, activation="relu")(a)
    hb = L.Dense(8, activation="relu")(b)
    main = L.Dense(1, activation="sigmoid", name="main_output")(ha)
    aux = L.Dense(1, activation="sigmoid", name="aux_output")(hb)
    return lib.Model(inputs=[a, b], outputs=[main, aux])


@pytest.mark.parametrize("weights_as", ["list", "dict"])
def test_two_input_two_output_loss_weights_match_keras(weights_as):
    rng = np.random.RandomState(1)
    xa, xb = rng.rand(N, 5).astype("float32"), rng.rand(N, 3).astype("float32")
    ya, yb = rng.randint(2, size=(N, 1)).astype("float32"), rng.randint(2, size=(N, 1)).astype("float32")
    km, fm = _two_io(keras), _two_io(fkeras)
    fm.set_weights(km.get_weights())
    loss_weights = [1.0, 0.2] if weights_as == "list" else {"main_output": 1.0, "aux_output": 0.2}
    # Keras 3 needs one loss per output; fkeras also takes the seed's single shared loss. Keras 3.15
    # pairs a dict of loss_weights with the outputs in sorted-key order (aux before main), so it
    # gets the equivalent list: fkeras maps dict keys to output names, as Keras 2 did.
    km.compile(optimizer="rmsprop", loss=["binary_crossentropy"] * 2, loss_weights=[1.0, 0.2])
    fm.compile(optimizer="rmsprop", loss="binary_crossentropy", loss_weights=loss_weights)
    kh = km.fit([xa, xb], [ya, yb], batch_size=32, epochs=3, shuffle=False, verbose=0)
    fh = fm.fit({"main_input": xa, "aux_input": xb}, {"main_output": ya, "aux_output": yb},
                batch_size=32, epochs=3, shuffle=False, verbose=0)
    _assert_history_close(fh.history, kh.history, ["loss", "main_output_loss", "aux_output_loss"])
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_predictions_equal_after_set_weights():
    km, fm = _two_io(keras), _two_io(fkeras)
    fm.set_weights(km.get_weights())
    rng = np.random.RandomState(2)
    xs = [rng.rand(7, 5).astype("float32"), rng.rand(7, 3).astype("float32")]
    for ours, theirs in zip(fm.predict(xs, verbose=0), km.predict(xs, verbose=0)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def _weighted_mlp(lib, activity=False):
    L = lib.layers
    return lib.Sequential([
        L.Input(shape=(D,)),
        L.Dense(16, activation="relu", activity_regularizer="l2" if activity else None,
                kernel_regularizer="l2" if activity else None),
        L.Dense(3, activation="softmax"),
    ])


@pytest.mark.parametrize("case", ["sample_weight", "class_weight", "regularizers"])
def test_weights_and_regularizers_match_keras(case):
    x, y = _data(3)
    km, fm = _weighted_mlp(keras, case == "regularizers"), _weighted_mlp(fkeras, case == "regularizers")
    fm.set_weights(km.get_weights())
    for model, lib in ((km, keras), (fm, fkeras)):
        model.compile(optimizer=lib.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"], weighted_metrics=["accuracy"] if case != "regularizers" else None)
    kwargs = {}
    if case == "sample_weight":
        kwargs["sample_weight"] = np.random.RandomState(4).rand(N).astype("float32")
    if case == "class_weight":
        kwargs["class_weight"] = {0: 0.5, 1: 2.0, 2: 1.0}
    kh = km.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, **kwargs)
    fh = fm.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, **kwargs)
    keys = ["loss", "accuracy"] + (["weighted_accuracy"] if case != "regularizers" else [])
    _assert_history_close(fh.history, kh.history, [k for k in keys if k in kh.history])
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if case == "regularizers":
        np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0), rtol=1e-4)


def test_temporal_sample_weights_match_keras():
    rng = np.random.RandomState(5)
    x = rng.rand(40, 6, 4).astype("float32")
    y = rng.rand(40, 6, 2).astype("float32")
    sw = rng.rand(40, 6).astype("float32")

    def build(lib):
        return lib.Sequential([lib.layers.Input(shape=(6, 4)), lib.layers.Dense(5, activation="tanh"), lib.layers.Dense(2)])

    km, fm = build(keras), build(fkeras)
    fm.set_weights(km.get_weights())
    km.compile(optimizer="rmsprop", loss="mse")
    fm.compile(optimizer="rmsprop", loss="mse", sample_weight_mode="temporal")
    kh = km.fit(x, y, sample_weight=sw, batch_size=16, epochs=3, shuffle=False, verbose=0)
    fh = fm.fit(x, y, sample_weight=sw, batch_size=16, epochs=3, shuffle=False, verbose=0)
    _assert_history_close(fh.history, kh.history, ["loss"])
