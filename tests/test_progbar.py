"""Progbar and ProgbarLogger against Keras 3's: the same bytes, and no per-step host reads."""

import contextlib
import io
import sys
import time
from collections.abc import Mapping
from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest

import fkeras.callbacks as fcb
from fkeras.utils._progbar import Progbar


class Clock:
    """A `time.time` replacement the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


def _values(step, kind):
    if kind == "floats":
        return [("loss", 1.0 / step), ("accuracy", 0.1 * step), ("tiny", 1e-4 * step)]
    if kind == "negative":
        return [("loss", -0.5 + 0.05 * step), ("zero", 0.0)]
    if kind == "float32":
        return [("loss", np.float32(0.3) * step), ("accuracy", np.array(0.25, np.float32))]
    if kind == "ints":
        return [("count", step)]
    if kind == "grow":  # A metric that appears only after the first steps.
        return [("loss", 0.5)] + ([("late", 2.0 * step)] if step > 2 else [])
    return None


# (target, verbose, dynamic, seconds per step, values kind, extra constructor kwargs)
SCENARIOS = {
    "v1_tty": (10, 1, True, 0.031, "floats", {}),
    "v1_file": (10, 1, False, 0.031, "floats", {}),
    "v1_fast_us": (7, 1, True, 0.00002, "floats", {"interval": 0.0}),
    "v1_slow_s": (5, 1, True, 2.5, "floats", {}),
    "v1_eta_minutes": (100, 1, True, 1.7, "floats", {}),
    "v1_eta_hours": (3000, 1, True, 1.9, "float32", {}),
    "v1_negative": (6, 1, True, 0.07, "negative", {}),
    "v1_float32": (6, 1, False, 0.07, "float32", {}),
    "v1_ints": (4, 1, True, 0.2, "ints", {}),
    "v1_grow": (6, 1, True, 0.2, "grow", {}),
    "v1_no_values": (5, 1, True, 0.2, None, {}),
    "v1_unknown_target": (None, 1, True, 0.2, "floats", {}),
    "v1_stateful": (8, 1, True, 0.06, "floats", {"stateful_metrics": ["loss"]}),
    "v1_stateless_only": (8, 1, True, 0.06, "floats", {"stateless_metrics": ["accuracy"]}),
    "v1_width_unit": (9, 1, False, 0.06, "floats", {"width": 7, "unit_name": "sample"}),
    "v2": (10, 2, True, 0.031, "floats", {}),
    "v2_negative": (6, 2, False, 0.07, "negative", {}),
    "v2_unknown_target": (None, 2, True, 0.2, "floats", {}),
    "v0": (5, 0, True, 0.2, "floats", {}),
}


def _drive(cls, clock, target, verbose, dynamic, dt, kind, kwargs, steps=None):
    """Runs one bar through `steps` (default `target`) updates and a final one; returns stdout."""
    steps = steps or target or 6
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        clock.now = 1_000.0
        bar = cls(target, verbose=verbose, **kwargs)
        bar._dynamic_display = dynamic
        for step in range(1, steps + 1):
            clock.now += dt
            bar.update(step, _values(step, kind))
        if target is None:
            clock.now += dt
            bar.update(steps, _values(steps, kind), finalize=True)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_output_matches_keras(keras3, clock, name):
    target, verbose, dynamic, dt, kind, kwargs = SCENARIOS[name]
    expected = _drive(keras3.utils.Progbar, clock, target, verbose, dynamic, dt, kind, kwargs)
    got = _drive(Progbar, clock, target, verbose, dynamic, dt, kind, kwargs)
    assert got == expected
    # The scenario printed something to compare (verbose 2 prints nothing without a target).
    assert bool(got) == (verbose == 1 or (verbose == 2 and target is not None))


def test_jumps_and_repeated_steps_match_keras(keras3, clock):
    """Several steps per update (fused steps), a repeated step, and an early finalize."""

    def run(cls):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            clock.now = 0.0
            bar = cls(20, verbose=1)
            for step, dt in [(1, 0.5), (1, 0.1), (5, 0.3), (12, 0.01), (13, 0.2), (17, 0.4)]:
                clock.now += dt
                bar.update(step, [("loss", step / 7.0)])
            clock.now += 0.1
            bar.update(17, [("loss", 0.25)], finalize=True)
        return out.getvalue()

    assert run(Progbar) == run(keras3.utils.Progbar)


def test_add_matches_keras(keras3, clock):
    def run(cls):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            clock.now = 0.0
            bar = cls(12, verbose=1, interval=0.0)
            for n in (1, 3, 4, 4):
                clock.now += 0.25
                bar.add(n, [("loss", 1.0 / n)])
        return out.getvalue()

    assert run(Progbar) == run(keras3.utils.Progbar)


@pytest.mark.parametrize("remove_posix", [False, True])
def test_display_mode_detection_matches_keras(keras3, monkeypatch, capsys, remove_posix):
    # capsys: stdout is not a terminal. Keras also looks at `posix` in sys.modules (always there
    # on Linux); without it the bar falls back to one line per update.
    if remove_posix:
        monkeypatch.delitem(sys.modules, "posix", raising=False)
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    expected = keras3.utils.Progbar(3)._dynamic_display
    assert Progbar(3)._dynamic_display == expected
    assert expected is (not remove_posix)


class CountingValue:
    """A device-array stand-in that counts how often it is read as a number."""

    reads = 0

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        CountingValue.reads += 1
        return self.value


class LazyLogs(Mapping):
    """A read-only mapping that counts value reads, like the engine's lazy step logs."""

    def __init__(self, values):
        self._values = values
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


