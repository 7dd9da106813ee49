"""Keras 3's image preprocessing layers `Resizing`, `CenterCrop` and `RandomFlip` against Keras 3
(the deterministic ones value for value; RandomFlip by what each image may become)."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import numpy as np
import pytest

import fkeras as fk

RNG = np.random.RandomState(0)
IMAGES = RNG.uniform(0, 255, (3, 10, 7, 3)).astype("float32")


@pytest.fixture(scope="module")
def keras3():
    return pytest.importorskip("keras")


RESIZING = [
    dict(height=5, width=4),
    dict(height=16, width=9, interpolation="bicubic"),
    dict(height=4, width=4, interpolation="nearest", crop_to_aspect_ratio=True),
    dict(height=6, width=12, pad_to_aspect_ratio=True, fill_value=7.0),
    dict(height=3, width=2, antialias=True, interpolation="lanczos3"),
    dict(height=5, width=5, crop_to_aspect_ratio=True, data_format="channels_first"),
]


@pytest.mark.parametrize(
    "kwargs", RESIZING, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items())
)
def test_resizing_matches_keras(keras3, kwargs):
    x = IMAGES.transpose(0, 3, 1, 2) if kwargs.get("data_format") == "channels_first" else IMAGES
    ours, theirs = fk.layers.Resizing(**kwargs), keras3.layers.Resizing(**kwargs)
    for data in (x, x[0]):  # a batch and one image
        np.testing.assert_allclose(ours(data), np.asarray(theirs(data)), rtol=1e-5, atol=1e-3)
    assert fk.layers.Resizing.from_config(ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize(
    "size", [(4, 3), (10, 7), (12, 5), (20, 20)], ids=["crop", "same", "taller", "larger"]
)
def test_center_crop_matches_keras(keras3, size):
    ours, theirs = fk.layers.CenterCrop(*size), keras3.layers.CenterCrop(*size)
    np.testing.assert_allclose(ours(IMAGES), np.asarray(theirs(IMAGES)), rtol=1e-5, atol=1e-3)
    inputs = fk.Input((10, 7, 3))
    model = fk.Model(inputs, fk.layers.CenterCrop(*size)(inputs))
    assert model.output_shape == (None, *size, 3)
    np.testing.assert_allclose(model.predict(IMAGES, verbose=0), ours(IMAGES), rtol=1e-6)


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_flips_some_images_while_training_only(mode):
    layer = fk.layers.RandomFlip(mode)
    batch = RNG.uniform(size=(64, 4, 5, 2)).astype("float32")
    np.testing.assert_array_equal(layer(batch), batch)  # inference: unchanged
    flipped = batch
    if mode != "vertical":
        flipped = flipped[:, :, ::-1]
    if mode != "horizontal":
        flipped = flipped[:, ::-1]
    out = np.asarray(layer.apply({}, batch, training=True, rng=jax.random.key(1))[0])
    same = np.all(out == batch, axis=(1, 2, 3))
    turned = np.all(out == flipped, axis=(1, 2, 3))
    assert np.all(same | turned) and 10 < turned.sum() < 54  # each image one or the other
    again = layer.apply({}, batch, training=True, rng=jax.random.key(1))[0]
    np.testing.assert_array_equal(out, again)  # the rng decides


def test_augmentation_inside_a_model_trains(keras3):
    def layers(k):
        return [
            k.Input((10, 7, 3)), k.layers.RandomFlip("horizontal"), k.layers.Resizing(6, 6),
            k.layers.Rescaling(1 / 255), k.layers.Flatten(),
            k.layers.Dense(2, activation="softmax"),
        ]  # fmt: skip

    model = fk.Sequential(layers(fk))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(IMAGES, np.array([0, 1, 0]), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    theirs = keras3.Sequential(layers(keras3))
    theirs.set_weights(model.get_weights())
    np.testing.assert_allclose(
        model.predict(IMAGES, verbose=0), theirs.predict(IMAGES, verbose=0), rtol=1e-5
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fk.layers.Resizing(0, 3), "`height` must be a positive integer"),
        (lambda: fk.layers.Resizing(3, 3, interpolation="area"), "`interpolation` must be one of"),
        (lambda: fk.layers.Resizing(3, 3, fill_mode="reflect"), "fill_mode='constant'"),
        (
            lambda: fk.layers.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
            "only one of",
        ),
        (lambda: fk.layers.CenterCrop(2, 2.5), "`width` must be a positive integer"),
        (lambda: fk.layers.RandomFlip("diagonal"), "`mode` must be one of"),
        (lambda: fk.layers.Resizing(3, 3)(np.zeros((4, 5))), "expects images of rank 3"),
        (lambda: fk.layers.CenterCrop(3, 3)(fk.Input((4,))), "expects images of rank 3"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
