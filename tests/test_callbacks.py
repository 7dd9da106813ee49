"""fkeras.callbacks against Keras 3's callbacks, driven by the same scripted logs and fake model."""

import contextlib
import io
import json
import time
import urllib.request
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pytest

import fkeras
import fkeras.callbacks as fcb


class FakeLearningRate:
    """Variable-like learning rate stored in float32, as the facade's optimizer keeps it."""

    def __init__(self, value):
        self.value = np.float32(value)

    def assign(self, value):
        self.value = np.float32(value)

    def numpy(self):
        return np.asarray(self.value)

    def __float__(self):
        return float(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)


class FakeOptimizer:
    def __init__(self, lr=0.01):
        self._lr = FakeLearningRate(lr)

    @property
    def learning_rate(self):
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr.assign(float(np.asarray(value)))

    lr = learning_rate


class FakeModel:
    """Exactly the members the callbacks may use; records saves and weight restores."""

    def __init__(self, lr=0.01):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights = [np.zeros(2, np.float32)]
        self.saved = []
        self.restored = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.restored = [w.copy() for w in weights]
        self.weights = [w.copy() for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("save", filepath, overwrite))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("save_weights", filepath, overwrite))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


@pytest.fixture
def sync_keras(keras3, monkeypatch):
    """Keras dispatches batch-end hooks on a thread pool; run them inline to compare outputs."""
    from keras.src import backend

    monkeypatch.setattr(backend, "IS_THREAD_SAFE", False)
    return keras3


def _captured(fn, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args)
    return out.getvalue(), result


def _run_epochs(callbacks, model, epoch_logs, batch_logs=None):
    """Drives callbacks like `fit`: stops when `model.stop_training` is set after an epoch."""
    callbacks.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        callbacks.on_epoch_begin(epoch)
        for batch, step_logs in enumerate(batch_logs or []):
            callbacks.on_train_batch_begin(batch)
            callbacks.on_train_batch_end(batch, step_logs)
        model.weights = [np.full(2, epoch, np.float32)]
        callbacks.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    callbacks.on_train_end(dict(epoch_logs[-1]))


def _parity(keras_cb, fkeras_cb, epoch_logs, keras_module, batch_logs=None, lr=0.01):
    """Runs the same logs through a Keras and an fkeras callback; returns both (stdout, model)."""
    results = []
    for cb, list_cls in ((keras_cb, keras_module.callbacks.CallbackList), (fkeras_cb, None)):
        model = FakeModel(lr)
        list_cls = list_cls or fcb.CallbackList
        callbacks = list_cls([cb], add_history=True, model=model, verbose=0, epochs=len(epoch_logs))
        out, _ = _captured(_run_epochs, callbacks, model, epoch_logs, batch_logs)
        results.append((out, model))
    return results


def _losses(*values, key="val_loss"):
    return [{"loss": 1.0, key: v} for v in values]


# ---------------------------------------------------------------------------------------------
# EarlyStopping

EARLY_STOPPING = {
    "patience0": ({"patience": 0}, _losses(1.0, 0.9, 0.95, 0.8)),
    "patience2": ({"patience": 2, "verbose": 1}, _losses(1.0, 0.9, 0.95, 0.91, 0.92, 0.5)),
    "min_delta": ({"patience": 1, "min_delta": 0.05, "verbose": 1}, _losses(1, 0.97, 0.96, 0.9)),
    "float32_tie": ({"patience": 1}, _losses(0.3, 0.3 - 1e-9, 0.3 - 1e-9, 0.2)),
    "baseline": ({"patience": 2, "baseline": 0.5, "verbose": 1}, _losses(0.9, 0.8, 0.7, 0.6)),
    "restore": (
        {"patience": 1, "restore_best_weights": True, "verbose": 1},
        _losses(1.0, 0.5, 0.7, 0.8, 0.1),
    ),
    "restore_baseline": (
        {"patience": 2, "restore_best_weights": True, "baseline": 0.1},
        _losses(1.0, 0.5, 0.7, 0.8),
    ),
    "start_from_epoch": ({"patience": 0, "start_from_epoch": 2}, _losses(1, 2, 3, 4, 5)),
    "max": (
        {"patience": 1, "monitor": "val_acc", "mode": "max"},
        _losses(0.1, 0.2, 0.1, 0.15, key="val_acc"),
    ),
    "train_loss": ({"patience": 1, "monitor": "loss"}, [{"loss": v} for v in (3, 2, 2.5, 2.6)]),
    "no_stop": ({"patience": 3}, _losses(1.0, 0.9, 0.8)),
}


