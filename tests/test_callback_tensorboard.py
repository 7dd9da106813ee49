"""fkeras.callbacks.TensorBoard: event files read back with TensorBoard's own reader."""

import io
import json
import os
import sys
import warnings

import numpy as np
import pytest

from fkeras import layers as L
from fkeras import optimizers
from fkeras.callbacks import CallbackList, LambdaCallback, LearningRateScheduler
from fkeras.callbacks._tensorboard import TensorBoard, weight_image
from fkeras.models import Sequential

# The writer (an optional extra of fkeras) and TensorBoard's own reader, for checking the files.
pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

N, BATCH, EPOCHS = 32, 8, 3
STEPS = N // BATCH  # 4 steps per epoch, 12 in all


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    return x, y, x[:16] + 0.1, y[:16]


def _model(lr=0.05):
    model = Sequential([L.Input((3,)), L.Dense(4, activation="relu"), L.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


def _fit(model, callbacks, epochs=EPOCHS, validation=True):
    x, y, vx, vy = _data()
    return model.fit(
        x, y, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=False, callbacks=callbacks,
        validation_data=(vx, vy) if validation else None,
    )


def _read(path):
    accumulator = event_accumulator.EventAccumulator(
        str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}
    )
    accumulator.Reload()
    return accumulator


def _scalars(accumulator, tag):
    events = accumulator.Scalars(tag)
    return [e.step for e in events], np.array([e.value for e in events])


def test_epoch_scalars_match_history(tmp_path):
    model = _model()
    history = _fit(model, [TensorBoard(tmp_path)]).history
    train, val = _read(tmp_path / "train"), _read(tmp_path / "validation")

    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"}
    assert set(val.Tags()["scalars"]) == {
        "epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations", "evaluation_mae_vs_iterations",
    }  # fmt: skip
    for name in ("loss", "mae"):
        steps, values = _scalars(train, f"epoch_{name}")
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, np.float32(history[name]), rtol=1e-6)
        steps, values = _scalars(val, f"epoch_{name}")
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, np.float32(history[f"val_{name}"]), rtol=1e-6)
        # Keras 3: validation results again, at the optimizer's update count.
        steps, values = _scalars(val, f"evaluation_{name}_vs_iterations")
        assert steps == [STEPS, 2 * STEPS, 3 * STEPS]
        np.testing.assert_allclose(values, np.float32(history[f"val_{name}"]), rtol=1e-6)
    steps, values = _scalars(train, "epoch_learning_rate")
    assert steps == [0, 1, 2]
    np.testing.assert_allclose(values, 0.05, rtol=1e-6)
    assert not train.Tags()["histograms"] and not train.Tags()["images"]


def test_writers_closed_and_reopened_per_fit(tmp_path):
    model, tensorboard = _model(), TensorBoard(tmp_path, write_graph=False)
    _fit(model, [tensorboard], epochs=1, validation=False)
    assert tensorboard._writers == {}
    assert not (tmp_path / "validation").exists()  # no empty event files
    _fit(model, [tensorboard], epochs=1, validation=False)
    assert len(os.listdir(tmp_path / "train")) == 2  # a new event file for the second fit
    steps, _ = _scalars(_read(tmp_path / "train"), "epoch_loss")
    assert steps == [0, 0]  # steps restart with the epochs of each fit, as in Keras


@pytest.mark.parametrize(
    "update_freq, expected_steps",
    [("batch", list(range(1, EPOCHS * STEPS + 1))), (3, [3, 6, 9, 12]), (5, [5, 10])],
)
def test_batch_scalars_at_global_steps(tmp_path, update_freq, expected_steps):
    per_step = {}

    def record(batch, logs):
        per_step[len(per_step) + 1] = (logs["loss"], logs["mae"])

    tensorboard = TensorBoard(tmp_path, update_freq=update_freq, write_steps_per_second=True)
    history = _fit(_model(), [tensorboard, LambdaCallback(on_train_batch_end=record)]).history
    train = _read(tmp_path / "train")

    for i, name in enumerate(("loss", "mae")):
        steps, values = _scalars(train, f"batch_{name}")
        assert steps == expected_steps
        np.testing.assert_allclose(values, [np.float32(per_step[s][i]) for s in steps], rtol=1e-6)
    steps, rates = _scalars(train, "batch_steps_per_second")
    assert steps == expected_steps and np.all(np.isfinite(rates)) and np.all(rates > 0)
    steps, rates = _scalars(train, "epoch_steps_per_second")
    assert steps == [0, 1, 2] and np.all(np.isfinite(rates)) and np.all(rates > 0)
    _, values = _scalars(train, "epoch_loss")
    np.testing.assert_allclose(values, np.float32(history["loss"]), rtol=1e-6)


def test_epoch_update_freq_keeps_batch_hooks_off(tmp_path):
    """With update_freq='epoch', fit must not replay per-step logs for TensorBoard."""
    calls = []
    tensorboard = TensorBoard(tmp_path)
    tensorboard.on_train_batch_end = lambda batch, logs=None: calls.append(batch)
    assert not CallbackList([tensorboard]).needs_batch_hooks("train")
    assert not CallbackList([tensorboard]).needs_batch_hooks("test")
    _fit(_model(), [tensorboard], epochs=1)
    assert calls == []
    assert CallbackList([TensorBoard(tmp_path, update_freq=2)]).needs_batch_hooks("train")