@pytest.mark.parametrize("stateful", [True, False])
def test_values_are_read_only_when_printing(clock, capsys, stateful):
    CountingValue.reads = 0
    kwargs = {"stateful_metrics": ["loss"]} if stateful else {}
    clock.now = 0.0
    bar = Progbar(100, verbose=1, interval=1.0, **kwargs)
    clock.now = 5.0
    bar.update(1, [("loss", CountingValue(0.5))])  # First update always prints.
    assert CountingValue.reads == 1
    for step in range(2, 50):  # All within the display interval: nothing printed, nothing read.
        clock.now += 0.01
        bar.update(step, [("loss", CountingValue(0.5))])
    assert CountingValue.reads == 1
    assert capsys.readouterr().out.count("loss") == 1
    clock.now += 1.0
    bar.update(50, [("loss", CountingValue(0.25))])  # Interval passed: one line printed.
    # Stateful: only the newest value is read; stateless: every pending step enters the average.
    assert CountingValue.reads == (2 if stateful else 50)
    expected = 0.25 if stateful else (0.5 * 49 + 0.25) / 50
    assert f"loss: {expected:.4f}" in capsys.readouterr().out


def test_verbose2_reads_only_at_finalize(clock, capsys):
    CountingValue.reads = 0
    bar = Progbar(30, verbose=2, stateful_metrics=["loss"])
    for step in range(1, 30):
        bar.update(step, [("loss", CountingValue(1.0))])
    assert CountingValue.reads == 0 and capsys.readouterr().out == ""
    bar.update(30, [("loss", CountingValue(2.0))])
    assert CountingValue.reads == 1
    assert "loss: 2.0000" in capsys.readouterr().out


def test_lazy_mapping_is_read_at_print_time(clock, capsys):
    bar = Progbar(10, verbose=1, interval=1.0, stateless_metrics=())
    clock.now += 5.0
    first = LazyLogs({"accuracy": 0.5, "loss": 1.5})
    bar.update(1, first)
    assert first.reads == 2
    pending = [LazyLogs({"accuracy": 0.1 * i, "loss": 1.0 / i}) for i in range(2, 9)]
    for step, logs in enumerate(pending, start=2):
        clock.now += 0.01
        bar.update(step, logs)
    assert sum(logs.reads for logs in pending) == 0
    clock.now += 2.0
    bar.update(10, LazyLogs({"accuracy": 0.75, "loss": 0.125}))
    assert sum(logs.reads for logs in pending) == 0  # Only the newest logs are shown.
    assert capsys.readouterr().out.endswith("accuracy: 0.7500 - loss: 0.1250\n")


def test_jax_values_match_float_values(keras3, clock):
    """JAX 0-d arrays display as Keras displays the same numbers (float32 arithmetic)."""
    steps = [0.731, 0.5112, 0.40017, 0.333, 0.2]

    def run(cls, convert):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            clock.now = 0.0
            bar = cls(len(steps), verbose=1, interval=0.0)
            for i, value in enumerate(steps, start=1):
                clock.now += 0.1
                bar.update(i, [("loss", convert(value))])
        return out.getvalue()

    expected = run(keras3.utils.Progbar, np.float32)
    assert run(Progbar, lambda v: jnp.asarray(v, jnp.float32)) == expected


