"""fkeras.saving: round trips through `.keras`, `.h5`, `.weights.h5` and `.npz`; Keras 2 files
written by hand; safety (no pickle, Lambda refused, corrupt files, atomic writes).

Interop with files written by Keras 3 itself is in tests/parity/test_saving_keras_interop.py.
"""

import json
import os
import warnings
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras
from fkeras import _random, saving
from fkeras.models._training import Trainer
from fkeras.saving import _compile_state, _weights_h5

h5py = pytest.importorskip("h5py")
L = fkeras.layers

HAS_RESTORE_HOOK = hasattr(Trainer, "_restore_train_state")
needs_restore_hook = pytest.mark.xfail(
    not HAS_RESTORE_HOOK,
    reason="the facade's `_restore_train_state` hook is not wired yet: resumed fit starts fresh",
    strict=True,
)


@pytest.fixture(autouse=True)
def _quiet_restore_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The optimizer state was loaded")
        yield


# ---- the models under test: a registry, with data and compile settings per model -------------


def _mlp():
    model = fkeras.Sequential([
        L.Input(shape=(6,)),
        L.Dense(8, activation="relu"),
        L.Dropout(0.25),
        L.Reshape((2, 4)),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])  # fmt: skip
    model.compile(
        optimizer=fkeras.optimizers.Adam(0.01),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _two_io():
    a, b = L.Input(shape=(4,), name="in_a"), L.Input(shape=(3,), name="in_b")
    out_a = L.Dense(2, name="out_a")(L.Dense(5, activation="tanh")(a))
    out_b = L.Dense(1, activation="sigmoid", name="out_b")(L.Dense(4)(b))
    model = fkeras.Model([a, b], [out_a, out_b])
    model.compile(
        optimizer=fkeras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss=["mse", "binary_crossentropy"],
        loss_weights=[1.0, 0.5],
        metrics=[["mae"], ["accuracy"]],
    )
    return model


def _shared():
    a, b = L.Input(shape=(4,)), L.Input(shape=(4,))
    shared = L.Dense(4, activation="relu", name="shared")
    out = L.Dense(2, name="head")(shared(shared(a)))  # the same layer twice in a row
    model = fkeras.Model([a, b], [out, shared(b)])
    model.compile(optimizer=fkeras.optimizers.RMSprop(0.01), loss="mse")
    return model


def _nested():
    inner_seq = fkeras.Sequential(
        [L.Input(shape=(5,)), L.Dense(4, activation="relu"), L.Dropout(0.1)], name="inner_seq"
    )
    i = L.Input(shape=(4,))
    inner_fn = fkeras.Model(i, L.Dense(3)(i), name="inner_fn")
    x = L.Input(shape=(5,))
    model = fkeras.Model(x, L.Dense(2, name="top")(inner_fn(inner_seq(x))))
    model.compile(optimizer=fkeras.optimizers.Adam(0.01, amsgrad=True), loss="mse", metrics=["mse"])
    return model


def _data(model, n=24, seed=0):
    rs = np.random.RandomState(seed)
    xs = [rs.rand(n, *t.shape[1:]).astype("float32") for t in model.inputs]
    ys = []
    for t in model.outputs:
        width = t.shape[-1]
        ys.append(
            np.eye(width, dtype="float32")[rs.randint(width, size=n)]
            if width > 1
            else rs.randint(2, size=(n, 1)).astype("float32")
        )
    return (xs[0] if len(xs) == 1 else xs), (ys[0] if len(ys) == 1 else ys)


MODELS = {"mlp": _mlp, "two_io": _two_io, "shared": _shared, "nested": _nested}
MODEL_FORMATS = [".keras", ".h5"]


def _make(name, seed=7):
    _random.set_seed(seed)
    return MODELS[name]()


def _trained(name, tmp_path, epochs=1):
    model = _make(name)
    x, y = _data(model)
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    return model, x, y


def _assert_outputs_equal(a, b):
    a = a if isinstance(a, list) else [a]
    b = b if isinstance(b, list) else [b]
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


# ---- model round trips ----------------------------------------------------------------------


def test_keras2_models_module_saves_and_loads(tmp_path):
    """Keras 2 scripts call `keras.models.save_model(model, path)` / `keras.models.load_model`."""
    import fkeras

    model, x, _ = _trained(sorted(MODELS)[0], tmp_path)
    fkeras.models.save_model(model, tmp_path / "m.h5", overwrite=True, include_optimizer=True)
    loaded = fkeras.models.load_model(tmp_path / "m.h5")
    _assert_outputs_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("fmt", MODEL_FORMATS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_round_trip_restores_weights_and_compile_state(name, fmt, tmp_path):
    model, x, _ = _trained(name, tmp_path)
    path = tmp_path / f"model{fmt}"
    saving.save_model(model, path)
    loaded = saving.load_model(path)

    assert type(loaded) is type(model)
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    _assert_outputs_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for u, v in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert loaded.compiled
    assert loaded._compile_args["loss"] == model._compile_args["loss"]
    assert loaded.metrics_names == model.metrics_names
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    saved, restored = model.optimizer.get_weights(), loaded.optimizer.get_weights()
    assert len(saved) == len(restored)
    for u, v in zip(saved, restored):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("fmt", MODEL_FORMATS)
def test_uncompiled_and_compile_false(fmt, tmp_path):
    model, x, _ = _trained("mlp", tmp_path)
    saving.save_model(model, tmp_path / f"m{fmt}")
    loaded = saving.load_model(tmp_path / f"m{fmt}", compile=False)
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    fresh = fkeras.Sequential([L.Input(shape=(3,)), L.Dense(2)])
    saving.save_model(fresh, tmp_path / f"u{fmt}")
    again = saving.load_model(tmp_path / f"u{fmt}")
    assert not again.compiled
    np.testing.assert_array_equal(again.get_weights()[0], fresh.get_weights()[0])


@pytest.mark.parametrize("fmt", MODEL_FORMATS)
def test_include_optimizer_false_gives_a_fresh_optimizer(fmt, tmp_path):
    model, _, _ = _trained("mlp", tmp_path)
    saving.save_model(model, tmp_path / f"m{fmt}", include_optimizer=False)
    loaded = saving.load_model(tmp_path / f"m{fmt}")
    if fmt == ".keras":  # the compile config is still there: the model is compiled afresh
        assert loaded.compiled and type(loaded.optimizer) is fkeras.optimizers.Adam
        assert loaded.optimizer.iterations == 0
    else:  # Keras 2's layout keeps compile settings with the optimizer (training_config)
        assert not loaded.compiled


@needs_restore_hook
@pytest.mark.parametrize("fmt", MODEL_FORMATS)
@pytest.mark.parametrize("name", ["mlp", "two_io"])
def test_resumed_training_matches_uninterrupted_training(name, fmt, tmp_path):
    """2 epochs, save, load, 2 more == 4 epochs straight: bit-identical on CPU (shuffle=False),
    dropout included (the dropout key is saved beside the optimizer state)."""
    straight = _make(name)
    x, y = _data(straight)
    expected = straight.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0).history

    first = _make(name)
    history = first.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    saving.save_model(first, tmp_path / f"half{fmt}")
    resumed = saving.load_model(tmp_path / f"half{fmt}")
    more = resumed.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    for key, values in expected.items():
        assert history[key] + more[key] == values, key
    for u, v in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_keras_file_layout(tmp_path):
    model, _, _ = _trained("nested", tmp_path)
    saving.save_model(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        weights = archive.read("model.weights.h5")
    assert {"module", "class_name", "config", "registered_name", "compile_config"} <= set(config)
    assert config["class_name"] == "Functional"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["loss"] == "mse"
    assert set(metadata) >= {"keras_version", "date_saved"}
    with _weights_h5.open_h5(weights, "weights") as f:
        assert f["vars"].attrs["name"] == model.name
        kernel = f["layers/sequential/layers/dense/vars/0"]
        assert (
            kernel.shape == (5, 4)
            and f["layers/sequential/layers/dense/vars"].attrs["name"]
            == model.layers[1].layers[0].name
        )
        assert f["layers/functional/layers/dense/vars/0"].shape == (4, 3)
        assert f["layers/dense/vars"].attrs["name"] == "top"
        assert list(f["optimizer/vars"].attrs.values()) == [model.optimizer.name]
        n_opt = len(f["optimizer/vars"])
    # iterations, learning_rate, (momentum, velocity) x 6 variables, velocity_hat x 6
    assert n_opt == 2 + 2 * 6 + 6


def test_optimizer_variables_follow_keras_order(tmp_path):
    model, _, _ = _trained("two_io", tmp_path)
    names = [n for n, _ in _compile_state.optimizer_weights(model)]
    opt = model.optimizer.name
    assert names[:2] == [f"{opt}/iteration", f"{opt}/learning_rate"]
    first = model.layers[2].name  # the Dense after in_a: model.layers order, kernel before bias
    assert names[2:4] == [f"{opt}/{first}_kernel_momentum", f"{opt}/{first}_bias_momentum"]


# ---- weights files --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [".weights.h5", ".h5", ".keras"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_weights_load_into_a_fresh_model_with_other_layer_names(name, fmt, tmp_path):
    model, x, _ = _trained(name, tmp_path)
    path = tmp_path / f"w{fmt}"
    (saving.save_model if fmt == ".keras" else saving.save_weights)(model, path)
    fresh = _make(name, seed=99)  # same architecture, new auto-generated layer names
    assert fresh.get_weights()[0].tolist() != model.get_weights()[0].tolist()
    saving.load_weights(fresh, path)
    _assert_outputs_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_h5_weights_file_has_keras2_layout(tmp_path):
    model, _, _ = _trained("nested", tmp_path)
    saving.save_weights(model, tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names == [la.name for la in model.layers]
        inner = model.layers[1]
        weight_names = [n.decode() for n in f[inner.name].attrs["weight_names"]]
        assert len(weight_names) == 2 and weight_names[0].endswith("kernel:0")
        np.testing.assert_array_equal(f[inner.name][weight_names[0]][()], inner.get_weights()[0])
        assert "vars" not in f


def _by_name_models():
    source = fkeras.Sequential([L.Input(shape=(3,)), L.Dense(4, name="a"), L.Dense(2, name="b")])
    target = fkeras.Sequential(
        [L.Input(shape=(3,)), L.Dense(4, name="a"), L.Dense(5, name="b"), L.Dense(2, name="c")]
    )
    return source, target


@pytest.mark.parametrize("fmt", [".h5", ".weights.h5"])
def test_load_weights_by_name_with_skip_mismatch(fmt, tmp_path):
    source, target = _by_name_models()
    saving.save_weights(source, tmp_path / f"w{fmt}")
    before = target.get_weights()
    with pytest.raises(ValueError, match="b"):
        saving.load_weights(target, tmp_path / f"w{fmt}", by_name=True)
    for u, v in zip(target.get_weights(), before):  # nothing was loaded
        np.testing.assert_array_equal(u, v)
    with pytest.warns(UserWarning, match="b"):
        saving.load_weights(target, tmp_path / f"w{fmt}", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(
        target.get_layer("a").get_weights()[0], source.get_layer("a").get_weights()[0]
    )
    np.testing.assert_array_equal(target.get_layer("b").get_weights()[0], before[2])
    np.testing.assert_array_equal(target.get_layer("c").get_weights()[0], before[4])


def test_topological_load_rejects_other_architectures(tmp_path):
    source, target = _by_name_models()
    saving.save_weights(source, tmp_path / "w.h5")
    with pytest.raises(ValueError, match="Layer count mismatch"):
        saving.load_weights(target, tmp_path / "w.h5")
    saving.save_weights(source, tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="shape"):
        saving.load_weights(target, tmp_path / "w.weights.h5")


def test_load_weights_into_unbuilt_model_raises(tmp_path):
    source, _ = _by_name_models()
    saving.save_weights(source, tmp_path / "w.weights.h5")
    unbuilt = fkeras.Sequential([L.Dense(4), L.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        saving.load_weights(unbuilt, tmp_path / "w.weights.h5")


# ---- Keras 2 files written by hand ------------------------------------------------------------

_KERAS2_DENSE = {
    "trainable": True, "dtype": "float32", "use_bias": True,
    "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
    "kernel_constraint": None, "bias_constraint": None,
}  # fmt: skip


def _keras2_config(kind: str) -> dict:
    d1 = {"name": "dense_1", "units": 5, "activation": "relu", **_KERAS2_DENSE}
    d2 = {"name": "dense_2", "units": 3, "activation": "softmax", **_KERAS2_DENSE}
    if kind == "Sequential":
        return {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
            {"class_name": "Dense", "config": {**d1, "batch_input_shape": [None, 4]}},
            {"class_name": "Dense", "config": d2},
        ]}, "keras_version": "2.2.4", "backend": "tensorflow"}  # fmt: skip
    return {"class_name": "Model", "config": {"name": "model_1", "layers": [
        {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "name": "input_1"}},
        {"name": "dense_1", "class_name": "Dense", "config": d1, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"name": "dense_2", "class_name": "Dense", "config": d2, "inbound_nodes": [[["dense_1", 0, 0, {}]]]},
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]},
        "keras_version": "2.2.4", "backend": "tensorflow"}  # fmt: skip


def _write_keras2_h5(path, kind: str, weights: list, with_optimizer_weights: bool = True) -> None:
    training = {
        "optimizer_config": {"class_name": "SGD", "config": {"lr": 0.01, "decay": 1e-6, "momentum": 0.9, "nesterov": True}},
        "loss": "categorical_crossentropy", "metrics": ["accuracy"], "sample_weight_mode": None, "loss_weights": None,
    }  # fmt: skip
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(_keras2_config(kind)).encode("utf8")
        f.attrs["training_config"] = json.dumps(training).encode("utf8")
        group = f.create_group("model_weights")
        names = (["input_1"] if kind == "Model" else []) + ["dense_1", "dense_2"]
        group.attrs["layer_names"] = [n.encode() for n in names]
        group.attrs["keras_version"] = b"2.2.4"
        group.attrs["backend"] = b"tensorflow"
        if kind == "Model":
            group.create_group("input_1").attrs["weight_names"] = np.zeros((0,), "S1")
        for layer, (kernel, bias) in zip(["dense_1", "dense_2"], [weights[:2], weights[2:]]):
            sub = group.create_group(layer)
            sub.attrs["weight_names"] = [f"{layer}/kernel:0".encode(), f"{layer}/bias:0".encode()]
            sub.create_dataset(f"{layer}/kernel:0", data=kernel)
            sub.create_dataset(f"{layer}/bias:0", data=bias)
        if with_optimizer_weights:
            opt = f.create_group("optimizer_weights")
            opt.attrs["weight_names"] = [b"training/SGD/Variable:0"]
            opt.create_dataset("training/SGD/Variable:0", data=np.zeros((4, 5), "float32"))


@pytest.mark.parametrize("kind", ["Sequential", "Model"])
def test_keras2_h5_with_lr_and_decay_loads_and_predicts(kind, tmp_path):
    rs = np.random.RandomState(3)
    weights = [rs.randn(4, 5).astype("float32"), rs.randn(5).astype("float32"),
               rs.randn(5, 3).astype("float32"), rs.randn(3).astype("float32")]  # fmt: skip
    _write_keras2_h5(tmp_path / "old.h5", kind, weights)
    with pytest.warns(UserWarning, match="Keras 2.2.4"):
        model = saving.load_model(tmp_path / "old.h5")

    x = rs.rand(6, 4).astype("float32")
    hidden = np.maximum(x @ weights[0] + weights[1], 0.0)
    logits = hidden @ weights[2] + weights[3]
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)

    config = model.optimizer.get_config()
    assert type(model.optimizer) is fkeras.optimizers.SGD
    assert config["learning_rate"] == pytest.approx(0.01) and config["decay"] == pytest.approx(1e-6)
    assert config["momentum"] == pytest.approx(0.9) and config["nesterov"] is True
    assert model.metrics_names == ["loss", "accuracy"]
    history = model.fit(x, np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2]], verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_keras2_h5_weights_load_into_a_model(tmp_path):
    rs = np.random.RandomState(4)
    weights = [rs.randn(4, 5).astype("float32"), rs.randn(5).astype("float32"),
               rs.randn(5, 3).astype("float32"), rs.randn(3).astype("float32")]  # fmt: skip
    _write_keras2_h5(tmp_path / "old.h5", "Model", weights, with_optimizer_weights=False)
    model = fkeras.Sequential(
        [L.Input(shape=(4,)), L.Dense(5, activation="relu"), L.Dense(3, activation="softmax")]
    )
    saving.load_weights(model, tmp_path / "old.h5")  # a whole-model file's model_weights
    for u, v in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(u, v)


# ---- safety: no code, no pickle, clear errors ------------------------------------------------


def _lambda_model():
    return fkeras.Sequential([L.Input(shape=(3,)), L.Dense(2), L.Lambda(lambda t: t * 2.0 + 1.0)])


@pytest.mark.parametrize("fmt", MODEL_FORMATS)
def test_lambda_is_refused_in_safe_mode(fmt, tmp_path):
    model = _lambda_model()
    saving.save_model(model, tmp_path / f"l{fmt}")
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.load_model(tmp_path / f"l{fmt}")
    loaded = saving.load_model(tmp_path / f"l{fmt}", safe_mode=False)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


class MyDense(L.Dense):
    """A user layer: its class name is unknown to fkeras."""


def my_loss(y_true, y_pred):
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


@pytest.mark.parametrize("fmt", MODEL_FORMATS)
def test_unknown_classes_need_custom_objects(fmt, tmp_path):
    model = fkeras.Sequential([L.Input(shape=(3,)), MyDense(2)])
    model.compile(optimizer="sgd", loss=my_loss)
    saving.save_model(model, tmp_path / f"c{fmt}")
    with pytest.raises(ValueError, match="custom_objects"):
        saving.load_model(tmp_path / f"c{fmt}")
    with pytest.raises(ValueError, match="custom_objects"):
        saving.load_model(tmp_path / f"c{fmt}", custom_objects={"MyDense": MyDense})
    loaded = saving.load_model(
        tmp_path / f"c{fmt}", custom_objects={"MyDense": MyDense, "my_loss": my_loss}
    )
    assert isinstance(loaded.layers[0], MyDense) and loaded._compile_args["loss"] is my_loss


@pytest.mark.parametrize("fmt", [".keras", ".h5", ".weights.h5"])
@pytest.mark.parametrize("damage", ["random", "truncated"])
def test_corrupt_files_raise_value_error(fmt, damage, tmp_path):
    path = tmp_path / f"bad{fmt}"
    if damage == "random":
        path.write_bytes(np.random.RandomState(0).bytes(4096))
    else:
        model, _, _ = _trained("mlp", tmp_path)
        (saving.save_weights if fmt == ".weights.h5" else saving.save_model)(model, path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    target = _make("mlp")
    with pytest.raises(ValueError):
        if fmt == ".weights.h5":
            saving.load_weights(target, path)
        else:
            saving.load_model(path)


def test_keras_archive_without_config_or_with_pickled_weights(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match="config.json"):
        saving.load_model(tmp_path / "a.keras")
    model = _make("mlp")
    config = json.dumps(
        {"module": "keras", "class_name": "Sequential", "config": model.get_config()}, default=str
    )
    with zipfile.ZipFile(tmp_path / "b.keras", "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("model.weights.npz", b"\x93NUMPY")
    with pytest.raises(ValueError, match="never unpickles"):
        saving.load_model(tmp_path / "b.keras")


@pytest.mark.parametrize("call", ["save_model", "load_model", "save_weights", "load_weights"])
@pytest.mark.parametrize("filename", ["model", "model.txt", "model.pkl"])
def test_unknown_extensions_raise(call, filename, tmp_path):
    model = _make("mlp")
    fn = getattr(saving, call)
    args = (tmp_path / filename,) if call == "load_model" else (model, tmp_path / filename)
    with pytest.raises(ValueError, match=r"\.keras|\.weights\.h5"):
        fn(*args)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        saving.load_model(tmp_path / "nothing.keras")
    with pytest.raises(FileNotFoundError):
        saving.load_weights(_make("mlp"), tmp_path / "nothing.weights.h5")


# ---- atomic writes --------------------------------------------------------------------------


def _fail_midway(monkeypatch, after: int):
    calls = {"n": 0}
    real = _weights_h5.write_array

    def flaky(group, key, value):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError("disk full (simulated)")
        real(group, key, value)

    monkeypatch.setattr(_weights_h5, "write_array", flaky)


@pytest.mark.parametrize("fmt", [".keras", ".h5", ".weights.h5", "weights-only.h5"])
def test_failed_save_leaves_previous_file_intact(fmt, tmp_path, monkeypatch):
    model, _, _ = _trained("mlp", tmp_path)
    weights_only = fmt in (".weights.h5", "weights-only.h5")
    save = saving.save_weights if weights_only else saving.save_model
    path = tmp_path / (fmt if fmt.startswith("w") else f"m{fmt}")
    save(model, path)
    before = path.read_bytes()
    _fail_midway(monkeypatch, after=2)
    with pytest.raises(OSError, match="simulated"):
        save(model, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left behind


@pytest.mark.parametrize("what", ["model.keras", "variables.npz"])
def test_failure_while_writing_the_archive_leaves_previous_file_intact(what, tmp_path, monkeypatch):
    model, _, _ = _trained("mlp", tmp_path)
    path = tmp_path / what
    if what.endswith(".keras"):
        save = lambda: saving.save_model(model, path)
    else:
        save = lambda: saving.save_variables(model.get_variables(), path)
    save()
    before = path.read_bytes()
    real, calls = zipfile.ZipFile.writestr, {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError("disk full (simulated)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", flaky)
    with pytest.raises(OSError, match="simulated"):
        save()
    assert calls["n"] == 3
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_raw_optax_optimizer_saves_without_compile_state(tmp_path):
    import optax

    model = fkeras.Sequential([L.Input(shape=(3,)), L.Dense(2)])
    model.compile(optimizer=optax.sgd(0.1), loss="mse")
    x = np.ones((4, 3), "float32")
    model.fit(x, np.zeros((4, 2), "float32"), verbose=0)
    for fmt in MODEL_FORMATS:
        with pytest.warns(UserWarning, match="raw optax"):
            saving.save_model(model, tmp_path / f"o{fmt}")
        loaded = saving.load_model(tmp_path / f"o{fmt}")
        assert not loaded.compiled
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_overwrite_false_asks_before_replacing(tmp_path, monkeypatch):
    model = _make("mlp")
    path = tmp_path / "m.keras"
    saving.save_model(model, path)
    before = path.read_bytes()
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    saving.save_model(model, path, overwrite=False)
    assert path.read_bytes() == before
    model.fit(*_data(model), verbose=0)
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    saving.save_model(model, path, overwrite=False)
    assert path.read_bytes() != before


# ---- variables pytrees ----------------------------------------------------------------------


def test_variables_pytree_round_trip(tmp_path):
    import ml_dtypes

    model = _make("nested")
    State = __import__("collections").namedtuple("State", ["params", "step", "rng", "extra"])
    tree = State(
        params=model.get_variables(),
        step=jnp.asarray(7, jnp.int32),
        rng=jax.random.key(3),
        extra={
            "half": np.arange(4, dtype=ml_dtypes.bfloat16),
            "lr": 0.5,
            "note": "x",
            "none": None,
            "ints": {1: [1, 2]},
        },
    )
    saving.save_variables(tree, tmp_path / "v.npz")
    loaded = saving.load_variables(tmp_path / "v.npz")
    assert type(loaded).__name__ == "State" and loaded._fields == State._fields
    assert (
        loaded.extra["lr"] == 0.5 and loaded.extra["note"] == "x" and loaded.extra["none"] is None
    )
    assert loaded.extra["ints"] == {1: [1, 2]}
    assert loaded.extra["half"].dtype == jnp.bfloat16
    assert jnp.issubdtype(loaded.rng.dtype, jax.dtypes.prng_key)
    np.testing.assert_array_equal(jax.random.key_data(loaded.rng), jax.random.key_data(tree.rng))
    for u, v in zip(jax.tree.leaves(loaded.params), jax.tree.leaves(tree.params)):
        np.testing.assert_array_equal(u, v)

    exact = saving.load_variables(tmp_path / "v.npz", like=tree)
    assert type(exact) is State
    assert jax.tree.structure(exact) == jax.tree.structure(tree)
    model.set_variables(exact.params)

    with np.load(tmp_path / "v.npz", allow_pickle=False) as npz:  # plain arrays, no pickles
        assert all(npz[k].dtype != object for k in npz.files if k.startswith("leaf_"))


def test_variables_refuse_objects_and_foreign_files(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        saving.save_variables({"a": np.array([object()])}, tmp_path / "v.npz")
    assert not (tmp_path / "v.npz").exists()
    np.savez(tmp_path / "plain.npz", a=np.ones(3))
    with pytest.raises(ValueError, match="save_variables"):
        saving.load_variables(tmp_path / "plain.npz")
    saving.save_variables({"a": np.ones(3)}, tmp_path / "ok.npz")
    with pytest.raises(ValueError, match="shape"):
        saving.load_variables(tmp_path / "ok.npz", like={"a": np.ones(4)})
