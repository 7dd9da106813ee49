"""Faults during training and inference (fkeras issue 11): numerical faults, interruptions,
killed processes, streaming of big arrays, failing data sources, and fit's argument checks."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading

import jax
import numpy as np
import pytest

import fkeras
from fkeras.callbacks._backup import BackupAndRestore
from fkeras.engine import _generators
from fkeras.utils._sequence import Sequence

L = fkeras.layers
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mlp(d=3, out=1, optimizer="sgd", loss="mse", dropout=0.0):
    layers = [L.Input((d,)), L.Dense(8, activation="relu")]
    if dropout:
        layers.append(L.Dropout(dropout))
    model = fkeras.Sequential(layers + [L.Dense(out)])
    model.compile(optimizer, loss)
    return model


def regression(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    return x, x.sum(1, keepdims=True).astype("float32")


def cell_arrays(model):
    return jax.tree_util.tree_leaves(model._current_variables())


def assert_usable(model, x):
    """Variables alive and finite, predict works, and training goes on."""
    assert not any(a.is_deleted() for a in cell_arrays(model))
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.predict(x, verbose=0)).all()


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith(_generators.THREAD_NAME) and t.is_alive()]


class Recorder(fkeras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches, self.ended = [], False

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append((batch, logs["loss"]))

    def on_train_end(self, logs=None):
        self.ended = True


# ---- numerical faults ----------------------------------------------------------------------


def test_terminate_on_nan_stops_right_after_the_bad_batch_like_keras(keras3):
    x, y = regression()
    x[25] = np.nan  # batch 2 of 4 with batch_size=10

    def run(lib, model):
        rec = Recorder() if lib is fkeras else None
        callbacks = [lib.callbacks.TerminateOnNaN()] + ([rec] if rec else [])
        history = model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, callbacks=callbacks)
        return history, rec

    model = mlp()  # a Dense-only model: fit would fuse the whole epoch into one dispatch
    keras_model = keras3.Sequential([keras3.Input((3,)), keras3.layers.Dense(8, activation="relu"), keras3.layers.Dense(1)])
    keras_model.compile("sgd", "mse")
    history, rec = run(fkeras, model)
    keras_history, _ = run(keras3, keras_model)
    assert history.epoch == keras_history.epoch == [0]
    assert set(history.history) == set(keras_history.history) == {"loss"}
    assert np.isnan(history.history["loss"][0]) and np.isnan(keras_history.history["loss"][0])
    assert [b for b, _ in rec.batches] == [0, 1, 2] and np.isnan(rec.batches[-1][1])
    assert rec.ended  # a clean stop: on_train_end runs
    # the weights are those the bad batch produced, not the end of a fused epoch
    assert model.optimizer.iterations == 3
    assert all(np.isnan(w).all() for w in model.get_weights()[-2:])


def test_terminate_on_nan_raise_error_skips_on_train_end():
    x, y = regression()
    x[25] = np.inf
    rec, model = Recorder(), mlp()
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                  callbacks=[fkeras.callbacks.TerminateOnNaN(raise_error=True), rec])
    assert not rec.ended and model.history.history == {}
    assert model.optimizer.iterations == 3


class BlowUpAt(fkeras.callbacks.Callback):
    """Makes the updates of epoch `epoch` non-finite: its second batch's loss is not finite."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.weights = epoch, {}

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.optimizer.learning_rate = float("inf")

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = self.model.get_weights()


@pytest.mark.parametrize("raise_error", [False, True])
def test_terminate_on_nan_restores_the_last_finite_epoch(raise_error):
    x, y = regression()
    model, blow_up = mlp(dropout=0.2), BlowUpAt(epoch=2)
    stop = fkeras.callbacks.TerminateOnNaN(raise_error=raise_error, restore_last_finite=True)
    fit = dict(batch_size=10, epochs=5, verbose=0, callbacks=[blow_up, stop])
    if raise_error:
        with pytest.raises(RuntimeError, match="batch 1"):
            model.fit(x, y, **fit)
    else:
        history = model.fit(x, y, **fit)
        assert history.epoch == [0, 1, 2] and np.isnan(history.history["loss"][2])
        assert np.isfinite(history.history["loss"][:2]).all()
    # the model holds the weights and optimizer state of the end of epoch 1
    for got, want in zip(model.get_weights(), blow_up.weights[1]):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == 8
    assert_usable(model, x)
    model.optimizer.learning_rate = 0.01
    history = model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[stop])
    assert np.isfinite(history.history["loss"]).all() and model.optimizer.iterations == 16