def test_both_metric_lists_raise():
    with pytest.raises(ValueError, match="stateful_metrics=.*stateless_metrics="):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


@pytest.fixture
def sync_keras(keras3, monkeypatch):
    """Keras dispatches batch-end hooks on a thread pool; run them inline to compare outputs."""
    from keras.src import backend

    monkeypatch.setattr(backend, "IS_THREAD_SAFE", False)
    return keras3


def _captured(fn, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn(*args)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# ProgbarLogger through CallbackList, against Keras's


def _fit_like(module, clock, verbose, epochs, steps, validation, known_steps=True):
    model = SimpleNamespace()
    callbacks = module.CallbackList(
        None,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps if known_steps else None,
    )
    clock.now = 100.0
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for batch in range(steps):
            clock.now += 0.013 * (batch + 1)
            callbacks.on_train_batch_begin(batch)
            callbacks.on_train_batch_end(
                batch, {"loss": 1.0 / (batch + epoch + 1), "accuracy": 0.1 * batch, "mae": 1e-5}
            )
        logs = {"loss": 0.5 / (epoch + 1), "accuracy": 0.3, "mae": 1e-5}
        if validation:
            callbacks.on_test_begin()
            for batch in range(2):
                callbacks.on_test_batch_end(batch, {"loss": 9.0})
            callbacks.on_test_end({"loss": 0.75})
            logs.update(val_loss=0.75, val_accuracy=0.2)
        clock.now += 0.2
        callbacks.on_epoch_end(epoch, logs)
    callbacks.on_train_end(logs)


def _evaluate_like(module, clock, verbose, steps):
    callbacks = module.CallbackList(
        None, add_progbar=True, model=SimpleNamespace(), verbose=verbose, epochs=1, steps=steps
    )
    clock.now = 50.0
    callbacks.on_test_begin()
    for batch in range(steps):
        clock.now += 0.021
        callbacks.on_test_batch_begin(batch)
        callbacks.on_test_batch_end(batch, {"loss": 0.5 + batch, "accuracy": 0.5})
    callbacks.on_test_end({"loss": 2.5, "accuracy": 0.5})


def _predict_like(module, clock, verbose, steps):
    callbacks = module.CallbackList(
        None, add_progbar=True, model=SimpleNamespace(), verbose=verbose, epochs=1, steps=steps
    )
    clock.now = 10.0
    callbacks.on_predict_begin()
    for batch in range(steps):
        clock.now += 0.4
        callbacks.on_predict_batch_end(batch, {"outputs": np.zeros((2, 3))})
    callbacks.on_predict_end()


LOOPS = {
    "fit_v1": lambda m, c: _fit_like(m, c, 1, 3, 6, validation=False),
    "fit_v1_val": lambda m, c: _fit_like(m, c, 1, 2, 5, validation=True),
    "fit_v1_one_epoch": lambda m, c: _fit_like(m, c, 1, 1, 4, validation=True),
    "fit_v1_unknown_steps": lambda m, c: _fit_like(m, c, 1, 2, 5, False, known_steps=False),
    "fit_v2_val": lambda m, c: _fit_like(m, c, 2, 3, 5, validation=True),
    "fit_v2_unknown_steps": lambda m, c: _fit_like(m, c, 2, 2, 5, False, known_steps=False),
    "fit_v0": lambda m, c: _fit_like(m, c, 0, 2, 3, validation=True),
    "evaluate_v1": lambda m, c: _evaluate_like(m, c, 1, 12),
    "evaluate_v2": lambda m, c: _evaluate_like(m, c, 2, 12),
    "predict_v1": lambda m, c: _predict_like(m, c, 1, 3),
}


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_progbar_logger_output_matches_keras(sync_keras, clock, name):
    expected = _captured(LOOPS[name], sync_keras.callbacks, clock)
    got = _captured(LOOPS[name], fcb, clock)
    assert got == expected
    assert bool(got) == (not name.endswith("v0"))


def test_progbar_logger_rejects_bad_count_mode():
    with pytest.raises(ValueError, match="count_mode='epochs'"):
        fcb.ProgbarLogger(count_mode="epochs")