@pytest.mark.parametrize("name", sorted(EARLY_STOPPING))
def test_early_stopping_matches_keras(sync_keras, name):
    kwargs, logs = EARLY_STOPPING[name]
    keras_cb = sync_keras.callbacks.EarlyStopping(**kwargs)
    ours = fcb.EarlyStopping(**kwargs)
    (k_out, k_model), (f_out, f_model) = _parity(keras_cb, ours, logs, sync_keras)
    assert f_out == k_out
    assert f_model.stop_training == k_model.stop_training
    assert (ours.stopped_epoch, ours.best_epoch, ours.wait) == (
        keras_cb.stopped_epoch,
        keras_cb.best_epoch,
        keras_cb.wait,
    )
    assert ours.best == keras_cb.best
    if k_model.restored is None:
        assert f_model.restored is None
    else:
        np.testing.assert_array_equal(f_model.restored[0], k_model.restored[0])
    assert f_model.history.history == k_model.history.history


def test_early_stopping_warns_on_missing_monitor():
    cb = fcb.EarlyStopping(monitor="val_loss")
    model = FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    with pytest.warns(
        UserWarning, match="`val_loss` which is not available. Available metrics are: loss,accuracy"
    ):
        cb.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})
    assert not model.stop_training


@pytest.mark.parametrize(
    "monitor, expected",
    [
        ("val_loss", np.less),
        ("val_accuracy", np.greater),
        ("acc", np.greater),
        ("val_precision_1", np.greater),
        ("dense_2_categorical_accuracy", np.greater),
        ("auc", np.greater),
        ("val_mae", np.less),
        ("my_custom_metric", np.less),
        ("fmeasure", np.greater),
    ],
)
def test_auto_mode_direction(monitor, expected):
    cb = fcb.EarlyStopping(monitor=monitor)
    cb.set_model(FakeModel())
    cb._set_monitor_op()
    assert cb.monitor_op is expected


def test_auto_mode_uses_model_metric_direction():
    class Metric:
        def __init__(self, name, direction):
            self.name, self._direction = name, direction

    model = FakeModel()
    model.metrics = [Metric("score", "up")]
    cb = fcb.ReduceLROnPlateau(monitor="val_score")
    cb.set_model(model)
    cb._set_monitor_op()
    assert cb.monitor_op is np.greater


def test_unknown_mode_warns_and_uses_auto():
    with pytest.warns(UserWarning, match="EarlyStopping mode 'up' is unknown"):
        cb = fcb.EarlyStopping(mode="up")
    assert cb.mode == "auto"


# ---------------------------------------------------------------------------------------------
# ReduceLROnPlateau and LearningRateScheduler

REDUCE_LR = {
    "default_patience1": ({"patience": 1, "factor": 0.5, "verbose": 1}, _losses(1, 1, 1, 0.5, 0.5)),
    "cooldown": ({"patience": 1, "factor": 0.2, "cooldown": 2}, _losses(1, 1, 1, 1, 1, 1, 1)),
    "min_lr": ({"patience": 0, "factor": 0.1, "min_lr": 1e-4, "verbose": 1}, _losses(*[1.0] * 6)),
    # float32(1e-3) > 1e-3: the bound is compared as the float32 variable stores it.
    "min_lr_float32": (
        {"patience": 0, "factor": 0.1, "min_lr": 1e-3, "verbose": 1},
        _losses(*[1.0] * 4),
    ),
    "min_delta": ({"patience": 1, "min_delta": 0.1}, _losses(1, 0.95, 0.85, 0.84, 0.6)),
    "max": (
        {"patience": 1, "mode": "max", "monitor": "val_auc"},
        _losses(0.5, 0.4, 0.4, 0.9, key="val_auc"),
    ),
}