def test_terminate_on_nan_with_a_generator():
    x, y = regression()
    x[25] = np.nan

    def batches():
        while True:
            for i in range(0, 40, 10):
                yield x[i:i + 10], y[i:i + 10]

    model = mlp()
    stop = fkeras.callbacks.TerminateOnNaN(restore_last_finite=True)
    history = model.fit(batches(), steps_per_epoch=4, epochs=3, verbose=0, callbacks=[stop])
    assert history.epoch == [0] and model.optimizer.iterations == 0
    assert_usable(model, x[:20])
    assert not prefetch_threads()


# ---- interrupted runs ----------------------------------------------------------------------


class InterruptAt(fkeras.callbacks.Callback):
    def __init__(self, epoch, batch, by_signal=False):
        super().__init__()
        self.at, self.by_signal, self.ended = (epoch, batch), by_signal, False
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            if self.by_signal:
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt

    def on_train_end(self, logs=None):
        self.ended = True


def needs_main_thread_sigint():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")


@pytest.mark.parametrize("by_signal", [False, True])
def test_keyboard_interrupt_in_a_callback_leaves_the_model_usable(by_signal):
    if by_signal:
        needs_main_thread_sigint()
    x, y = regression()
    model = mlp(optimizer="adam", dropout=0.2)
    stop = InterruptAt(epoch=1, batch=2, by_signal=by_signal)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=10, epochs=4, verbose=0, callbacks=[stop])
    assert not stop.ended  # as in Keras, no on_train_end
    assert model.optimizer.iterations >= 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler or not by_signal
    assert_usable(model, x)
    before = model.optimizer.iterations
    history = model.fit(x, y, batch_size=10, epochs=2, verbose=0)
    assert model.optimizer.iterations == before + 8 and np.isfinite(history.history["loss"]).all()


def test_sigint_between_dispatch_and_write_back_is_deferred():
    """The signal lands while the donated state is in flight: it must surface only after the new
    state is in the layers."""
    needs_main_thread_sigint()
    x, y = regression()
    model = mlp(optimizer="adam")
    model.compile(model.optimizer, "mse", steps_per_execution=1)
    real_train_fns, calls = model._train_fns, []

    def train_fns(spec):
        fns = real_train_fns(spec)

        def one_then_sigint(*args, **kwargs):
            out = fns.one(*args, **kwargs)
            calls.append(1)
            if len(calls) == 6:
                os.kill(os.getpid(), signal.SIGINT)  # arrives before `fit` writes `out` back
            return out

        return fns._replace(one=one_then_sigint)

    model._train_fns = train_fns
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=10, epochs=3, verbose=0)
    del model._train_fns
    assert model.optimizer.iterations == 6  # the step whose dispatch was interrupted is kept
    assert_usable(model, x)
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert model.optimizer.iterations == 10
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_guard_defers_only_inside_critical_sections():
    """fit installs one handler for its whole loop (`sigint_guard`): a signal outside a
    `defer_sigint()` block interrupts at once, one inside is held until the block ends."""
    needs_main_thread_sigint()
    from fkeras.models._safety import defer_sigint, sigint_guard

    events = []
    with sigint_guard():
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between bytecodes, almost at once
                events.append("after")
        assert events == []
        with pytest.raises(KeyboardInterrupt):
            with defer_sigint():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):
                    pass
                events.append("held to the end of the block")
        assert events == ["held to the end of the block"]
        with sigint_guard():  # nested: a no-op
            pass
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_keyboard_interrupt_in_train_on_batch_and_generator_fit():
    needs_main_thread_sigint()
    x, y = regression()
    model = mlp()
    real_train_fns = model._train_fns

    def train_fns(spec):
        fns = real_train_fns(spec)

        def step_then_sigint(*args):
            out = fns.step(*args)
            os.kill(os.getpid(), signal.SIGINT)
            return out

        return fns._replace(step=step_then_sigint)

    model._train_fns = train_fns
    with pytest.raises(KeyboardInterrupt):
        model.train_on_batch(x[:10], y[:10])
    with pytest.raises(KeyboardInterrupt):
        model.fit(iter([(x[:10], y[:10])] * 5), steps_per_epoch=5, verbose=0)
    del model._train_fns
    assert model.optimizer.iterations == 2
    assert_usable(model, x)
    assert not prefetch_threads()