def test_batch_hooks_from_other_callbacks_read_nothing(tmp_path):
    """Another callback may switch the batch hooks on; epoch-level TensorBoard ignores them."""
    tensorboard = TensorBoard(tmp_path, write_graph=False)
    _fit(_model(), [tensorboard, LambdaCallback(on_train_batch_end=lambda b, logs: None)])
    assert tensorboard._global_train_batch == EPOCHS * STEPS
    assert not any(tag.startswith("batch_") for tag in _read(tmp_path / "train").Tags()["scalars"])


@pytest.mark.parametrize("histogram_freq, expected_steps", [(1, [0, 1, 2]), (2, [0, 2])])
def test_weight_histograms_and_images(tmp_path, histogram_freq, expected_steps):
    model = _model()
    _fit(model, [TensorBoard(tmp_path, histogram_freq=histogram_freq, write_images=True)])
    train = _read(tmp_path / "train")
    weights = {w.path: w.numpy() for layer in model.layers for w in layer.weights}
    assert set(train.Tags()["histograms"]) == {f"{path}/histogram" for path in weights}
    # Keras squeezes a weight before drawing it: the (1,) bias of the last layer is a scalar.
    drawn = {path for path, value in weights.items() if value.size > 1}
    assert set(train.Tags()["images"]) == {f"{path}/image" for path in drawn}
    for path, value in weights.items():
        events = train.Histograms(f"{path}/histogram")
        assert [e.step for e in events] == expected_steps
        if path in drawn:
            assert [e.step for e in train.Images(f"{path}/image")] == expected_steps
        if expected_steps[-1] == EPOCHS - 1:  # the last histogram shows the final weights
            last = events[-1].histogram_value
            assert last.num == value.size
            assert last.min == pytest.approx(value.min()) and last.max == pytest.approx(value.max())
            np.testing.assert_allclose(last.sum, value.sum(), rtol=1e-5, atol=1e-6)
    kernel = train.Images(f"{model.layers[0].name}/kernel/image")[-1]
    assert (kernel.height, kernel.width) == (3, 4)  # (3, 4) kernel: longer side horizontal
    if expected_steps[-1] == EPOCHS - 1:
        Image = pytest.importorskip("PIL.Image")
        pixels = np.asarray(Image.open(io.BytesIO(kernel.encoded_image_string)).convert("L"))
        # As tf.summary.image: saturated to [0, 1], then scaled (negative weights are black).
        value = weights[f"{model.layers[0].name}/kernel"]
        np.testing.assert_array_equal(pixels, np.clip(value * 255.5, 0, 255).astype(np.uint8))


@pytest.mark.parametrize(
    "shape, data_format, expected",
    [
        ((5,), "channels_last", (1, 5, 1, 1)),  # a bias: one row
        ((3, 4), "channels_last", (1, 3, 4, 1)),
        ((6, 2), "channels_last", (1, 2, 6, 1)),  # more rows than columns: transposed
        ((3, 3, 1, 8), "channels_last", (8, 3, 3, 1)),  # one image per filter
        ((8, 3, 3), "channels_first", (8, 3, 3, 1)),
        ((3, 3, 2, 4), "channels_last", (3, 3, 2, 4)),  # drawn as 4 channels, as in Keras
        ((3, 3, 2, 8), "channels_last", None),
        ((), "channels_last", None),
    ],
)
def test_weight_image_layout(shape, data_format, expected):
    values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    image = weight_image(values, data_format)
    assert (None if image is None else image.shape) == expected
    if shape == (6, 2):
        np.testing.assert_array_equal(image[0, :, :, 0], values.T)


