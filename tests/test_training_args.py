"""Every fit/evaluate/predict argument has a behavioural test; generators and Sequences; the
seed's fit_generator example (003) with a real file-reading generator."""

import math
import threading
import warnings

import numpy as np
import pytest

import fkeras
from fkeras import layers as L
from fkeras.models import Model, Sequential
from fkeras.utils import Sequence


def mlp(d=4, classes=3):
    model = Sequential([L.Dense(8, activation="relu", input_dim=d), L.Dense(classes, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=40, d=4, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, d).astype("float32"), np.eye(classes, dtype="float32")[rng.randint(classes, size=n)]


class Batches(Sequence):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0
        self.seen = []
        self.threads = set()

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        self.seen.append(i)
        self.threads.add(threading.get_ident())
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_class_weight_scales_the_loss():
    x, y = data()
    model = mlp()
    base = model.evaluate(x, y, verbose=0)[0]
    start = model.get_weights()
    weights = {0: 2.0, 1: 2.0, 2: 2.0}
    h = model.fit(x, y, class_weight=weights, epochs=1, batch_size=40, verbose=0, shuffle=False)
    # one full-batch step: the logged loss is computed before the update, scaled by 2
    assert h.history["loss"][0] == pytest.approx(2 * base, rel=1e-5)
    model.set_weights(start)
    h_one = mlp()
    h_one.set_weights(start)
    plain = h_one.fit(x, y, epochs=1, batch_size=40, verbose=0, shuffle=False)
    assert plain.history["loss"][0] == pytest.approx(base, rel=1e-5)


def test_sample_weight_one_d_zeroes_samples():
    x, y = data()
    model = mlp()
    sw = np.zeros(40, "float32")
    sw[:10] = 1.0
    full = model.evaluate(x[:10], y[:10], verbose=0, batch_size=40)[0]
    weighted = model.evaluate(x, y, sample_weight=sw, verbose=0, batch_size=40)[0]
    assert weighted == pytest.approx(full * 10 / 40, rel=1e-5)  # sum over weighted / batch size


def test_temporal_sample_weight():
    model = Sequential([L.Dense(2, input_shape=(5, 3))])
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    x = np.random.rand(6, 5, 3).astype("float32")
    y = np.random.rand(6, 5, 2).astype("float32")
    sw = np.zeros((6, 5), "float32")
    sw[:, 0] = 1.0
    pred = model.predict(x, verbose=0)
    expected = np.mean(np.mean((pred - y) ** 2, axis=-1) * sw)
    assert model.evaluate(x, y, sample_weight=sw, verbose=0) == pytest.approx(float(expected), rel=1e-5)


def test_validation_split_takes_the_last_samples():
    x, y = data(50)
    model = mlp()
    start = model.get_weights()
    h = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0, shuffle=False)
    trained = model.get_weights()
    model.set_weights(trained)
    assert h.history["val_loss"][0] == pytest.approx(model.evaluate(x[40:], y[40:], verbose=0)[0], rel=1e-5)
    del start


def test_initial_epoch_and_epochs():
    x, y = data()
    h = mlp().fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert h.epoch == [3, 4] and len(h.history["loss"]) == 2


def test_shuffle_modes():
    x, y = data(64)
    results = {}
    for shuffle in (False, True, "batch"):
        fkeras.utils.set_random_seed(0)
        model = mlp()
        model.fit(x, y, epochs=2, batch_size=16, shuffle=shuffle, verbose=0)
        results[str(shuffle)] = model.get_weights()[0]
    assert not np.allclose(results["False"], results["True"])
    assert not np.allclose(results["False"], results["batch"])
    with pytest.raises(ValueError, match="shuffle"):
        mlp().fit(x, y, shuffle="sometimes", verbose=0)


def test_steps_per_epoch_and_steps_with_arrays():
    x, y = data(64)
    model = mlp()
    seen = []
    cb = fkeras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    model.fit(x, y, batch_size=16, steps_per_epoch=2, epochs=1, verbose=0, callbacks=[cb])
    assert seen == [0, 1]
    assert model.predict(x, batch_size=16, steps=2, verbose=0).shape == (32, 3)
    part = model.evaluate(x, y, batch_size=16, steps=1, verbose=0)
    np.testing.assert_allclose(part, model.evaluate(x[:16], y[:16], verbose=0), rtol=1e-5)


def test_validation_freq_and_batch_size():
    x, y = data()
    h = mlp().fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2, validation_batch_size=7, verbose=0)
    assert len(h.history["val_loss"]) == 2 and len(h.history["loss"]) == 4