@pytest.mark.parametrize("name", sorted(REDUCE_LR))
def test_reduce_lr_on_plateau_matches_keras(sync_keras, name):
    kwargs, logs = REDUCE_LR[name]
    keras_cb = sync_keras.callbacks.ReduceLROnPlateau(**kwargs)
    ours = fcb.ReduceLROnPlateau(**kwargs)
    (k_out, k_model), (f_out, f_model) = _parity(keras_cb, ours, logs, sync_keras)
    assert f_out == k_out
    # The history holds the learning rate at each epoch end, under Keras 3's key.
    assert f_model.history.history == k_model.history.history
    assert "learning_rate" in f_model.history.history
    assert float(f_model.optimizer.learning_rate) == float(k_model.optimizer.learning_rate)


def test_reduce_lr_keras2_epsilon_alias():
    with pytest.warns(UserWarning, match="use `min_delta` instead"):
        cb = fcb.ReduceLROnPlateau(epsilon=0.25)
    assert cb.min_delta == 0.25


@pytest.mark.parametrize("kwargs, match", [({"factor": 1.0}, "factor=1.0")])
def test_reduce_lr_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fcb.ReduceLROnPlateau(**kwargs)


def test_reduce_lr_rejects_unknown_keywords():
    with pytest.raises(TypeError):
        fcb.ReduceLROnPlateau(epsilonn=0.1)


SCHEDULES = {
    "two_args": lambda epoch, lr: lr * 0.5 if epoch % 2 else lr,
    "one_arg": lambda epoch: 0.1 / (epoch + 1),
    "numpy": lambda epoch, lr: np.float32(lr * 0.9),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_learning_rate_scheduler_matches_keras(sync_keras, name):
    schedule = SCHEDULES[name]
    keras_cb = sync_keras.callbacks.LearningRateScheduler(schedule, verbose=1)
    ours = fcb.LearningRateScheduler(schedule, verbose=1)
    (k_out, k_model), (f_out, f_model) = _parity(keras_cb, ours, _losses(1, 2, 3, 4), sync_keras)
    assert f_out == k_out
    assert f_model.history.history == k_model.history.history
    assert float(f_model.optimizer.lr) == float(k_model.optimizer.lr)


def test_learning_rate_scheduler_accepts_jax_scalar_and_rejects_int():
    import jax.numpy as jnp

    model = FakeModel(0.5)
    cb = fcb.LearningRateScheduler(lambda epoch, lr: lr * jnp.exp(-1.0))
    cb.set_model(model)
    cb.on_epoch_begin(0)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.5 * np.exp(-1.0), rel=1e-6)
    cb = fcb.LearningRateScheduler(lambda epoch: 1)
    cb.set_model(model)
    with pytest.raises(ValueError, match="should be a float. Received: learning_rate=1"):
        cb.on_epoch_begin(0)


# ---------------------------------------------------------------------------------------------
# ModelCheckpoint

CHECKPOINTS = {
    "every_epoch": {"filepath": "{epoch:02d}-{val_loss:.2f}.keras", "verbose": 1},
    "best_only": {"filepath": "best.keras", "save_best_only": True, "verbose": 1},
    "best_only_max": {
        "filepath": "m{epoch}.weights.h5",
        "save_best_only": True,
        "save_weights_only": True,
        "monitor": "val_acc",
        "mode": "max",
        "verbose": 1,
    },
    "threshold": {
        "filepath": "t.keras",
        "save_best_only": True,
        "initial_value_threshold": 0.6,
        "verbose": 1,
    },
    "missing_monitor": {
        "filepath": "x{epoch}.h5",
        "save_best_only": True,
        "monitor": "val_nope",
        "mode": "min",
    },
    "batches": {"filepath": "b{epoch}-{batch}.keras", "save_freq": 2, "verbose": 1},
    "subdir": {"filepath": "sub/dir/{epoch}.weights.h5", "save_weights_only": True},
}


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_model_checkpoint_matches_keras(sync_keras, tmp_path, name):
    kwargs = CHECKPOINTS[name]
    kwargs = dict(kwargs, filepath=str(tmp_path / kwargs["filepath"]))
    logs = [{"loss": 1.0, "val_loss": v, "val_acc": 1 - v} for v in (0.7, 0.5, 0.55, 0.3, 0.3)]
    batch_logs = [{"loss": 0.5}] * 3 if "save_freq" in kwargs else None
    keras_cb = sync_keras.callbacks.ModelCheckpoint(**kwargs)
    ours = fcb.ModelCheckpoint(**kwargs)
    with pytest.warns(UserWarning) if name == "missing_monitor" else contextlib.nullcontext():
        (k_out, k_model), (f_out, f_model) = _parity(
            keras_cb, ours, logs, sync_keras, batch_logs=batch_logs
        )
    assert f_model.saved == k_model.saved
    assert f_out == k_out
    assert ours.best == keras_cb.best
    assert f_model.saved  # Every scenario saves at least once.