def test_learning_rate_follows_scheduler(tmp_path):
    schedule = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    history = _fit(_model(), [schedule, TensorBoard(tmp_path)]).history
    steps, values = _scalars(_read(tmp_path / "train"), "epoch_learning_rate")
    assert steps == [0, 1, 2]
    np.testing.assert_allclose(values, [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(values, np.float32(history["learning_rate"]), rtol=1e-6)


def test_no_learning_rate_for_raw_optax(tmp_path):
    optax = pytest.importorskip("optax")
    model = Sequential([L.Input((3,)), L.Dense(1)])
    model.compile(optimizer=optax.sgd(0.01), loss="mse")
    _fit(model, [TensorBoard(tmp_path)], epochs=1, validation=False)
    assert _read(tmp_path / "train").Tags()["scalars"] == ["epoch_loss"]


@pytest.mark.parametrize("write_graph", [True, False])
def test_model_config_for_graph_plugin(tmp_path, write_graph):
    model = _model()
    _fit(model, [TensorBoard(tmp_path, write_graph=write_graph)], epochs=1, validation=False)
    train = _read(tmp_path / "train")
    if not write_graph:
        assert train.Tags()["tensors"] == []
        return
    assert train.PluginTagToContent("graph_keras_model") == {"keras": b"1"}
    (event,) = train.Tensors("keras")
    assert event.step == 0
    config = json.loads(event.tensor_proto.string_val[0])
    assert config == json.loads(model.to_json())
    keras_util = pytest.importorskip("tensorboard.plugins.graph.keras_util")
    graph = keras_util.keras_model_to_graph_def(config)
    assert [node.name.split("/")[-1] for node in graph.node][-2:] == [
        layer.name for layer in model.layers
    ]


def test_standalone_evaluate_writes_evaluation_scalars(tmp_path):
    model = _model()
    _fit(model, [], epochs=1, validation=False)
    x, y, _, _ = _data()
    loss, mae = model.evaluate(x, y, batch_size=BATCH, verbose=0, callbacks=[TensorBoard(tmp_path)])
    val = _read(tmp_path / "validation")
    assert set(val.Tags()["scalars"]) == {
        "evaluation_loss_vs_iterations", "evaluation_mae_vs_iterations",
    }  # fmt: skip
    steps, values = _scalars(val, "evaluation_loss_vs_iterations")
    assert steps == [STEPS]
    np.testing.assert_allclose(values, [np.float32(loss)], rtol=1e-6)
    np.testing.assert_allclose(_scalars(val, "evaluation_mae_vs_iterations")[1], mae, rtol=1e-6)
    assert not (tmp_path / "train").exists()


def test_non_scalar_logs_are_skipped(tmp_path):
    tensorboard = TensorBoard(tmp_path, write_graph=False)
    tensorboard.set_model(_model())
    tensorboard.on_epoch_end(0, {"loss": 0.5, "per_class": np.ones(3), "note": "text"})
    tensorboard.on_train_end()
    assert set(_read(tmp_path / "train").Tags()["scalars"]) == {"epoch_loss", "epoch_learning_rate"}


# ---- arguments ------------------------------------------------------------------------------

INVALID_ARGUMENTS = [
    ({"update_freq": "step"}, ValueError, "update_freq='step'"),
    ({"update_freq": 0}, ValueError, "update_freq=0"),
    ({"update_freq": 1.5}, ValueError, "update_freq=1.5"),
    ({"update_freq": True}, ValueError, "update_freq=True"),
    ({"histogram_freq": -1}, ValueError, "histogram_freq=-1"),
    ({"histogram_freq": 0.5}, ValueError, "histogram_freq=0.5"),
    ({"embeddings_freq": -2}, ValueError, "embeddings_freq=-2"),
    ({"profile_batch": -1}, ValueError, "profile_batch=-1"),
    ({"profile_batch": (5, 2)}, ValueError, r"profile_batch=\(5, 2\)"),
    ({"profile_batch": "a,b"}, ValueError, "profile_batch='a,b'"),
    ({"profile_batch": (1, 2, 3)}, ValueError, r"profile_batch=\(1, 2, 3\)"),
    ({"write_graph": 32}, TypeError, "write_graph=32"),
    ({"write_images": "yes"}, TypeError, "write_images='yes'"),
    ({"write_steps_per_second": None}, TypeError, "write_steps_per_second=None"),
    ({"log_dir": 3}, TypeError, "log_dir=3"),
    ({"log_dir": ""}, ValueError, "log_dir=''"),
    ({"embeddings_metadata": 3}, TypeError, "embeddings_metadata=3"),
]


@pytest.mark.parametrize("kwargs, error, match", INVALID_ARGUMENTS)
def test_invalid_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match="Received: " + match):
        TensorBoard(**kwargs)


def test_keras3_defaults_and_accepted_spellings():
    tensorboard = TensorBoard()
    assert (tensorboard.log_dir, tensorboard.histogram_freq, tensorboard.update_freq) == (
        "logs", 0, "epoch",
    )  # fmt: skip
    assert tensorboard.write_graph and not tensorboard.write_images
    assert not tensorboard.write_steps_per_second and tensorboard.embeddings_freq == 0
    assert TensorBoard(update_freq="batch").update_freq == 1
    assert TensorBoard(update_freq=np.int64(7)).update_freq == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TensorBoard(batch_size=32, write_grads=False, profile_batch="0")  # Keras 2 defaults


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"write_grads": True}, "`write_grads`"),
        ({"embeddings_freq": 1, "embeddings_metadata": "labels.tsv"}, "`embeddings_freq`"),
        ({"embeddings_layer_names": ["embedding"]}, "`embeddings_layer_names`"),
        ({"embeddings_data": np.zeros(2)}, "`embeddings_data`"),
        ({"profile_batch": (2, 4)}, "`profile_batch`"),
        ({"profile_batch": "3"}, "`profile_batch`"),
    ],
)
def test_unsupported_arguments_warn_once(kwargs, named):
    with pytest.warns(UserWarning, match=named) as record:
        TensorBoard(**kwargs)
    assert len(record) == 1


def test_missing_tensorboardx_explains_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r'pip install "fkeras\[tensorboard\]"'):
        TensorBoard()
