"""predict / predict_on_batch on one NumPy array that fits a batch skip the data adaptation once
the array's dtype and shape are known to be right: the same outputs as the full path, the same
errors for wrong data, and nothing stale after the model or its weights change."""

import numpy as np
import pytest

import fkeras
from fkeras.models._training import Trainer

L = fkeras.layers


@pytest.fixture()
def counted(monkeypatch):
    """Counts `_adapt_x` calls (the full path's data adaptation)."""
    calls = []
    adapt = Trainer._adapt_x

    def counting(self, x, what="x"):
        calls.append(what)
        return adapt(self, x, what)

    monkeypatch.setattr(Trainer, "_adapt_x", counting)
    return calls


def mlp(seed=0):
    fkeras.utils.set_random_seed(seed)
    return fkeras.Sequential([L.Dense(8, activation="tanh", input_shape=(5,)), L.Dense(2)])


def rows(n, dtype="float32", seed=0):
    return np.random.default_rng(seed).normal(size=(n, 5)).astype(dtype)


def test_short_path_matches_full_path_and_skips_adaptation(counted):
    model = mlp()
    x = rows(40)
    expected = model.predict([x], batch_size=40)  # a list: always the full path
    first = model.predict(x[:1])  # the full path, which notes the input
    assert len(counted) == 2
    for n in (1, 3, 7, 32):  # 3 and 7 are padded to 4 and 8 inside
        out = model.predict(x[:n])
        assert out.shape == (n, 2)
        np.testing.assert_allclose(out, expected[:n], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(model.predict_on_batch(x[:n]), expected[:n], rtol=1e-6, atol=1e-6)
    assert len(counted) == 2  # none of these adapted the data again
    np.testing.assert_array_equal(first, model.predict(x[:1]))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6, atol=1e-6)  # 40 > 32: full path
    assert len(counted) == 3
    np.testing.assert_allclose(model.predict(x[:8], batch_size=4), expected[:8], rtol=1e-6, atol=1e-6)
    assert len(counted) == 4  # more than one batch of 4: full path


def test_other_dtypes_and_bad_shapes_still_go_through_the_checks(counted):
    model = mlp()
    x = rows(4)
    model.predict(x)
    np.testing.assert_allclose(model.predict(x.astype("float64")), model.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected shape \(None, 5\).*shape \(4, 6\)"):
        model.predict(np.zeros((4, 6), "float32"))
    with pytest.raises(ValueError, match="shape"):
        model.predict_on_batch(np.zeros((4, 6), "float32"))
    with pytest.raises(ValueError, match="batch axis"):
        model.predict(np.float32(1.0)[()] + np.zeros((), "float32"))
    with pytest.raises(ValueError, match="batch_size"):
        model.predict(x, batch_size=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.predict(x, bogus=1)


def test_new_weights_and_new_layers_are_seen():
    model = mlp()
    x = rows(3)
    before = model.predict(x)
    model.set_weights([w * 2 for w in model.get_weights()])
    after = model.predict(x)
    assert not np.allclose(before, after)
    model.compile("sgd", "mse")
    model.fit(x, np.ones((3, 2), "float32"), epochs=2, verbose=0)
    np.testing.assert_allclose(model.predict(x), model.predict([x]), rtol=1e-6)
    assert not np.allclose(model.predict(x), after)
    model.add(L.Dense(4))  # a new graph: the noted input belongs to the old one
    assert model.predict(x).shape == (3, 4)
    model.pop()
    assert model.predict(x).shape == (3, 2)


def test_stateful_recurrent_state_carries_as_on_the_full_path():
    def stateful():
        fkeras.utils.set_random_seed(3)
        return fkeras.Sequential([L.SimpleRNN(4, stateful=True, batch_input_shape=(2, 3, 2)), L.Dense(1)])

    x = np.random.default_rng(1).normal(size=(2, 3, 2)).astype("float32")
    short, full = stateful(), stateful()
    short.set_weights(full.get_weights())
    got = [short.predict(x) for _ in range(3)]
    want = [full.predict([x]) for _ in range(3)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got[0], got[2])  # the state moved on


def test_multi_input_and_multi_output_models_keep_their_structure():
    a, b = L.Input((3,), name="a"), L.Input((2,), name="b")
    h = L.Concatenate()([a, b])
    model = fkeras.Model([a, b], {"p": L.Dense(1, name="p")(h), "q": L.Dense(2, name="q")(h)})
    xa, xb = np.ones((2, 3), "float32"), np.ones((2, 2), "float32")
    for _ in range(2):
        out = model.predict([xa, xb])
        assert set(out) == {"p", "q"} and out["q"].shape == (2, 2)
    single = fkeras.Model(a, [L.Dense(1)(a), L.Dense(2)(a)])
    for _ in range(2):
        out = single.predict(xa)
        assert isinstance(out, list) and [o.shape for o in out] == [(2, 1), (2, 2)]


def test_cached_variables_tree_follows_writes_from_everywhere():
    """A model caches the variables tree it composes; a write through another model sharing
    the layer, `Weight.assign` or a layer's `set_weights` must still reach its next predict."""
    shared = L.Dense(2, name="shared_dense")
    a, b = L.Input((5,)), L.Input((5,))
    trained = fkeras.Model(a, shared(a))
    reader = fkeras.Model(b, L.Activation("linear")(shared(b)))
    x = rows(4)
    before = reader.predict(x)
    trained.compile("sgd", "mse")
    trained.fit(x, np.ones((4, 2), "float32"), epochs=3, verbose=0)  # the engine's write-back
    np.testing.assert_allclose(reader.predict(x), trained.predict(x), rtol=1e-6)
    assert not np.allclose(reader.predict(x), before)
    shared.kernel.assign(np.zeros((5, 2), "float32"))
    np.testing.assert_allclose(reader.predict(x), np.broadcast_to(shared.get_weights()[1], (4, 2)), rtol=1e-6)
    shared.set_weights([np.ones((5, 2), "float32"), np.zeros(2, "float32")])
    np.testing.assert_allclose(reader.predict(x), x.sum(axis=1, keepdims=True).repeat(2, axis=1), rtol=1e-5)
    tree = reader.get_variables()
    tree["params"].clear()  # the caller's copy: the model's cached tree is not touched
    assert reader.get_variables()["params"]