RESUME_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import numpy as np
    import fkeras as keras
    from fkeras.callbacks._backup import BackupAndRestore

    mode, workdir, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ckpt, backup = os.path.join(workdir, "ckpt.keras"), os.path.join(workdir, "backup")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, :3].sum(1, keepdims=True) > 0).astype("float32")
    fit = dict(epochs=5, batch_size=16, shuffle=True, validation_split=0.25, verbose=0)

    def build():
        keras.utils.set_random_seed(1234)
        model = keras.Sequential([
            keras.layers.Input((6,)), keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.3), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        return model

    class Record(keras.callbacks.Callback):
        def __init__(self, name):
            super().__init__()
            self.path = os.path.join(workdir, name + ".jsonl")

        def on_epoch_end(self, epoch, logs=None):
            with open(self.path, "a") as f:
                f.write(json.dumps(dict(logs, epoch=epoch)) + "\\n")

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == kill_after:
                os.kill(os.getpid(), 9)

    if mode == "kill":
        build().fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint(ckpt), BackupAndRestore(backup),
                                     Record("killed"), Kill()], **fit)
        raise SystemExit("was not killed")
    # a fresh process: resume from the ModelCheckpoint file ...
    keras.utils.set_random_seed(1234)
    model = keras.models.load_model(ckpt)
    model.fit(x, y, initial_epoch=kill_after, callbacks=[keras.callbacks.ModelCheckpoint(ckpt),
                                                           Record("checkpoint")], **fit)
    # ... and with BackupAndRestore, which finds the epoch itself
    build().fit(x, y, callbacks=[BackupAndRestore(backup), Record("backup")], **fit)
    assert not os.path.exists(backup)
    # the uninterrupted run
    ref = os.path.join(workdir, "ref.keras")
    build().fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint(ref), Record("reference")], **fit)
