"""Files cross between Keras 3 (JAX backend) and fkeras: `.keras`, `.weights.h5` and legacy `.h5`
written by one load in the other with identical predictions, compile settings and optimizer
state (the optimizer variables match one for one, and training continues the same way).

Layer families written by other modules (Conv2D, LSTM, BatchNormalization, ...) are covered by
the guarded table at the end; their rows run once `fkeras.layers` exports the layer.
"""

import warnings

import numpy as np
import pytest

import fkeras
from fkeras import saving
from fkeras.models._json import model_from_json
from fkeras.models._training import Trainer
from fkeras.saving import _compile_state

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The optimizer state was loaded")
        warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy")
        yield


def _mlp(lib):
    L = lib.layers
    return lib.Sequential([
        L.Input(shape=(6,)),
        L.Dense(8, activation="relu"),
        L.Dropout(0.0),
        L.Reshape((2, 4)),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])  # fmt: skip


def _graph(lib):
    """Two inputs, two outputs, a shared layer, a nested Sequential and a nested functional."""
    L = lib.layers
    a, b = L.Input(shape=(4,), name="in_a"), L.Input(shape=(4,), name="in_b")
    shared = L.Dense(5, activation="tanh", name="shared")
    sub = lib.Sequential(
        [L.Input(shape=(5,)), L.Dense(3, activation="relu"), L.Dropout(0.0)], name="sub"
    )
    i = L.Input(shape=(5,))
    inner = lib.Model(i, L.Dense(2)(i), name="inner")
    return lib.Model(
        [a, b], [L.Dense(2, name="o1")(sub(shared(a))), inner(shared(b))], name="graph"
    )