def test_model_checkpoint_counts_fused_batches_like_keras(sync_keras, tmp_path):
    """Several steps per hook call (batch indices 1, 3, 5): saves every 3 batches seen."""
    saved = []
    for module in (sync_keras.callbacks, fcb):
        model = FakeModel()
        cb = module.ModelCheckpoint(str(tmp_path / "e{epoch}b{batch}.keras"), save_freq=3)
        cb.set_model(model)
        for epoch in range(2):
            cb.on_epoch_begin(epoch)
            for batch in (1, 3, 5):
                cb.on_train_batch_end(batch, {"loss": 0.5})
            cb.on_epoch_end(epoch, {"loss": 0.5})
        saved.append(model.saved)
    assert saved[1] == saved[0]
    names = [path.rsplit("/", 1)[1] for _, path, _ in saved[1]]
    assert names == ["e1b4.keras", "e2b2.keras", "e2b6.keras"]


def _saved_weights(tmp_path, steps_per_execution, callback):
    """Train with `callback` (a saver with save_freq=5) and return {file name: weights}."""
    fkeras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 6)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = fkeras.Sequential([fkeras.layers.Input((6,)), fkeras.layers.Dense(4, activation="relu"),
                               fkeras.layers.Dropout(0.2), fkeras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", steps_per_execution=steps_per_execution)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[callback])  # 9 steps per epoch
    return model.get_weights()


def test_integer_save_freq_saves_the_weights_of_exactly_that_step(tmp_path):
    """With whole epochs fused into one dispatch, a save every 5 batches still writes the weights
    after the 5th, 10th, ... step: fit ends the fused dispatch there (the saves must equal those
    of a step-by-step run)."""
    runs = {}
    for spe in ("auto", 1):
        folder = tmp_path / str(spe)
        folder.mkdir()
        cb = fcb.ModelCheckpoint(str(folder / "e{epoch}b{batch}.weights.h5"), save_freq=5, save_weights_only=True)
        final = _saved_weights(tmp_path, spe, cb)
        files = sorted(p.name for p in folder.iterdir())
        loaded = {}
        for name in files:
            probe = fkeras.Sequential([fkeras.layers.Input((6,)), fkeras.layers.Dense(4), fkeras.layers.Dropout(0.2), fkeras.layers.Dense(1)])
            probe.load_weights(str(folder / name))
            loaded[name] = probe.get_weights()
        runs[spe] = (files, loaded, final)
    # 27 steps: saves after steps 5, 10, 15, 20, 25 (epoch 1 b5, epoch 2 b1 and b6, epoch 3 b2 and b7)
    assert runs["auto"][0] == runs[1][0] == sorted(["e1b5.weights.h5", "e2b1.weights.h5", "e2b6.weights.h5", "e3b2.weights.h5", "e3b7.weights.h5"])
    for name in runs[1][0]:
        for a, b in zip(runs["auto"][1][name], runs[1][1][name]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)
    for a, b in zip(runs["auto"][2], runs[1][2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_steps_until_sync_takes_the_nearest_callback():
    a = fcb.ModelCheckpoint("a.keras", save_freq=5)
    b = fcb.BackupAndRestore("backup-dir", save_freq=3)
    c = fcb.ModelCheckpoint("c.keras")  # per epoch: no sync inside an epoch
    callbacks = fcb.CallbackList([a, b, c])
    assert callbacks.steps_until_sync() == 3
    b._batches_seen_since_last_saving = 2
    assert callbacks.steps_until_sync() == 1
    assert fcb.CallbackList([c, fcb.History()]).steps_until_sync() is None


def test_history_sets_model_history_on_its_own():
    history, model = fcb.History(), FakeModel()
    history.set_model(model)
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    assert model.history is history and history.epoch == [0]


def test_model_checkpoint_keras2_spellings(tmp_path):
    """Any extension (`.hdf5`) and Keras 2's `period`: save every `period` epochs."""
    model = FakeModel()
    with pytest.warns(UserWarning, match="`period` argument is deprecated"):
        cb = fcb.ModelCheckpoint(
            str(tmp_path / "weights.{epoch:02d}-{val_loss:.2f}.hdf5"),
            save_weights_only=True,
            period=2,
        )
    callbacks = fcb.CallbackList([cb], model=model)
    _run_epochs(callbacks, model, _losses(0.9, 0.8, 0.7, 0.6, 0.5))
    names = [path.rsplit("/", 1)[1] for _, path, _ in model.saved]
    assert names == ["weights.02-0.80.hdf5", "weights.04-0.60.hdf5"]
    assert not callbacks.needs_batch_hooks("train")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"save_freq": "batch"}, ValueError, "save_freq='batch'"),
        ({"save_freq": 1.5}, ValueError, "save_freq=1.5"),
        ({"period": 0}, ValueError, "period=0"),
    ],
)
def test_model_checkpoint_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fcb.ModelCheckpoint("x.keras", **kwargs)