''')


def test_killed_run_resumes_bit_identically(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(RESUME_SCRIPT)
    env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS="cpu")
    killed = subprocess.run([sys.executable, str(script), "kill", str(tmp_path), "2"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = subprocess.run([sys.executable, str(script), "resume", str(tmp_path), "2"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    def rows(name):
        import json

        return [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]

    reference = rows("reference")
    assert [r["epoch"] for r in reference] == [0, 1, 2, 3, 4]
    assert rows("killed") == reference[:2]
    # bit-identical: the same floats, not merely close
    assert rows("checkpoint") == reference[2:]
    assert rows("backup") == reference[2:]
    assert len({r["loss"] for r in reference}) == 5


def test_backup_and_restore_in_process(tmp_path):
    x, y = regression()
    backup = tmp_path / "backup"

    class Crash(fkeras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise RuntimeError("Interrupting!")

    fkeras.utils.set_random_seed(3)
    model = mlp(optimizer="adam")
    callback = BackupAndRestore(backup, double_checkpoint=True)
    with pytest.raises(RuntimeError, match="Interrupting"):
        model.fit(x, y, batch_size=10, epochs=6, verbose=0, callbacks=[callback, Crash()])
    assert sorted(os.listdir(backup)) == sorted(
        ["latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json", "training_metadata.json.bkp"]
    )
    # a corrupt latest backup: the previous one (2 epochs) is restored instead
    (backup / "latest.weights.h5").write_bytes(b"not an h5 file")
    fresh = mlp(optimizer="adam")
    history = fresh.fit(x, y, batch_size=10, epochs=6, verbose=0, callbacks=[BackupAndRestore(backup, double_checkpoint=True)])
    assert history.epoch == [2, 3, 4, 5] and fresh.optimizer.iterations == 24
    assert not backup.exists()
    # a batch-level backup restarts the unfinished epoch with the newest weights
    model = mlp(optimizer="adam")
    stop = InterruptAt(epoch=1, batch=1)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[BackupAndRestore(backup, save_freq=2), stop])
    history = mlp(optimizer="adam").fit(x, y, batch_size=10, epochs=3, verbose=0,
                                        callbacks=[BackupAndRestore(backup, save_freq=2, delete_checkpoint=False)])
    assert history.epoch == [1, 2] and backup.exists()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(backup_dir=""), ValueError, "Empty `backup_dir`"),
        (dict(backup_dir=3), TypeError, "backup_dir=3"),
        (dict(backup_dir="b", save_freq=0), ValueError, "save_freq=0"),
        (dict(backup_dir="b", save_freq="batch"), ValueError, "save_freq='batch'"),
    ],
)
def test_backup_and_restore_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BackupAndRestore(**kwargs)


# ---- resource limits -----------------------------------------------------------------------


def recording(fn, sizes):
    def wrapper(*args):
        sizes.extend(np.shape(a)[0] for a in jax.tree_util.tree_leaves(args[1:]) if np.ndim(a))
        return fn(*args)

    return wrapper


def test_predict_and_evaluate_stream_big_host_arrays(monkeypatch):
    n, d, batch = 2048, 64, 64
    x = np.random.default_rng(0).normal(size=(n, d)).astype("float32")
    model = fkeras.Sequential([L.Input((d,)), L.Dense(d)])
    model.compile("sgd", "mse")
    put_sizes, step_sizes = [], []
    real_put = jax.device_put
    monkeypatch.setattr(jax, "device_put", lambda a, *args, **kw: (put_sizes.append(np.size(a)), real_put(a, *args, **kw))[1])
    model._fns["predict"] = recording(model._predict_fn(), step_sizes)
    growth = []

    class LiveBytes(fkeras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            live = sum(a.nbytes for a in jax.live_arrays())
            growth.append(live)

    out = model.predict(x, batch_size=batch, verbose=0, callbacks=[LiveBytes()])
    np.testing.assert_allclose(out[-5:], np.asarray(model(x[-5:])), rtol=1e-5, atol=1e-6)
    assert out.shape == (n, d) and max(step_sizes) <= batch
    # the outputs go to host memory as they come: the device never holds most of them
    assert max(growth) - growth[0] < 0.25 * out.nbytes
    spec = model._spec_for([x])
    model._fns[("eval", id(spec))] = recording(model._eval_fn(spec), step_sizes)
    model.evaluate(x, x, batch_size=batch, verbose=0)
    assert max(step_sizes) <= batch
    assert max(put_sizes, default=0) < x.size


class Boom(Exception):
    pass


def exploding_generator(fail_at, x, y):
    for i in range(100):
        if i == fail_at:
            raise Boom(f"broken record {i}")
        yield x[:8], y[:8]


class ExplodingSequence(Sequence):
    def __init__(self, fail_at, x, y):
        self.fail_at, self.x, self.y = fail_at, x, y

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == self.fail_at:
            raise Boom(f"broken record {i}")
        return self.x[:8], self.y[:8]


@pytest.mark.parametrize("workers", [0, 1, 3])
@pytest.mark.parametrize("kind", ["generator", "sequence"])
@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_a_failing_source_surfaces_its_own_error_with_the_batch_index(call, kind, workers):
    x, y = regression()
    model = mlp()
    baseline = set(threading.enumerate())
    source = exploding_generator(3, x, y) if kind == "generator" else ExplodingSequence(3, x, y)
    with pytest.raises(Boom, match="broken record 3") as info:
        if call == "fit":
            model.fit(source, steps_per_epoch=6, epochs=2, shuffle=False, verbose=0, workers=workers)
        elif call == "evaluate":
            model.evaluate(source, steps=6, verbose=0, workers=workers)
        else:
            model.predict(source, steps=6, verbose=0, workers=workers)
    assert any("batch 3" in note for note in getattr(info.value, "__notes__", []))
    assert not prefetch_threads() and set(threading.enumerate()) <= baseline
    if call == "fit":
        assert model.optimizer.iterations == 3
        assert_usable(model, x)


def test_no_prefetch_thread_outlives_fit_that_stops_early():
    x, y = regression()

    def forever():
        while True:
            yield x[:8], y[:8]

    model = mlp()
    stop = fkeras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: setattr(model, "stop_training", b == 1))
    model.fit(forever(), steps_per_epoch=50, epochs=3, verbose=0, max_queue_size=2, callbacks=[stop])
    assert model.optimizer.iterations == 2 and not prefetch_threads()
    model.fit(ExplodingSequence(None, x, y), epochs=1, verbose=0, workers=2, callbacks=[stop])
    assert not prefetch_threads()


# ---- argument checks of fit, evaluate and predict ------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(epochs=-1), ValueError),
        (dict(epochs=True), TypeError),
        (dict(epochs=2.0), TypeError),
        (dict(epochs="3"), TypeError),
        (dict(initial_epoch=-2), ValueError),
        (dict(initial_epoch=1.5), TypeError),
        (dict(validation_freq=0), ValueError),
        (dict(validation_freq=[1, 0]), ValueError),
        (dict(validation_freq="2"), TypeError),
        (dict(validation_freq=[1.5]), TypeError),
        (dict(validation_freq=None), TypeError),
        (dict(steps_per_epoch=0), ValueError),
        (dict(steps_per_epoch=True), TypeError),
        (dict(steps_per_epoch=2.5), TypeError),
        (dict(validation_steps=0), ValueError),
        (dict(validation_batch_size=-3), ValueError),
        (dict(batch_size=0), ValueError),
        (dict(batch_size="8"), TypeError),
    ],
)
def test_fit_rejects_bad_loop_arguments(kwargs, error):
    x, y = regression()
    name, value = next(iter(kwargs.items()))
    with pytest.raises(error, match=f"`{name}`.*" + re.escape(f"Received: {name}={value!r}")):
        mlp().fit(x, y, verbose=0, validation_data=(x, y), **kwargs)


@pytest.mark.parametrize("call", ["evaluate", "predict"])
@pytest.mark.parametrize("kwargs, error", [(dict(steps=0), ValueError), (dict(steps=False), TypeError),
                                           (dict(batch_size=-1), ValueError), (dict(batch_size=1.0), TypeError)])
def test_evaluate_and_predict_reject_bad_loop_arguments(call, kwargs, error):
    x, y = regression()
    name = next(iter(kwargs))
    with pytest.raises(error, match=f"Received: {name}="):
        if call == "evaluate":
            mlp().evaluate(x, y, verbose=0, **kwargs)
        else:
            mlp().predict(x, verbose=0, **kwargs)


def test_fit_accepts_numpy_ints_and_collections():
    x, y = regression()
    history = mlp().fit(x, y, epochs=np.int64(4), initial_epoch=np.int32(1), batch_size=np.int64(10),
                        steps_per_epoch=np.int16(2), validation_data=(x, y), validation_freq=range(2, 4), verbose=0)
    assert history.epoch == [1, 2, 3] and len(history.history["val_loss"]) == 2
    history = mlp().fit(x, y, epochs=3, validation_data=(x, y), validation_freq={np.int64(3)}, verbose=0)
    assert len(history.history["val_loss"]) == 1
    assert mlp().fit(x, y, epochs=0, verbose=0).epoch == []