def _compile(model, lib, name):
    if name == "mlp":
        model.compile(
            optimizer=lib.optimizers.Adam(0.01),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
    else:
        model.compile(optimizer=lib.optimizers.SGD(0.05, momentum=0.9), loss=["mse", "mae"])
    return model


BUILDERS = {"mlp": _mlp, "graph": _graph}


def _data(name, n=24):
    rs = np.random.RandomState(0)
    if name == "mlp":
        return rs.rand(n, 6).astype("float32"), np.eye(3, dtype="float32")[rs.randint(3, size=n)]
    x = [rs.rand(n, 4).astype("float32"), rs.rand(n, 4).astype("float32")]
    return x, [rs.rand(n, 2).astype("float32"), rs.rand(n, 2).astype("float32")]


def _outputs(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _assert_same_outputs(a, b, x, rtol=1e-6, atol=1e-6):
    for u, v in zip(_outputs(a, x), _outputs(b, x)):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def _assert_same_optimizer_state(fkeras_model, keras_model):
    ours = [v for _, v in _compile_state.optimizer_weights(fkeras_model)]
    theirs = [np.asarray(v) for v in keras_model.optimizer.variables]
    assert len(ours) == len(theirs)
    for u, v in zip(ours, theirs):
        np.testing.assert_array_equal(u, v)


def _trained(lib, name):
    model = _compile(BUILDERS[name](lib), lib, name)
    x, y = _data(name)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras3_keras_file_loads_into_fkeras(name, tmp_path):
    km = _trained(keras, name)
    km.save(tmp_path / "k.keras")
    fm = saving.load_model(tmp_path / "k.keras")
    x, _ = _data(name)
    _assert_same_outputs(fm, km, x)
    assert [la.name for la in fm.layers] == [la.name for la in km.layers]
    assert fm.compiled and type(fm.optimizer).__name__ == type(km.optimizer).__name__
    assert fm.optimizer.iterations == int(km.optimizer.iterations) == 3
    _assert_same_optimizer_state(fm, km)


@pytest.mark.xfail(
    not hasattr(Trainer, "_restore_train_state"),
    reason="the facade's `_restore_train_state` hook is not wired yet: resumed fit starts fresh",
    strict=True,
)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_training_continues_from_a_keras3_optimizer_state(name, tmp_path):
    km = _trained(keras, name)
    km.save(tmp_path / "k.keras")
    fm = saving.load_model(tmp_path / "k.keras")
    x, y = _data(name)
    fh = fm.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    kh = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-5)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_fkeras_keras_file_loads_into_keras3(name, tmp_path):
    fm = _trained(fkeras, name)
    saving.save_model(fm, tmp_path / "f.keras")
    km = keras.saving.load_model(tmp_path / "f.keras")
    x, y = _data(name)
    _assert_same_outputs(fm, km, x)
    assert type(km.optimizer).__name__ == type(fm.optimizer).__name__
    _assert_same_optimizer_state(fm, km)
    # Keras continues from the saved optimizer state: one more epoch in each library agrees.
    kh = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    fh = fm.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-5)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_weights_files_cross_both_ways(name, tmp_path):
    x, _ = _data(name)
    km = _trained(keras, name)
    km.save_weights(tmp_path / "k.weights.h5")
    fm = model_from_json(km.to_json())
    saving.load_weights(fm, tmp_path / "k.weights.h5")
    _assert_same_outputs(fm, km, x)

    fm2 = _trained(fkeras, name)
    saving.save_weights(fm2, tmp_path / "f.weights.h5")
    km2 = keras.models.model_from_json(fm2.to_json())
    km2.load_weights(tmp_path / "f.weights.h5")
    _assert_same_outputs(fm2, km2, x)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_legacy_h5_crosses_both_ways(name, tmp_path):
    x, _ = _data(name)
    km = _trained(keras, name)
    km.save(tmp_path / "k.h5")
    fm = saving.load_model(tmp_path / "k.h5")
    _assert_same_outputs(fm, km, x)
    assert fm.compiled
    _assert_same_optimizer_state(fm, km)

    fm2 = _trained(fkeras, name)
    saving.save_model(fm2, tmp_path / "f.h5")
    # Keras 3 cannot rebuild a list of per-output loss names from its own legacy files
    # ("Could not deserialize 'keras.metrics.mse'"), so the multi-output model loads uncompiled.
    # (Keras 3 also builds the optimizer of a legacy `.h5` model over no variables, so it
    # never restores the optimizer state of such files, its own included.)
    km2 = keras.saving.load_model(tmp_path / "f.h5", compile=name == "mlp")
    _assert_same_outputs(fm2, km2, x)


def test_keras3_h5_weights_file_loads_into_fkeras(tmp_path):
    km = _trained(keras, "mlp")
    km.save(tmp_path / "k.h5")
    fm = _mlp(fkeras)
    saving.load_weights(fm, tmp_path / "k.h5")
    x, _ = _data("mlp")
    _assert_same_outputs(fm, km, x)


# ---- layer families from other modules: rows run once fkeras.layers has the layer ------------


def _seq(lib, shape, *layers):
    return lib.Sequential([lib.layers.Input(shape=shape), *layers])