def test_model_checkpoint_format_error_names_the_path(tmp_path):
    cb = fcb.ModelCheckpoint(str(tmp_path / "{epoch}-{val_acc}.keras"))
    cb.set_model(FakeModel())
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        cb.on_epoch_end(0, {"loss": 1.0})


# ---------------------------------------------------------------------------------------------
# CSVLogger, TerminateOnNaN, History, LambdaCallback, RemoteMonitor

CSV_CASES = {
    "train_only": ({}, [{"loss": 0.5, "accuracy": 0.25}, {"loss": 0.4, "accuracy": 0.375}]),
    "with_val": (
        {"separator": ";"},
        [{"loss": 0.5, "val_loss": 0.6}, {"loss": 0.1, "val_loss": 1}],
    ),
    "array_value": ({}, [{"loss": 0.5, "vec": np.array([1.0, 2.0])}]),
}


@pytest.mark.parametrize("append", [False, True])
@pytest.mark.parametrize("name", sorted(CSV_CASES))
def test_csv_logger_file_matches_keras(keras3, tmp_path, name, append):
    kwargs, logs = CSV_CASES[name]
    contents = []
    for module in (keras3.callbacks, fcb):
        path = tmp_path / f"{module.__name__}.csv"
        for _ in range(2 if append else 1):  # Twice to exercise appending without a new header.
            cb = module.CSVLogger(str(path), append=append, **kwargs)
            cb.set_model(FakeModel())
            cb.on_train_begin()
            for epoch, epoch_logs in enumerate(logs):
                cb.on_epoch_end(epoch, dict(epoch_logs))
            cb.on_train_end()
        contents.append(path.read_bytes())
    assert contents[1] == contents[0]


@pytest.mark.parametrize("loss", [1.0, float("nan"), float("inf")])
def test_terminate_on_nan_matches_keras(sync_keras, loss):
    outputs = []
    for module in (sync_keras.callbacks, fcb):
        model = FakeModel()
        callbacks = module.CallbackList([module.TerminateOnNaN()], model=model)
        out, _ = _captured(callbacks.on_train_batch_end, 3, {"loss": loss})
        outputs.append((out, model.stop_training))
    assert outputs[1] == outputs[0]
    assert outputs[1][1] == (not np.isfinite(loss))


def test_terminate_on_nan_raise_error():
    cb = fcb.TerminateOnNaN(raise_error=True)
    cb.set_model(FakeModel())
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        cb.on_train_batch_end(2, {"loss": np.nan})


def test_history_and_callback_order_match_keras(sync_keras):
    logs = [
        {"loss": 0.5, "accuracy": 0.1, "val_loss": 0.7},
        {"loss": 0.25, "accuracy": 0.2, "val_loss": 0.6},
    ]
    histories = []
    for module in (sync_keras.callbacks, fcb):
        model = FakeModel()
        lr_cb = module.LearningRateScheduler(lambda epoch, lr: lr)
        callbacks = module.CallbackList(
            [lr_cb], add_history=True, add_progbar=True, model=model, verbose=0, epochs=2, steps=3
        )
        assert [type(cb).__name__ for cb in callbacks.callbacks] == [
            "LearningRateScheduler",
            "History",
            "ProgbarLogger",
        ]
        _run_epochs(callbacks, model, logs)
        history = model.history
        assert history is callbacks.callbacks[1]
        histories.append((history.history, list(history.history), history.epoch, history.params))
    assert histories[1] == histories[0]


