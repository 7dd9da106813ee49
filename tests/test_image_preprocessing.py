"""`fkeras.preprocessing.image` (Keras 2's ImageDataGenerator, its iterators and transforms) and
the image functions of `fkeras.utils`, against the copy Keras 3 keeps as
`keras.src.legacy.preprocessing.image` (and `keras.utils`' image functions): the same seeds give
the same batches."""

import os
import warnings

import numpy as np
import pytest

import fkeras as keras
import fkeras.compat
from fkeras.preprocessing import image
from fkeras.preprocessing.image import ImageDataGenerator

pytest.importorskip("scipy")
PIL = pytest.importorskip("PIL.Image")

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning"
)  # Keras calls scipy.ndimage.interpolation

RNG = np.random.RandomState(0)
X = RNG.uniform(0, 255, (10, 9, 7, 3)).astype("float32")
Y = np.arange(10) % 3


@pytest.fixture(scope="module")
def legacy():
    pytest.importorskip("keras")
    from keras.src.legacy.preprocessing import image as legacy_image

    return legacy_image


CONFIGS = {
    "affine": dict(
        rotation_range=30,
        width_shift_range=0.2,
        height_shift_range=0.1,
        shear_range=10,
        zoom_range=0.3,
        horizontal_flip=True,
        vertical_flip=True,
    ),
    "pixel_shift_lists": dict(width_shift_range=[1, 2], height_shift_range=2, fill_mode="wrap"),
    "constant_fill": dict(rotation_range=45, fill_mode="constant", cval=7.0, interpolation_order=0),
    "reflect_zoom_pair": dict(zoom_range=[0.5, 0.9], fill_mode="reflect"),
    "colour": dict(channel_shift_range=30.0, brightness_range=(0.5, 1.5), rescale=1 / 255),
    "samplewise": dict(samplewise_center=True, samplewise_std_normalization=True, rotation_range=5),
    "channels_first": dict(rotation_range=20, zoom_range=0.2, data_format="channels_first"),
    "preprocessing_function": dict(
        preprocessing_function=lambda a: a * 2.0 - 1.0, vertical_flip=True
    ),
}


