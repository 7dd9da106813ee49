"""`keras.preprocessing.image`: Keras 2's image augmentation (`ImageDataGenerator`) and the
functions it is made of.

The numbers follow Keras (its legacy copy in Keras 3 is the reference the tests compare with):
the same random draws in the same order from NumPy's global generator (so `seed=` and
`np.random.seed` reproduce Keras's batches), the same affine matrices resampled by
`scipy.ndimage.affine_transform`, brightness through Pillow's `ImageEnhance`. SciPy and Pillow
are imported when a transform needs them, as in Keras; neither is a dependency of fkeras
(`pip install scipy pillow`).

The iterators are `keras.utils.Sequence`s: `model.fit(datagen.flow(x, y))`,
`fit_generator(datagen.flow(x, y), steps_per_epoch=...)` and `for x, y in datagen.flow(...)`
(endless, as in Keras) all work.
"""

from __future__ import annotations

import math
import os
import threading
import warnings

import numpy as np

from fkeras import _config
from fkeras.utils._image import array_to_img, img_to_array, load_img, save_img
from fkeras.utils._sequence import Sequence

__all__ = [
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "DirectoryIterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
]

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


# ---- transforms of one image ------------------------------------------------------------------


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError as e:  # pragma: no cover - SciPy comes with the test extras
        raise ImportError("Image transformations need SciPy: `pip install scipy`.") from e
    return ndimage


def _check_axes(x, row_axis, col_axis, channel_axis) -> None:
    if len({row_axis, col_axis, channel_axis}) != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    if {row_axis, col_axis, channel_axis} != {0, 1, 2}:
        raise ValueError(
            f"Invalid axis' indices: {({row_axis, col_axis, channel_axis}) - {0, 1, 2}}"
        )
    if np.ndim(x) != 3:
        raise ValueError(
            f"Input arrays must be multi-channel 2D images (rank 3). Received shape: {np.shape(x)}"
        )
    if channel_axis not in (0, 2):
        raise ValueError(
            f"Channels are allowed at the first and last dimensions. Received: "
            f"channel_axis={channel_axis}"
        )