def test_callback_list_reuses_given_history_and_progbar():
    history, progbar = fcb.History(), fcb.ProgbarLogger()
    callbacks = fcb.CallbackList([[history], progbar], add_history=True, add_progbar=True)
    assert callbacks.callbacks == [history, progbar]


def test_lambda_callback_hooks_and_keras2_names():
    calls = []
    cb = fcb.LambdaCallback(
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
        on_test_begin=lambda logs: calls.append("test_begin"),
    )
    callbacks = fcb.CallbackList([cb], model=FakeModel())
    callbacks.on_train_batch_end(0, {"loss": 1.0})
    callbacks.on_epoch_end(0, {"loss": 2.0})
    callbacks.on_test_begin()
    assert calls == [("batch_end", 0), ("epoch_end", 0, 2.0), "test_begin"]
    assert callbacks.needs_batch_hooks("train")
    assert not callbacks.needs_batch_hooks("test")
    with pytest.raises(TypeError, match="on_epoch_ends"):
        fcb.LambdaCallback(on_epoch_ends=print)


@pytest.mark.parametrize("send_as_json", [False, True])
def test_remote_monitor_posts_epoch_logs(monkeypatch, send_as_json):
    sent = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

    def fake_urlopen(request, timeout):
        sent.append(request)
        return Response()

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    cb = fcb.RemoteMonitor(root="http://example.invalid", send_as_json=send_as_json)
    cb.on_epoch_end(3, {"loss": np.float32(0.5)})
    (request,) = sent
    assert request.full_url == "http://example.invalid/publish/epoch/end/"
    body = request.data.decode()
    if not send_as_json:
        body = urllib.parse.parse_qs(body)["data"][0]
    assert json.loads(body) == {"epoch": 3, "loss": 0.5}


def test_remote_monitor_warns_when_unreachable(monkeypatch):
    def refuse(request, timeout):
        raise urllib.error.URLError("refused")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        fcb.RemoteMonitor().on_epoch_end(0, {"loss": 1.0})


# ---------------------------------------------------------------------------------------------
# Batch hooks: which callbacks need them, and lazy logs


class EndOnly(fcb.Callback):
    def on_test_batch_end(self, batch, logs=None):
        pass


class Keras2Batch(fcb.Callback):
    def on_batch_begin(self, batch, logs=None):
        pass


NEEDS_BATCH_HOOKS = {
    "none": ([], set()),
    "history": ([fcb.History()], set()),
    "early_stopping": ([fcb.EarlyStopping(), fcb.CSVLogger("unused.csv")], set()),
    "terminate_on_nan": ([fcb.TerminateOnNaN()], {"train"}),
    "keras2_on_batch_begin": ([Keras2Batch()], {"train"}),
    "test_end": ([EndOnly()], {"test"}),
    "checkpoint_epoch": ([fcb.ModelCheckpoint("a.keras")], set()),
    "checkpoint_batches": ([fcb.ModelCheckpoint("a.keras", save_freq=5)], {"train"}),
    "lambda_predict": ([fcb.LambdaCallback(on_predict_batch_end=print)], {"predict"}),
    "progbar_v1": ([fcb.ProgbarLogger()], {"train", "test", "predict"}),
}


@pytest.mark.parametrize("name", sorted(NEEDS_BATCH_HOOKS))
def test_needs_batch_hooks(name):
    callbacks, expected = NEEDS_BATCH_HOOKS[name]
    callback_list = fcb.CallbackList(callbacks, verbose=1, epochs=1, steps=4)
    for kind in ("train", "test", "predict"):
        assert callback_list.needs_batch_hooks(kind) == (kind in expected), kind