LAYER_ROWS = {
    "Conv2D": (
        ("Conv2D",),
        (6, 6, 2),
        lambda L: [L.Conv2D(3, 3, activation="relu"), L.Flatten(), L.Dense(2)],
    ),
    "Conv1D": (("Conv1D",), (8, 3), lambda L: [L.Conv1D(4, 3), L.Flatten(), L.Dense(2)]),
    "BatchNormalization": (
        ("BatchNormalization",),
        (5,),
        lambda L: [L.Dense(4), L.BatchNormalization(), L.Dense(2)],
    ),
    "LSTM": (("LSTM",), (5, 3), lambda L: [L.LSTM(4), L.Dense(2)]),
    "GRU": (("GRU",), (5, 3), lambda L: [L.GRU(4), L.Dense(2)]),
    "SimpleRNN": (
        ("SimpleRNN",),
        (5, 3),
        lambda L: [L.SimpleRNN(4, return_sequences=True), L.Flatten()],
    ),
    "StackedRNN": (
        ("RNN", "LSTMCell", "GRUCell"),
        (5, 3),
        lambda L: [L.RNN([L.LSTMCell(3), L.GRUCell(2)])],
    ),
    "Bidirectional": (
        ("Bidirectional", "LSTM"),
        (5, 3),
        lambda L: [L.Bidirectional(L.LSTM(3)), L.Dense(2)],
    ),
    "TimeDistributed": (
        ("TimeDistributed",),
        (5, 3),
        lambda L: [L.TimeDistributed(L.Dense(2)), L.Flatten()],
    ),
    "Embedding": (("Embedding",), (4,), lambda L: [L.Embedding(10, 3), L.Flatten(), L.Dense(2)]),
    "LayerNormalization": (
        ("LayerNormalization",),
        (5,),
        lambda L: [L.LayerNormalization(), L.Dense(2)],
    ),
    "ConvLSTM2D": (("ConvLSTM2D",), (3, 5, 5, 2), lambda L: [L.ConvLSTM2D(2, 3), L.Flatten()]),
}


def _input_for(row: str, shape):
    rs = np.random.RandomState(1)
    if row == "Embedding":
        return rs.randint(10, size=(4,) + shape).astype("int32")
    return rs.rand(4, *shape).astype("float32")


@pytest.mark.parametrize("row", sorted(LAYER_ROWS))
def test_layer_families_cross_both_ways(row, tmp_path):
    needed, shape, make = LAYER_ROWS[row]
    missing = [n for n in needed if not hasattr(fkeras.layers, n)]
    if missing:
        pytest.skip(f"fkeras.layers has no {missing} yet")
    x = _input_for(row, shape)
    dtype = "int32" if row == "Embedding" else "float32"
    km = keras.Sequential([keras.layers.Input(shape=shape, dtype=dtype), *make(keras.layers)])
    km.compile(optimizer="adam", loss="mse")
    km.fit(x, np.zeros((4,) + km.output_shape[1:], "float32"), verbose=0)
    km.save(tmp_path / "k.keras")
    fm = saving.load_model(tmp_path / "k.keras")
    _assert_same_outputs(fm, km, x, rtol=1e-5, atol=1e-6)
    _assert_same_optimizer_state(fm, km)

    saving.save_model(fm, tmp_path / "f.keras")
    back = keras.saving.load_model(tmp_path / "f.keras")
    _assert_same_outputs(back, km, x, rtol=1e-5, atol=1e-6)
    saving.save_weights(fm, tmp_path / "f.weights.h5")
    km.load_weights(tmp_path / "f.weights.h5")
    _assert_same_outputs(fm, km, x, rtol=1e-5, atol=1e-6)


def test_multi_head_attention_weights_cross_both_ways(tmp_path):
    if not hasattr(fkeras.layers, "MultiHeadAttention"):
        pytest.skip("fkeras.layers has no MultiHeadAttention yet")
    ki = keras.layers.Input(shape=(5, 4))
    km = keras.Model(ki, keras.layers.MultiHeadAttention(2, 3)(ki, ki))
    fi = fkeras.layers.Input(shape=(5, 4))
    fm = fkeras.Model(fi, fkeras.layers.MultiHeadAttention(2, 3)([fi, fi]))
    x = np.random.RandomState(2).rand(3, 5, 4).astype("float32")
    km.save_weights(tmp_path / "k.weights.h5")
    saving.load_weights(fm, tmp_path / "k.weights.h5")
    _assert_same_outputs(fm, km, x, rtol=1e-5)
    fm.set_weights([w * 0.5 for w in fm.get_weights()])
    saving.save_weights(fm, tmp_path / "f.weights.h5")
    km.load_weights(tmp_path / "f.weights.h5")
    _assert_same_outputs(fm, km, x, rtol=1e-5)
