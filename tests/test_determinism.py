"""`fkeras.utils.set_random_seed` makes a run reproducible (fkeras issue 11, part 4): weight
initialization, dropout masks, shuffling, `validation_split` and the History; other seeds differ."""

import jax
import numpy as np
import pytest

import fkeras
from fkeras.models import _batching
from fkeras.utils._sequence import Sequence

L = fkeras.layers


def data(n=48, d=5):
    rng = np.random.default_rng(0)  # the data is fixed; only the seed under test varies
    x = rng.normal(size=(n, d)).astype("float32")
    return x, (x[:, :2].sum(1, keepdims=True) > 0).astype("float32")


def build(d=5):
    model = fkeras.Sequential([L.Input((d,)), L.Dense(8, activation="relu"), L.Dropout(0.5), L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def run(seed, monkeypatch, shuffle=True):
    """Everything random in a short training run, after `set_random_seed(seed)`."""
    orders = []
    real_order = _batching.epoch_order

    def spy(*args, **kwargs):
        orders.append(real_order(*args, **kwargs))
        return orders[-1]

    monkeypatch.setattr(_batching, "epoch_order", spy)
    x, y = data()
    fkeras.utils.set_random_seed(seed)
    model = build()
    init = model.get_weights()
    masked = np.asarray(model(x, training=True))  # dropout in training mode
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=shuffle, validation_split=0.25, verbose=0)
    monkeypatch.setattr(_batching, "epoch_order", real_order)
    return dict(init=init, masked=masked, orders=orders, history=history.history, final=model.get_weights())


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_the_same_seed_reproduces_every_random_choice(monkeypatch):
    first, second = run(7, monkeypatch), run(7, monkeypatch)
    for key in first:
        assert same(first[key], second[key]), key
    assert len(first["orders"]) == 3
    # every epoch has its own shuffle, of the 36 training samples (the last 12 validate)
    assert sorted(first["orders"][0].tolist()) == list(range(36))
    assert not np.array_equal(first["orders"][0], first["orders"][1])
    assert set(first["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_other_seeds_give_other_runs(monkeypatch):
    first, other = run(7, monkeypatch), run(8, monkeypatch)
    for key in first:
        assert not same(first[key], other[key]), key


def test_shuffle_follows_the_training_key_not_numpy_global_state(monkeypatch):
    """The shuffle derives from the training key (saved in checkpoints), so a resumed run and
    unrelated uses of `np.random` cannot change it."""
    x, y = data()
    results = []
    for disturb in (False, True):
        fkeras.utils.set_random_seed(3)
        model = build()
        if disturb:
            np.random.permutation(1000)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        results.append(model.get_weights())
    assert same(results[0], results[1])
    unshuffled = run(7, monkeypatch, shuffle=False)["orders"]
    assert all(np.array_equal(order, np.arange(36)) for order in unshuffled)


def test_epoch_keys_are_kept_on_the_host_and_read_from_the_device_once(monkeypatch):
    """`fit` reads the training key from the device only when it starts from a key it did not
    leave itself; each later epoch's key is `next_epoch_words` of the one before (drawn while the
    device runs), its shuffle is drawn from it, and the last epoch leaves the next key in the
    training state, which checkpoints save."""
    from fkeras import _random
    from fkeras.saving import _compile_state

    device_reads, drawn = [], []
    real_words, real_streams = _random.key_words, _random.epoch_streams

    def words_spy(key):
        words = real_words(key)
        if not isinstance(key, np.ndarray):
            device_reads.append(words)
        return words

    def streams_spy(words):
        if not drawn or not np.array_equal(drawn[-1], words):
            drawn.append(np.array(words))
        return real_streams(words)

    monkeypatch.setattr(_random, "key_words", words_spy)
    monkeypatch.setattr(_random, "epoch_streams", streams_spy)
    x, y = data()
    fkeras.utils.set_random_seed(3)
    model = build()
    model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # continues from the key the first left
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # another shuffle of the same epoch key
    assert len(device_reads) == 1
    chain = [device_reads[0]]
    for _ in range(6):
        chain.append(real_streams(chain[-1])[0])  # next_epoch_words, without the spy
    # the keys of epochs 1-6, and at each epoch's end the next one's
    assert len(drawn) == 7 and all(np.array_equal(d, c) for d, c in zip(drawn, chain))
    saved, _ = _compile_state.train_rng(model)
    np.testing.assert_array_equal(saved, chain[6])
    # the shuffle is a function of the epoch key alone
    first = _batching.epoch_order(36, 8, True, chain[1])
    np.testing.assert_array_equal(first, _batching.epoch_order(36, 8, True, chain[1].copy()))
    assert not np.array_equal(first, _batching.epoch_order(36, 8, True, chain[2]))


def test_keras2_batch_shuffle_moves_whole_batches():
    key = jax.random.key(5)
    order = _batching.epoch_order(22, 4, "batch", key)
    chunks = order[:20].reshape(5, 4)
    assert all(np.array_equal(c, np.arange(c[0], c[0] + 4)) for c in chunks)
    assert not np.array_equal(order, np.arange(22)) and order[20:].tolist() == [20, 21]
    np.testing.assert_array_equal(order, _batching.epoch_order(22, 4, "batch", key))


class Indexed(Sequence):
    def __init__(self, x, y):
        self.x, self.y, self.seen = x, y, []

    def __len__(self):
        return 6

    def __getitem__(self, i):
        self.seen.append(i)
        return self.x[i * 8:(i + 1) * 8], self.y[i * 8:(i + 1) * 8]


def test_sequence_shuffling_and_generator_training_are_reproducible():
    x, y = data()
    runs = []
    for _ in range(2):
        fkeras.utils.set_random_seed(11)
        model, seq = build(), Indexed(x, y)
        history = model.fit(seq, epochs=2, shuffle=True, verbose=0)
        runs.append((seq.seen, history.history["loss"], model.get_weights()))
    assert same(runs[0], runs[1])
    assert runs[0][0][:6] != list(range(6))


@pytest.mark.parametrize("seed", ["1", 1.5, None, True])
def test_set_random_seed_takes_an_integer(seed):
    with pytest.raises(TypeError, match="Received: seed="):
        fkeras.utils.set_random_seed(seed)


def test_set_random_seed_accepts_numpy_integers():
    fkeras.utils.set_random_seed(np.int64(5))
    a = build().get_weights()
    fkeras.utils.set_random_seed(5)
    assert same(a, build().get_weights())


def test_epoch_streams_are_per_thread():
    """The shuffle generator is reused per thread (reseeding is cheaper than building one), so
    models trained in several threads at once must not disturb each other's orders."""
    import sys
    import threading

    from fkeras import _random

    keys = [np.array([i, 7 * i + 1], np.uint32) for i in range(8)]
    expected = [_batching.epoch_order(500, 10, True, k) for k in keys]
    failures = []

    def worker(offset):
        for r in range(150):
            i = (r + offset) % len(keys)
            next_words, generator = _random.epoch_streams(keys[i])
            if not np.array_equal(_batching.epoch_order(500, 10, True, generator), expected[i]):
                failures.append(i)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []


@pytest.mark.parametrize(
    "words, next_words, order",
    [
        ([1, 2], [656886845, 4140353834], [2, 0, 8, 7, 9, 4, 6, 5, 3, 1]),
        ([[3, 4, 5, 6]], [[2528569332, 2404103664, 2273654830, 3544067238]], [8, 9, 6, 1, 4, 7, 2, 5, 3, 0]),
    ],
)
def test_epoch_streams_are_pinned(words, next_words, order):
    """A fixed seed shuffles the same way in every fkeras version: the next key's words and the
    shuffle drawn from a key are pinned (values from the first release of the streams)."""
    from fkeras import _random

    got_words, generator = _random.epoch_streams(np.array(words, np.uint32))
    assert got_words.dtype == np.uint32 and got_words.shape == np.shape(words)
    assert got_words.tolist() == next_words
    assert generator.permutation(10).tolist() == order
