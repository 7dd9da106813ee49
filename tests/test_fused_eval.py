"""evaluate over host arrays runs chunks of full batches as one scanned dispatch: the same numbers
and batch logs as batch by batch, and no new compilation for a new number of samples."""

import jax
import numpy as np
import pytest

import fkeras
from fkeras.models import _inference

L = fkeras.layers


class BatchLogs(fkeras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_test_batch_begin(self, batch, logs=None):
        self.seen.append(("begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.seen.append(("end", batch, dict(logs)))


@pytest.fixture(scope="module")
def two_output_model():
    fkeras.utils.set_random_seed(1)
    a = L.Input((12,))
    h = L.Dense(16, activation="relu")(a)
    out1 = L.Dense(1, activation="sigmoid", name="p")(h)
    out2 = L.Dense(3, activation="softmax", name="c")(h)
    model = fkeras.Model(a, [out1, out2])
    model.compile(
        "adam", ["binary_crossentropy", "categorical_crossentropy"], loss_weights=[1.0, 0.5],
        metrics=[["accuracy", "AUC"], ["accuracy"]], weighted_metrics=[["mae"], []],
    )
    return model


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)).astype("float32")
    y1 = (x[:, :1] > 0).astype("float32")
    y2 = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    sw = rng.uniform(0.1, 1, size=n).astype("float32")
    return x, [y1, y2], sw


def evaluate(model, monkeypatch, chunk, n, **kwargs):
    monkeypatch.setattr(_inference, "_EVAL_CHUNK_BATCHES", chunk)
    x, y, sw = data(n)
    logs = BatchLogs()
    result = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True, callbacks=[logs], **kwargs)
    return result, logs.seen


@pytest.mark.parametrize("n, batch_size, steps", [(1000, 16, None), (517, 8, None), (517, 8, 40), (64, 32, None)])
def test_chunked_evaluate_matches_batch_by_batch(two_output_model, monkeypatch, n, batch_size, steps):
    fused, fused_seen = evaluate(two_output_model, monkeypatch, 8, n, batch_size=batch_size, steps=steps)
    plain, plain_seen = evaluate(two_output_model, monkeypatch, 1, n, batch_size=batch_size, steps=steps)
    assert fused.keys() == plain.keys()
    for name in plain:
        np.testing.assert_allclose(fused[name], plain[name], rtol=2e-6, atol=1e-7, err_msg=name)
    # every batch's hooks, in order, with the running metrics after that batch
    assert [e[:2] for e in fused_seen] == [e[:2] for e in plain_seen]
    expected_batches = -(-min(n, (steps or n) * batch_size) // batch_size)
    assert len(plain_seen) == 2 * expected_batches
    for f, p in zip(fused_seen, plain_seen):
        if f[0] == "end":
            assert f[2].keys() == p[2].keys()
            for name in p[2]:
                np.testing.assert_allclose(f[2][name], p[2][name], rtol=2e-6, atol=1e-7, err_msg=f"{f[1]} {name}")


def compiles_after_warm_up(run) -> list:
    """XLA compilations of `run(n)` for new sample counts, after warm-up calls whose partial
    batches cover the padded sizes 16, 8 and 1 (batch 16)."""
    compiles = []
    listener = lambda name, *_, **__: compiles.append(name) if name == "/jax/core/compile/backend_compile_duration" else None  # noqa: E731
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        for n in (300, 85, 33):  # chunks, single full batches, partial batches
            run(n)
        before = len(compiles)
        for n in (277, 150, 200, 49, 61, 16):
            run(n)
        return compiles[before:]
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def test_a_new_number_of_samples_compiles_nothing_new(two_output_model, monkeypatch):
    monkeypatch.setattr(_inference, "_EVAL_CHUNK_BATCHES", 4)
    x, y, _ = data(300)
    assert compiles_after_warm_up(
        lambda n: two_output_model.evaluate(x[:n], [a[:n] for a in y], batch_size=16, verbose=0)
    ) == []


def test_the_chunk_is_bounded_by_bytes():
    small = [[np.zeros((10, 100), np.float32)], [np.zeros((10, 1), np.float32)], [None]]
    assert _inference._eval_chunk(small, 32) == _inference._EVAL_CHUNK_BATCHES
    images = [[np.zeros((2, 224, 224, 3), np.float32)], [np.zeros((2, 10), np.float32)], [None]]
    assert _inference._eval_chunk(images, 64) == 1  # 38 MB per batch: one batch per dispatch
    assert 1 < _inference._eval_chunk(images, 4) < _inference._EVAL_CHUNK_BATCHES


# ---- predict --------------------------------------------------------------------------------


@pytest.mark.parametrize("n, batch_size", [(1000, 16), (517, 8), (20, 8)])
def test_chunked_predict_matches_batch_by_batch(two_output_model, monkeypatch, n, batch_size):
    x, _, _ = data(n, seed=3)
    monkeypatch.setattr(_inference, "_EVAL_CHUNK_BATCHES", 8)
    fused = two_output_model.predict(x, batch_size=batch_size)
    monkeypatch.setattr(_inference, "_EVAL_CHUNK_BATCHES", 1)
    plain = two_output_model.predict(x, batch_size=batch_size)
    assert [a.shape for a in fused] == [(n, 1), (n, 3)] == [a.shape for a in plain]
    for f, p in zip(fused, plain):
        np.testing.assert_allclose(f, p, rtol=1e-6, atol=1e-7)


def test_chunked_predict_carries_a_stateful_rnn_state(monkeypatch):
    fkeras.utils.set_random_seed(2)
    model = fkeras.Sequential([
        L.Input(batch_shape=(4, 3, 2)), L.LSTM(5, stateful=True), L.Dense(1),
    ])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(40, 3, 2)).astype("float32")
    results = []
    for chunk in (4, 1):
        monkeypatch.setattr(_inference, "_EVAL_CHUNK_BATCHES", chunk)
        model.reset_states()
        first = model.predict(x, batch_size=4)
        second = model.predict(x, batch_size=4)  # continues from the state the first left
        results.append((first, second))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, atol=1e-7)
    assert not np.allclose(results[0][0], results[0][1])  # the state did carry over


def test_predict_on_a_new_number_of_samples_compiles_nothing_new(two_output_model, monkeypatch):
    monkeypatch.setattr(_inference, "_EVAL_CHUNK_BATCHES", 4)
    x, _, _ = data(300)

    def run(n):
        assert two_output_model.predict(x[:n], batch_size=16)[0].shape == (n, 1)

    assert compiles_after_warm_up(run) == []