def _data(cfg):
    return X.transpose(0, 3, 1, 2) if cfg.get("data_format") == "channels_first" else X


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_flow_batches_match_keras(legacy, name):
    cfg = CONFIGS[name]
    x = _data(cfg)
    ours = ImageDataGenerator(**cfg).flow(x, Y, batch_size=4, seed=3)
    theirs = legacy.ImageDataGenerator(**cfg).flow(x, Y, batch_size=4, seed=3)
    assert len(ours) == len(theirs) == 3
    for i in (0, 2):  # indexed, as fit reads a Sequence; the last batch is partial
        (xa, ya), (xb, yb) = ours[i], theirs[i]
        np.testing.assert_allclose(xa, xb, rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(ya, yb)
    ours.on_epoch_end()
    theirs.on_epoch_end()
    for _ in range(4):  # endless, as Keras 2's fit_generator and `for x, y in ...` read it
        (xa, ya), (xb, yb) = next(ours), next(theirs)
        np.testing.assert_allclose(xa, xb, rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize(
    "cfg",
    [
        dict(featurewise_center=True, featurewise_std_normalization=True, rescale=0.5),
        dict(zca_whitening=True, zca_epsilon=1e-3),
        dict(featurewise_std_normalization=True, data_format="channels_first"),
    ],
    ids=["featurewise", "zca", "channels_first"],
)
def test_fit_statistics_and_standardize_match_keras(legacy, cfg):
    x = _data(cfg)[:6, :, :5] if cfg.get("data_format") == "channels_first" else _data(cfg)[:6, :5]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = ImageDataGenerator(**cfg)
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        theirs = legacy.ImageDataGenerator(**cfg)
    assert len(caught) == len(expected)  # Keras's warnings where one option implies another
    for gen in (ours, theirs):
        gen.fit(x, augment=True, rounds=2, seed=4) if "rescale" in cfg else gen.fit(x)
    for attr in ("mean", "std", "zca_whitening_matrix"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        assert (a is None) == (b is None), attr
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(
        ours.standardize(x.copy()), theirs.standardize(x.copy()), rtol=2e-4, atol=1e-4
    )


def test_transform_functions_match_keras(legacy):
    img = X[0].transpose(2, 0, 1)  # the functions' default: channels first (channel_axis=0)
    calls = [
        ("random_rotation", (40,), {}),
        ("random_shift", (0.2, 0.3), {"fill_mode": "constant", "cval": 1.0}),
        ("random_shear", (20,), {"interpolation_order": 3}),
        ("random_zoom", ((0.6, 1.2),), {"fill_mode": "reflect"}),
        ("random_channel_shift", (40.0,), {}),
        ("random_brightness", ((0.3, 1.1),), {}),  # Pillow's: channels last
    ]
    for name, args, kwargs in calls:
        x = X[0] if name == "random_brightness" else img
        np.random.seed(11)
        a = getattr(image, name)(x.copy(), *args, **kwargs)
        np.random.seed(11)
        b = getattr(legacy, name)(x.copy(), *args, **kwargs)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4, err_msg=name)
    hwc = X[1]
    a = image.apply_affine_transform(
        hwc, theta=15, tx=1.5, zy=1.3, row_axis=0, col_axis=1, channel_axis=2
    )
    b = legacy.apply_affine_transform(
        hwc, theta=15, tx=1.5, zy=1.3, row_axis=0, col_axis=1, channel_axis=2
    )
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
    assert not np.allclose(a, hwc)  # the transform did something
    assert image.apply_affine_transform(hwc, row_axis=0, col_axis=1, channel_axis=2) is hwc


def test_flow_with_sample_weight_other_inputs_and_subset(legacy):
    w = np.linspace(0.1, 1.0, 10).astype("float32")
    misc = np.arange(20).reshape(10, 2)
    cfg = dict(validation_split=0.3, horizontal_flip=True)
    for subset in ("training", "validation"):
        ours = ImageDataGenerator(**cfg).flow(
            (X, misc), Y, sample_weight=w, batch_size=3, seed=1, subset=subset
        )
        theirs = legacy.ImageDataGenerator(**cfg).flow(
            (X, misc), Y, sample_weight=w, batch_size=3, seed=1, subset=subset
        )
        assert ours.n == theirs.n == (7 if subset == "training" else 3)
        (xa, ya, wa), (xb, yb, _) = ours[0], theirs[0]
        np.testing.assert_allclose(xa[0], xb[0], rtol=1e-6)
        np.testing.assert_array_equal(xa[1], xb[1])
        np.testing.assert_array_equal(ya, yb)
        # Keras slices x, y and the other inputs but not sample_weight, so a 'training' subset
        # reads the weights of other samples; here each sample keeps its own weight.
        split = slice(3, None) if subset == "training" else slice(None, 3)
        np.testing.assert_array_equal(wa, w[split][ours.index_array[:3]])
    only_x = ImageDataGenerator().flow(X, batch_size=4, shuffle=False)[0]
    np.testing.assert_array_equal(only_x, X[:4])


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """Two classes of small PNGs of different sizes, one in a nested folder."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.RandomState(5)
    for c, name in enumerate(["cats", "dogs"]):
        os.makedirs(root / name / "more")
        for i in range(3 + c):
            pixels = rng.randint(0, 256, (12 + i, 10 + 2 * i, 3)).astype("uint8")
            where = root / name / ("more" if i == 0 else "") / f"img{i}.png"
            PIL.fromarray(pixels).save(where)
        (root / name / "notes.txt").write_text("not an image")
    return str(root)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(class_mode="categorical", rotation=True),
        dict(class_mode="binary", color_mode="grayscale", interpolation="bilinear"),
        dict(class_mode="sparse", color_mode="rgba", keep_aspect_ratio=True),
        dict(class_mode="input"),
        dict(class_mode=None, subset="validation"),
        dict(class_mode="categorical", subset="training", classes=["dogs", "cats"]),
    ],
    ids=[
        "categorical",
        "binary_grey",
        "sparse_rgba_aspect",
        "input",
        "none_validation",
        "training_classes",
    ],
)
def test_flow_from_directory_matches_keras(legacy, image_dir, kwargs, capsys):
    kwargs = dict(kwargs)
    cfg = dict(validation_split=0.4, rescale=1 / 255)
    if kwargs.pop("rotation", False):
        cfg["rotation_range"] = 30
    ours = ImageDataGenerator(**cfg).flow_from_directory(
        image_dir, target_size=(8, 6), batch_size=3, seed=2, **kwargs
    )
    printed = capsys.readouterr().out
    theirs = legacy.ImageDataGenerator(**cfg).flow_from_directory(
        image_dir, target_size=(8, 6), batch_size=3, seed=2, **kwargs
    )
    assert printed == capsys.readouterr().out  # "Found 7 images belonging to 2 classes."
    assert ours.filenames == theirs.filenames and ours.class_indices == theirs.class_indices
    np.testing.assert_array_equal(ours.classes, theirs.classes)
    assert len(ours) == len(theirs)
    for i in range(len(ours)):
        a, b = ours[i], theirs[i]
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-5)


def test_image_utils_match_keras(tmp_path):
    from keras import utils as kutils

    img = X[2]
    for scale in (True, False):
        a, b = keras.utils.array_to_img(img, scale=scale), kutils.array_to_img(img, scale=scale)
        assert a.mode == b.mode and a.size == b.size
        np.testing.assert_array_equal(keras.utils.img_to_array(a), kutils.img_to_array(b))
    grey = keras.utils.array_to_img(img[:, :, :1] * 10, scale=False)  # above 255: mode 'I'
    assert grey.mode == kutils.array_to_img(img[:, :, :1] * 10, scale=False).mode == "I"
    assert keras.utils.img_to_array(
        keras.utils.array_to_img(img), data_format="channels_first"
    ).shape == (3, 9, 7)
    path = str(tmp_path / "x.png")
    keras.utils.save_img(path, img)
    for kwargs in (
        dict(),
        dict(target_size=(4, 5), interpolation="bicubic"),
        dict(color_mode="grayscale", target_size=(3, 7), keep_aspect_ratio=True),
    ):
        a = keras.utils.img_to_array(keras.utils.load_img(path, **kwargs))
        b = kutils.img_to_array(kutils.load_img(path, **kwargs))
        np.testing.assert_array_equal(a, b)


def test_training_from_the_generator(image_dir):
    """The Keras 2 guide's pattern: fit_generator on datagen.flow, steps_per_epoch a float."""
    datagen = ImageDataGenerator(rotation_range=10, horizontal_flip=True, rescale=1 / 255)
    model = keras.Sequential(
        [
            keras.Input((9, 7, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit_generator(
        datagen.flow(X, Y, batch_size=4, seed=0), steps_per_epoch=len(X) / 4, epochs=2, verbose=0
    )
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    history = model.fit(datagen.flow(X, Y, batch_size=4, seed=0), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    files = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        image_dir, target_size=(9, 7), class_mode="sparse", batch_size=2
    )
    assert model.evaluate(files, verbose=0)[0] > 0


def test_keras2_import_path():
    with fkeras.compat.as_keras():
        from keras.preprocessing.image import ImageDataGenerator as Keras2Generator  # noqa: I001
        from keras.preprocessing.image import img_to_array as keras2_img_to_array  # noqa: I001

    assert Keras2Generator is ImageDataGenerator
    assert keras2_img_to_array is keras.utils.img_to_array


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ImageDataGenerator(zoom_range="big"), "`zoom_range` should be a float or a tuple"),
        (lambda: ImageDataGenerator(data_format="nhwc"), "`data_format` should be 'channels_last'"),
        (lambda: ImageDataGenerator(validation_split=1.5), "strictly between 0 and 1"),
        (lambda: ImageDataGenerator(brightness_range=0.5), "brightness_range should be tuple"),
        (lambda: ImageDataGenerator(fill_mode="mirror"), "`fill_mode` must be one of"),
        (lambda: ImageDataGenerator().flow(X[:, 0], Y), "should have rank 4"),
        (lambda: ImageDataGenerator().flow(X, Y[:3]), r"same length.*y.shape = \(3,\)"),
        (
            lambda: ImageDataGenerator().flow(X, Y, batch_size=0),
            "`batch_size` must be a positive integer",
        ),
        (
            lambda: ImageDataGenerator(validation_split=0.2).flow(X, Y, subset="test"),
            "Invalid subset name",
        ),
        (lambda: ImageDataGenerator().flow(X, Y, batch_size=4)[5], "has length 3"),
        (lambda: ImageDataGenerator().fit(X[0]), "should have rank 4"),
        (lambda: ImageDataGenerator().flow_from_directory("/no/such/dir"), "existing directory"),
        (lambda: image.apply_affine_transform(X[0], row_axis=0, col_axis=0), "must be distinct"),
        (lambda: image.random_zoom(X[0], (0.5,)), "`zoom_range` should be a tuple or list of two"),
    ],
)
def test_bad_arguments_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_flow_from_directory_bad_modes(image_dir):
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="Invalid class_mode: 'other'"):
        gen.flow_from_directory(image_dir, class_mode="other")
    with pytest.raises(ValueError, match="Invalid color mode: 'cmyk'"):
        gen.flow_from_directory(image_dir, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid subset name"):
        gen.flow_from_directory(image_dir, subset="test")


def test_save_to_dir_writes_the_augmented_images(tmp_path, image_dir):
    ImageDataGenerator(horizontal_flip=True).flow(
        X, Y, batch_size=4, save_to_dir=str(tmp_path), save_prefix="aug"
    )[0]
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 4 and all(n.startswith("aug_") and n.endswith(".png") for n in names)
    out = tmp_path / "dir"
    out.mkdir()
    it = ImageDataGenerator().flow_from_directory(
        image_dir, target_size=(4, 4), batch_size=2, save_to_dir=str(out), save_format="jpeg"
    )
    it[0]
    assert len(os.listdir(out)) == 2