def test_train_on_batch_reset_metrics_and_return_dict():
    x, y = data(8)
    model = mlp()
    first = model.train_on_batch(x[:4], y[:4], return_dict=True)
    assert set(first) == {"loss", "accuracy"}
    second = model.train_on_batch(x[4:], y[4:], reset_metrics=False, return_dict=True)
    alone = mlp()
    alone.set_weights(model.get_weights())
    model.reset_metrics()
    third = model.train_on_batch(x[4:], y[4:], reset_metrics=False, return_dict=True)
    # after reset_metrics the logged loss is this batch's alone; before, a running mean
    assert third["loss"] != pytest.approx(second["loss"])
    assert alone.test_on_batch(x[4:], y[4:], return_dict=True)["loss"] == pytest.approx(third["loss"], rel=1e-5)
    assert isinstance(model.test_on_batch(x, y), list)
    assert model.predict_on_batch(x).shape == (8, 3)


def test_stop_training_from_a_callback():
    x, y = data()

    class StopAt(fkeras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    h = mlp().fit(x, y, epochs=10, verbose=0, callbacks=[StopAt()])
    assert h.epoch == [0, 1]


def test_terminate_on_nan_stops_cleanly():
    x, y = data()
    x[5, 0] = np.nan
    h = mlp().fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False, callbacks=[fkeras.callbacks.TerminateOnNaN()])
    assert len(h.epoch) == 1 and np.isnan(h.history["loss"][0])


# ---- generators and Sequences ------------------------------------------------------------

def test_fit_on_sequence_calls_on_epoch_end_and_shuffles_indices():
    x, y = data(40)
    seq = Batches(x, y, 8)
    model = mlp()
    h = model.fit(seq, epochs=3, verbose=0, shuffle=True)
    assert seq.epochs_ended == 3 and len(h.history["loss"]) == 3
    assert sorted(seq.seen[:5]) == [0, 1, 2, 3, 4] and seq.seen[:5] != [0, 1, 2, 3, 4] or seq.seen[5:10] != [0, 1, 2, 3, 4]
    seq.seen.clear()
    model.fit(seq, epochs=1, verbose=0, shuffle=False)
    assert seq.seen == [0, 1, 2, 3, 4]


def test_sequence_matches_arrays_and_uses_workers():
    x, y = data(40)
    model_a, model_b = mlp(), mlp()
    model_b.set_weights(model_a.get_weights())
    ha = model_a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    seq = Batches(x, y, 8)
    hb = model_b.fit(seq, epochs=2, shuffle=False, verbose=0, workers=3, max_queue_size=4)
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-5)
    assert len(seq.threads) >= 1
    np.testing.assert_allclose(model_b.evaluate(seq, verbose=0), model_a.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(model_b.predict(seq, verbose=0), model_b.predict(x, verbose=0), rtol=1e-6)


def test_generator_needs_steps_and_right_structure():
    x, y = data(16)
    model = mlp()

    def gen():
        while True:
            yield x[:8], y[:8]

    with pytest.raises(ValueError, match="steps_per_epoch` is required"):
        model.fit(gen(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(gen(), steps_per_epoch=2, validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="do not pass `y`"):
        model.fit(gen(), y, steps_per_epoch=2, verbose=0)

    def bad():
        yield x[:8], y[:8]
        yield "oops"

    with pytest.raises(ValueError, match="Batch 1"):
        model.fit(bad(), steps_per_epoch=2, verbose=0)


def test_finite_generator_running_out_warns_and_stops():
    x, y = data(16)

    def two_batches():
        yield x[:8], y[:8]
        yield x[8:], y[8:]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = mlp().fit(two_batches(), steps_per_epoch=2, epochs=3, verbose=0)
    assert len(h.epoch) == 2 and any("ran out of data" in str(w.message) for w in caught)


def test_seed_fit_generator_reading_a_file(tmp_path):
    """Seed 003's example: a generator reading lines of a file, dict inputs and outputs."""
    path = tmp_path / "my_file.txt"
    rng = np.random.RandomState(0)
    path.write_text("\n".join(" ".join(f"{v:.4f}" for v in rng.rand(6)) for _ in range(12)))

    def process_line(line):
        values = np.array([float(v) for v in line.split()], "float32")
        return values[None, :3], values[None, 3:5], values[None, 5:]

    def generate_arrays_from_file(path):
        while 1:
            f = open(path)
            for line in f:
                # 从文件中的每一行生成输入数据和标签的numpy数组
                x1, x2, y = process_line(line)
                yield ({"input_1": x1, "input_2": x2}, {"output": y})
            f.close()

    in1, in2 = L.Input(shape=(3,), name="input_1"), L.Input(shape=(2,), name="input_2")
    merged = L.Dense(4, activation="relu")(in1)
    out = L.Dense(1, name="output")(L.Dense(4)(in2))
    model = Model([in1, in2], [L.Dense(1, name="aux")(merged), out])
    model.compile(optimizer="rmsprop", loss={"output": "mse", "aux": None})
    history = model.fit_generator(generate_arrays_from_file(str(path)), steps_per_epoch=20, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    score = model.evaluate_generator(generate_arrays_from_file(str(path)), steps=5)
    assert np.all(np.isfinite(score))
    preds = model.predict_generator(((b[0],) for b in generate_arrays_from_file(str(path))), steps=3)
    assert preds[1].shape == (3, 1)