def _affine_matrix(theta, tx, ty, shear, zx, zy):
    """Rotation, then shift, shear and zoom (degrees and pixels), as one 3x3 matrix; None for
    the identity."""
    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        parts.append(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not parts:
        return None
    matrix = parts[0]
    for part in parts[1:]:
        matrix = matrix @ part
    return matrix


def apply_affine_transform(
    x,
    theta=0,
    tx=0,
    ty=0,
    shear=0,
    zx=1,
    zy=1,
    row_axis=1,
    col_axis=2,
    channel_axis=0,
    fill_mode="nearest",
    cval=0.0,
    order=1,
):
    """One image (rank 3) rotated by `theta` degrees, shifted by (`tx`, `ty`) pixels along
    (rows, columns), sheared by `shear` degrees and zoomed by (`zx`, `zy`) about its centre;
    points outside the input are filled per `fill_mode` ('constant' with `cval`, 'nearest',
    'reflect', 'wrap'), resampled with spline `order`."""
    _check_axes(x, row_axis, col_axis, channel_axis)
    matrix = _affine_matrix(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    h, w = x.shape[row_axis], x.shape[col_axis]
    o_rows, o_cols = h / 2 - 0.5, w / 2 - 0.5  # about the centre
    matrix = (
        np.array([[1, 0, o_rows], [0, 1, o_cols], [0, 0, 1]])
        @ matrix
        @ np.array([[1, 0, -o_rows], [0, 1, -o_cols], [0, 0, 1]])
    )
    if col_axis > row_axis:  # the matrix is in (x, y) order; arrays index (row, column)
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    ndimage = _ndimage()
    channels = np.rollaxis(x, channel_axis, 0)
    out = np.stack(
        [
            ndimage.affine_transform(
                c, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode, cval=cval
            )
            for c in channels
        ]
    )
    return np.rollaxis(out, 0, channel_axis + 1)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Add `intensity` to every channel, clipped to the image's former range."""
    channels = np.rollaxis(x, channel_axis, 0)
    low, high = np.min(channels), np.max(channels)
    out = np.stack([np.clip(c + intensity, low, high) for c in channels])
    return np.rollaxis(out, 0, channel_axis + 1)


def apply_brightness_shift(x, brightness, scale=True):
    """Pillow's brightness enhancement by the factor `brightness` (1: unchanged)."""
    from PIL import ImageEnhance

    low, high = np.min(x), np.max(x)
    outside = low < 0 or high > 255
    img = ImageEnhance.Brightness(array_to_img(x, scale=outside or scale)).enhance(brightness)
    x = img_to_array(img)
    if not scale and outside:
        x = x / 255 * (high - low) + low
    return x


def flip_axis(x, axis):
    return np.flip(np.asarray(x), axis)


# fmt: off
# The four keep Keras's signatures: (x, range..., row_axis, col_axis, channel_axis, fill_mode,
# cval, interpolation_order), channels first by default.


def _placed(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, **params):
    return apply_affine_transform(
        x, **params, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
        fill_mode=fill_mode, cval=cval, order=interpolation_order,
    )


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                    interpolation_order=1):
    """Rotate by an angle drawn uniformly from [-rg, rg] degrees."""
    theta = np.random.uniform(-rg, rg)
    return _placed(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   theta=theta)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    """Shift by fractions of the height (`hrg`) and width (`wrg`) drawn uniformly."""
    tx = np.random.uniform(-hrg, hrg) * x.shape[row_axis]
    ty = np.random.uniform(-wrg, wrg) * x.shape[col_axis]
    return _placed(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   tx=tx, ty=ty)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    """Shear by an angle drawn uniformly from [-intensity, intensity] degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return _placed(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   shear=shear)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                cval=0.0, interpolation_order=1):
    """Zoom by factors (rows, columns) drawn uniformly from `zoom_range` = (low, high)."""
    if len(zoom_range) != 2:
        raise ValueError(
            f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}"
        )
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return _placed(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   zx=zx, zy=zy)
# fmt: on


def random_channel_shift(x, intensity_range, channel_axis=0):
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def random_brightness(x, brightness_range, scale=True):
    if len(brightness_range) != 2:
        raise ValueError(
            f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}"
        )
    return apply_brightness_shift(x, np.random.uniform(*brightness_range), scale)


# ---- iterators ----------------------------------------------------------------------------------


class Iterator(Sequence):
    """Batches of `n` samples, `batch_size` at a time, reshuffled each epoch. Indexed
    (`it[i]`, for `fit`) or endless (`next(it)`, for `fit_generator` and loops), as in Keras;
    with `seed`, batch `k` of the iterator's life draws from `np.random.seed(seed + k)`.
    Subclasses implement `_get_batches_of_transformed_samples(index_array)`."""

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n, batch_size, shuffle, seed):
        super().__init__()
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size!r}")
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(
                f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}"
            )
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        index_array = self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(index_array)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            current = (self.batch_index * self.batch_size) % self.n if self.n else 0
            self.batch_index = self.batch_index + 1 if self.n > current + self.batch_size else 0
            self.total_batches_seen += 1
            yield self.index_array[current : current + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `_get_batches_of_transformed_samples`."
        )

    def _transformed(self, x):
        gen = self.image_data_generator
        if gen is None:
            return x
        x = gen.apply_transform(x.astype(self.dtype), gen.get_random_transform(x.shape))
        return gen.standardize(x)

    def _save(self, batch_x, index_array, hash_range):
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            name = f"{self.save_prefix}_{j}_{np.random.randint(hash_range)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Batches of (augmented) images from a rank-4 array, with their labels and weights.
    `x` may be `(images, other_inputs)`: the other inputs are batched alongside, untouched."""

    # fmt: off
    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        # fmt: on
        self.data_format = data_format or _config.image_data_format()
        self.dtype = dtype or _config.floatx()
        if isinstance(x, (tuple, list)):
            misc = x[1] if isinstance(x[1], list) else [x[1]]
            x_misc = [np.asarray(m) for m in misc]
            x = x[0]
            for m in x_misc:
                if len(x) != len(m):
                    raise ValueError(
                        "All of the arrays in `x` should have the same length. Found a pair "
                        f"with: len(x[0]) = {len(x)}, len(x[?]) = {len(m)}"
                    )
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(
                "`x` (images tensor) and `y` (labels) should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}"
            )
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "`x` (images tensor) and `sample_weight` should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, "
                f"sample_weight.shape = {np.asarray(sample_weight).shape}"
            )
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(
                    f"Invalid subset name: {subset!r}; expected 'training' or 'validation'."
                )
            split = int(len(x) * image_data_generator._validation_split)
            if (
                y is not None
                and not ignore_class_split
                and not np.array_equal(np.unique(y[:split]), np.unique(y[split:]))
            ):
                raise ValueError(
                    "Training and validation subsets have different number of classes after "
                    "the split. If your numpy arrays are sorted by the label, you might want "
                    "to shuffle them."
                )
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x, x_misc = x[part], [m[part] for m in x_misc]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(
                "Input data in `NumpyArrayIterator` should have rank 4. You passed an array "
                f"with shape {self.x.shape}"
            )
        channel_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channel_axis] not in (1, 3, 4):
            warnings.warn(
                f"NumpyArrayIterator is set to use the data format convention "
                f"'{self.data_format}' (channels on axis {channel_axis}), i.e. expected either "
                f"1, 3, or 4 channels on axis {channel_axis}. However, it was passed an array "
                f"with shape {self.x.shape} ({self.x.shape[channel_axis]} channels)."
            )
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            batch_x[i] = self._transformed(self.x[j])
        if self.save_to_dir:
            self._save(batch_x, index_array, 10_000)
        misc = [m[index_array] for m in self.x_misc]
        inputs = [batch_x] + misc if misc else batch_x
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]


