"""Keras 3's numeric preprocessing layers, `Rescaling` and `Normalization` (with `adapt`), against
Keras 3: the same statistics and weights, the same outputs, inside models, saved and loaded."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import numpy as np
import pytest

import fkeras as fk

RNG = np.random.RandomState(0)
X2 = RNG.normal(3.0, 2.0, (50, 4)).astype("float32")
X3 = RNG.uniform(-5, 5, (20, 6, 3)).astype("float32")


@pytest.fixture(scope="module")
def keras3():
    return pytest.importorskip("keras")


@pytest.mark.parametrize(
    "axis, data",
    [(-1, X2), (None, X2), ((1, 2), X3), (1, X3)],
    ids=["features", "none", "two_axes", "middle"],
)
def test_adapt_matches_keras(keras3, axis, data):
    ours, theirs = fk.layers.Normalization(axis=axis), keras3.layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours(data[:5]), np.asarray(theirs(data[:5])), rtol=1e-5, atol=1e-5)
    assert np.allclose(
        np.mean(np.asarray(ours(data)), axis=0 if axis == -1 else None), 0, atol=1e-4
    )


def test_adapt_on_batches_combines_their_statistics():
    # (Keras 3 adapts an iterable only with TensorFlow installed: checked against the whole array)
    ours = fk.layers.Normalization()
    ours.adapt([X2[:7], X2[7:30], X2[30:]])
    whole = fk.layers.Normalization()
    whole.adapt(X2)
    np.testing.assert_allclose(ours.get_weights()[0], whole.get_weights()[0], rtol=1e-5)
    np.testing.assert_allclose(ours.get_weights()[1], whole.get_weights()[1], rtol=1e-4)
    gen = fk.layers.Normalization()
    gen.adapt((X2[i : i + 10], None) for i in range(0, 50, 10))  # (x, y) pairs: x is used
    np.testing.assert_allclose(gen.get_weights()[0], whole.get_weights()[0], rtol=1e-5)


@pytest.mark.parametrize("invert", [False, True])
def test_given_mean_and_variance_match_keras(keras3, invert):
    kwargs = dict(
        axis=(1, 2), mean=np.arange(3.0), variance=np.array([1.0, 4.0, 9.0]), invert=invert
    )
    ours, theirs = fk.layers.Normalization(**kwargs), keras3.layers.Normalization(**kwargs)
    np.testing.assert_allclose(ours(X3), np.asarray(theirs(X3)), rtol=1e-6, atol=1e-6)
    assert ours.get_weights() == [] and ours.get_config()["mean"] == [0.0, 1.0, 2.0]


def test_normalization_in_a_model_trains_loads_and_round_trips(keras3, tmp_path):
    def build(k):
        norm = k.layers.Normalization()
        norm.adapt(X2)
        inputs = k.Input((4,))
        model = k.Model(inputs, k.layers.Dense(1)(norm(inputs)))
        model.compile(optimizer="sgd", loss="mse")
        return model

    ours, theirs = build(fk), build(keras3)
    ours.set_weights(theirs.get_weights())
    y = X2[:, :1] * 0.5
    np.testing.assert_allclose(
        ours.predict(X2, verbose=0), theirs.predict(X2, verbose=0), rtol=1e-5, atol=1e-5
    )
    h_ours = ours.fit(X2, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit(X2, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-5)
    assert [w.name for w in ours.layers[1].weights] == ["mean", "variance", "count"]
    assert not ours.layers[1].trainable_weights  # training leaves the statistics alone
    np.testing.assert_allclose(ours.layers[1].get_weights()[0], X2.mean(0), rtol=1e-5)
    path = str(tmp_path / "norm.keras")
    ours.save(path)
    loaded = fk.models.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(X2, verbose=0), ours.predict(X2, verbose=0), rtol=1e-6
    )
    keras_loaded = keras3.models.load_model(path)
    np.testing.assert_allclose(
        keras_loaded.predict(X2, verbose=0), ours.predict(X2, verbose=0), rtol=1e-5
    )


def test_rescaling_matches_keras(keras3):
    images = RNG.randint(0, 256, (3, 5, 5, 3)).astype("uint8")
    for kwargs in (
        dict(scale=1 / 255),
        dict(scale=1 / 127.5, offset=-1),
        dict(scale=[0.5, 1.0, 2.0], offset=0.1),
    ):
        ours, theirs = fk.layers.Rescaling(**kwargs), keras3.layers.Rescaling(**kwargs)
        out = ours(images)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, np.asarray(theirs(images)), rtol=1e-6)
    inputs = fk.Input((5, 5, 3))
    model = fk.Model(inputs, fk.layers.Flatten()(fk.layers.Rescaling(1 / 255)(inputs)))
    np.testing.assert_allclose(
        model.predict(images, verbose=0), images.reshape(3, -1) / 255, rtol=1e-6
    )
    assert fk.layers.Rescaling.from_config(fk.layers.Rescaling(0.5, 2.0).get_config()).offset == 2.0


def test_pure_apply_under_jit_and_vmap():
    norm = fk.layers.Normalization()
    norm.adapt(X2)
    v = norm._current_variables()
    out = jax.jit(lambda v, x: norm.apply(v, x)[0])(v, X2)
    rows = jax.vmap(lambda x: norm.apply(v, x[None])[0][0])(X2)
    np.testing.assert_allclose(out, rows, rtol=1e-6)


def _adapted_then_called_on_other_features():
    norm = fk.layers.Normalization()
    norm.adapt(X2)
    norm(X3[:, 0])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fk.layers.Normalization(mean=1.0), ValueError, "both `mean` and `variance`"),
        (
            lambda: fk.layers.Normalization(mean=[1.0, 2.0], variance=[1.0]),
            ValueError,
            "same shape",
        ),
        (lambda: fk.layers.Normalization(axis="last"), TypeError, "`axis` must be an int"),
        (lambda: fk.layers.Normalization(axis=3).adapt(X2), ValueError, r"range \[-ndim, ndim\)"),
        (lambda: fk.layers.Normalization().adapt([]), ValueError, "empty iterable"),
        (lambda: fk.layers.Normalization().adapt(np.float32(3.0)), ValueError, "at least one axis"),
        (lambda: fk.layers.Normalization().adapt(3.0), TypeError, "Unsupported data type"),
        (lambda: fk.layers.Normalization().adapt([X2, X3[:, 0]]), ValueError, "built for inputs"),
        (
            lambda: fk.layers.Normalization(mean=0.0, variance=1.0).adapt(X2),
            ValueError,
            "nothing to adapt",
        ),
        (lambda: fk.layers.Rescaling("x"), TypeError, "`scale` must be a number"),
        (lambda: fk.layers.Rescaling(0.5, offset="1"), TypeError, "`offset` must be a number"),
        (
            lambda: fk.layers.Normalization(mean="0", variance="1"),
            TypeError,
            "`mean` must be a number",
        ),
        (lambda: fk.layers.Normalization(invert=np.zeros(2)), TypeError, "`invert` must be a bool"),
        (
            _adapted_then_called_on_other_features,
            ValueError,
            r"built for inputs of shape \(None, 4\)",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