@pytest.mark.parametrize("steps, expected", [(4, False), (None, True)])
def test_progbar_verbose2_needs_batches_only_without_steps(steps, expected):
    callbacks = fcb.CallbackList(add_progbar=True, verbose=2, epochs=1, steps=steps)
    assert callbacks.needs_batch_hooks("train") is expected


def test_validation_inside_fit_needs_no_test_batch_hooks():
    callbacks = fcb.CallbackList(add_progbar=True, verbose=1, epochs=1, steps=4)
    assert callbacks.needs_batch_hooks("test")
    callbacks.on_train_begin()
    assert not callbacks.needs_batch_hooks("test")


def test_needs_batch_hooks_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind='validate'"):
        fcb.CallbackList().needs_batch_hooks("validate")


class LazyLogs(Mapping):
    """The engine's read-only step logs: values are read (device transfer) on access only."""

    reads: ClassVar[list[str]] = []

    def __init__(self, **values):
        self._values = values

    def __getitem__(self, key):
        LazyLogs.reads.append(key)
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def test_batch_logs_are_read_lazily(clock, capsys):
    LazyLogs.reads = []
    callbacks = fcb.CallbackList(
        [fcb.TerminateOnNaN()], add_progbar=True, model=FakeModel(), verbose=1, epochs=1, steps=100
    )
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    for batch in range(50):
        clock.now += 0.001  # Well within the bar's 50 ms interval after the first line.
        logs = LazyLogs(loss=np.float32(0.5), zeta=np.float32(2.0), accuracy=np.float32(0.25))
        callbacks.on_train_batch_end(batch, logs)
    # TerminateOnNaN reads the loss each step; the bar read the other values once (first line).
    assert LazyLogs.reads.count("loss") == 50
    assert LazyLogs.reads.count("accuracy") == 1 and LazyLogs.reads.count("zeta") == 1
    line = capsys.readouterr().out
    assert line.index("accuracy: 0.2500") < line.index("loss: 0.5000") < line.index("zeta:")


def test_batch_logs_view_is_read_only_mapping():
    view = fcb._callback.BatchLogs({"b": np.float32(2.0), "a": np.array(1.5)})
    assert list(view) == ["a", "b"] and "a" in view and len(view) == 2
    assert view["b"] == 2.0 and type(view["b"]) is float
    assert dict(view) == {"a": 1.5, "b": 2.0}
    with pytest.raises(TypeError):
        view["a"] = 3.0


def _hook_recorder(base):
    """A callback class of `base` (fkeras's or Keras 3's) that records every hook it gets."""
    hooks = [
        "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
        "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
        "on_test_batch_begin", "on_test_batch_end",
    ]

    def make(name):
        def hook(self, *args, **kwargs):
            logs = args[-1] if args and isinstance(args[-1], dict) else kwargs.get("logs")
            self.calls.append((name, *[a for a in args if isinstance(a, int)], sorted(logs or {})))
        return hook

    namespace = {name: make(name) for name in hooks}
    namespace["__init__"] = lambda self: (base.__init__(self), setattr(self, "calls", []))[0]
    return type("Recorder", (base,), namespace)()


@pytest.mark.parametrize("validation", ["arrays", "generator"])
def test_fit_validation_calls_the_test_hooks_as_keras3(keras3, validation):
    """Keras's fit validates through `evaluate(callbacks=...)`: on_test_begin, the test batch
    hooks and on_test_end (with un-prefixed logs) reach the fit's callbacks each epoch."""
    rng = np.random.RandomState(0)
    x, y = rng.rand(12, 3).astype("float32"), rng.rand(12, 1).astype("float32")
    vx, vy = rng.rand(6, 3).astype("float32"), rng.rand(6, 1).astype("float32")

    def run(k):
        model = k.Sequential([k.Input((3,)), k.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        recorder = _hook_recorder(k.callbacks.Callback)
        if validation == "arrays":
            val, extra = (vx, vy), {"validation_batch_size": 4}
        else:
            def gen():
                while True:
                    for i in range(0, 6, 4):
                        yield vx[i:i + 4], vy[i:i + 4]
            val, extra = gen(), {"validation_steps": 2}
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, validation_data=val,
                  callbacks=[recorder], **extra)
        return recorder.calls

    ours, theirs = run(fkeras), run(keras3)
    assert ours == theirs
    assert ("on_test_end", ["loss", "mae"]) in ours