class DirectoryIterator(Iterator):
    """Batches of (augmented) images read from `directory`, one subdirectory per class (sorted
    by name unless `classes` lists them), labelled per `class_mode`: 'categorical' (one-hot),
    'binary' / 'sparse' (the class index), 'input' (the images themselves) or None."""

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    # fmt: off
    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb",
                 classes=None, class_mode="categorical", batch_size=32, shuffle=True, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="", save_format="png",
                 follow_links=False, subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype=None):
        # fmt: on
        self.data_format = data_format or _config.image_data_format()
        self.dtype = dtype or _config.floatx()
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(
                f"Invalid color mode: {color_mode!r}; expected 'rgb', 'rgba', or 'grayscale'."
            )
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Invalid class_mode: {class_mode!r}; expected one of: {self.allowed_class_modes}"
            )
        if not os.path.isdir(directory):
            raise ValueError(f"`directory` must be an existing directory. Received: {directory!r}")
        self.image_data_generator = image_data_generator
        self.directory = directory
        self.target_size = tuple(target_size)
        self.color_mode, self.class_mode = color_mode, class_mode
        self.interpolation, self.keep_aspect_ratio = interpolation, keep_aspect_ratio
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}[color_mode]
        self.image_shape = (
            self.target_size + (channels,)
            if self.data_format == "channels_last"
            else (channels,) + self.target_size
        )
        self.split, self.subset = self._split(subset), subset
        if not classes:
            classes = [
                d
                for d in sorted(os.listdir(directory))
                if os.path.isdir(os.path.join(directory, d))
            ]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        labels, self.filenames = [], []
        for name in classes:
            files = self._files(os.path.join(directory, name), follow_links)
            labels += [self.class_indices[name]] * len(files)
            self.filenames += files
        self.classes = np.asarray(labels, dtype="int32")
        self.samples = len(self.filenames)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _split(self, subset):
        if subset is None:
            return None
        fraction = self.image_data_generator._validation_split
        if subset == "validation":
            return (0, fraction)
        if subset == "training":
            return (fraction, 1)
        raise ValueError(f"Invalid subset name: {subset!r}; expected 'training' or 'validation'.")

    def _files(self, class_dir, follow_links):
        """The class's image files, relative to `directory`, in Keras's order and split."""
        found = []
        for root, _, files in sorted(
            os.walk(class_dir, followlinks=follow_links), key=lambda w: w[0]
        ):
            found += [
                os.path.join(root, f)
                for f in sorted(files)
                if f.lower().endswith(WHITE_LIST_FORMATS)
            ]
        if self.split:
            found = found[int(self.split[0] * len(found)) : int(self.split[1] * len(found))]
        name = os.path.basename(class_dir)
        return [os.path.join(name, os.path.relpath(f, class_dir)) for f in found]

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index_array):
            img = load_img(
                self._filepaths[j],
                color_mode=self.color_mode,
                target_size=self.target_size,
                interpolation=self.interpolation,
                keep_aspect_ratio=self.keep_aspect_ratio,
            )
            x = img_to_array(img, data_format=self.data_format)
            img.close()
            batch_x[i] = self._transformed(x)
        if self.save_to_dir:
            self._save(batch_x, index_array, 10_000_000)
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode in ("binary", "sparse"):
            return batch_x, self.classes[index_array].astype(self.dtype)
        if self.class_mode == "categorical":
            batch_y = np.zeros((len(batch_x), self.num_classes), dtype=self.dtype)
            batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.0
            return batch_x, batch_y
        return batch_x


# ---- the generator ------------------------------------------------------------------------------


def _pair(name, value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [1 - value, 1 + value]
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) for v in value)
    ):
        return [value[0], value[1]]
    raise ValueError(
        f"`{name}` should be a float or a tuple or list of two floats. Received: {value!r}"
    )


class ImageDataGenerator:
    """Real-time image augmentation and normalisation, batch by batch (Keras 2's
    `ImageDataGenerator`, with its arguments and defaults).

    Transforms (drawn per image): `rotation_range` (degrees), `width_shift_range` /
    `height_shift_range` (a fraction of the size if < 1, else pixels; a list: values to choose
    from), `shear_range` (degrees), `zoom_range` (float z: [1-z, 1+z], or [low, high]),
    `channel_shift_range`, `brightness_range`, `horizontal_flip`, `vertical_flip`; outside points
    per `fill_mode` / `cval`, resampled with spline `interpolation_order`.
    Normalisation (in this order): `preprocessing_function`, `rescale`, `samplewise_center`,
    `samplewise_std_normalization`, `featurewise_center`, `featurewise_std_normalization`,
    `zca_whitening` (the featurewise ones need `fit(x)` first).
    `validation_split` with `subset='training'` / `'validation'` in `flow*`.

    Example:
        >>> datagen = ImageDataGenerator(rotation_range=20, horizontal_flip=True)
        >>> datagen.fit(x_train)
        >>> model.fit(datagen.flow(x_train, y_train, batch_size=32), epochs=5)
    """

    def __init__(
        self,
        featurewise_center=False,
        samplewise_center=False,
        featurewise_std_normalization=False,
        samplewise_std_normalization=False,
        zca_whitening=False,
        zca_epsilon=1e-6,
        rotation_range=0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range=0.0,
        zoom_range=0.0,
        channel_shift_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        rescale=None,
        preprocessing_function=None,
        data_format=None,
        validation_split=0.0,
        interpolation_order=1,
        dtype=None,
    ):
        data_format = data_format or _config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "`data_format` should be 'channels_last' (channel after row and column) or "
                f"'channels_first' (channel before row and column). Received: {data_format!r}"
            )
        if fill_mode not in ("constant", "nearest", "reflect", "wrap"):
            raise ValueError(
                "`fill_mode` must be one of 'constant', 'nearest', 'reflect', 'wrap'. "
                f"Received: fill_mode={fill_mode!r}"
            )
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                f"`validation_split` must be strictly between 0 and 1. Received: {validation_split}"
            )
        if brightness_range is not None and (
            not isinstance(brightness_range, (tuple, list)) or len(brightness_range) != 2
        ):
            raise ValueError(
                f"`brightness_range should be tuple or list of two floats. Received: "
                f"{brightness_range}"
            )
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.brightness_range = brightness_range
        self.shear_range = shear_range
        self.zoom_range = _pair("zoom_range", zoom_range)
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.data_format = data_format
        self.interpolation_order = interpolation_order
        self.dtype = dtype or _config.floatx()
        self._validation_split = validation_split
        first = data_format == "channels_first"
        self.channel_axis, self.row_axis, self.col_axis = (1, 2, 3) if first else (3, 1, 2)
        self.mean = self.std = self.zca_whitening_matrix = None
        # Keras's implications between the normalisations, with its warnings
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening`, which overrides "
                    "setting of `featurewise_center`."
                )
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening` which overrides setting "
                    "of `featurewise_std_normalization`."
                )
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `featurewise_std_normalization`, which "
                "overrides setting of `featurewise_center`."
            )
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `samplewise_std_normalization`, which "
                "overrides setting of `samplewise_center`."
            )

    # ---- sources ----

    # fmt: off
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """Batches of augmented images from arrays: `(x, y)`, `(x, y, sample_weight)` or `x`."""
        given = {k: v for k, v in locals().items() if k not in ("self", "x", "y")}
        return NumpyArrayIterator(x, y, self, data_format=self.data_format, dtype=self.dtype,
                                  **given)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix="", save_format="png",
                            follow_links=False, subset=None, interpolation="nearest",
                            keep_aspect_ratio=False):
        """Batches of augmented images read from one subdirectory per class."""
        given = {k: v for k, v in locals().items() if k not in ("self", "directory")}
        return DirectoryIterator(directory, self, data_format=self.data_format, dtype=self.dtype,
                                 **given)
    # fmt: on

    # ---- normalisation ----

    def standardize(self, x):
        """Normalise a batch (or one image) as configured; like Keras, in place where it can."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                self._not_fit("featurewise_center")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                self._not_fit("featurewise_std_normalization")
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = x.reshape(-1, math.prod(x.shape[-3:]))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
            else:
                self._not_fit("zca_whitening")
        return x

    @staticmethod
    def _not_fit(option):
        warnings.warn(
            f"This ImageDataGenerator specifies `{option}`, but it hasn't been fit on any "
            "training data. Fit it first by calling `.fit(numpy_data)`."
        )

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the featurewise mean, std and ZCA matrix from sample images (rank 4)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(
                f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}"
            )
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(
                f"Expected input to be images (as Numpy array) following the data format "
                f"convention '{self.data_format}' (channels on axis {self.channel_axis}), i.e. "
                f"expected either 1, 3 or 4 channels on axis {self.channel_axis}. However, it "
                f"was passed an array with shape {x.shape} ({x.shape[self.channel_axis]} "
                "channels)."
            )
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = np.concatenate(
                [np.stack([self.random_transform(img) for img in x]) for _ in range(rounds)]
            ).astype(self.dtype)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            u, s, _ = np.linalg.svd(np.reshape(x, (n, -1)).T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(n) / (s + self.zca_epsilon))) @ u.T

    # ---- augmentation ----

    def _shift(self, value, size):
        try:  # a list (or int) of values to choose from, with a random sign
            shift = np.random.choice(value)
            shift *= np.random.choice([-1, 1])
        except ValueError:  # a float range
            shift = np.random.uniform(-value, value)
        if np.max(value) < 1:
            shift *= size
        return shift

    def get_random_transform(self, img_shape, seed=None):
        """Random parameters of one transform for an image of `img_shape` (Keras's draws)."""
        if seed is not None:
            np.random.seed(seed)
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = (
            np.random.uniform(-self.rotation_range, self.rotation_range)
            if self.rotation_range
            else 0
        )
        tx = self._shift(self.height_shift_range, rows) if self.height_shift_range else 0
        ty = self._shift(self.width_shift_range, cols) if self.width_shift_range else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {
            "theta": theta,
            "tx": tx,
            "ty": ty,
            "shear": shear,
            "zx": zx,
            "zy": zy,
            "flip_horizontal": flip_horizontal,
            "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift,
            "brightness": brightness,
        }

    def apply_transform(self, x, transform_parameters):
        """One image (rank 3) transformed by the parameters of `get_random_transform`."""
        p = transform_parameters
        rows, cols, channels = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(
            x,
            p.get("theta", 0),
            p.get("tx", 0),
            p.get("ty", 0),
            p.get("shear", 0),
            p.get("zx", 1),
            p.get("zy", 1),
            row_axis=rows,
            col_axis=cols,
            channel_axis=channels,
            fill_mode=self.fill_mode,
            cval=self.cval,
            order=self.interpolation_order,
        )
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channels)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, cols)
        if p.get("flip_vertical", False):
            x = flip_axis(x, rows)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """One image (rank 3) randomly transformed."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))
