"""Keras 3's image preprocessing layers `Resizing`, `CenterCrop` and `RandomFlip`, on
`jax.image.resize` and array slicing: pure maps (RandomFlip draws from the `rng` it is given
while training) that run inside the model's jitted program. Inputs are one image (rank 3) or a
batch (rank 4), channels last unless `data_format` says first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fkeras import _config
from fkeras.layers._base import Layer
from fkeras.layers._preprocessing import float_dtype
from fkeras.layers._spec import TensorSpec

INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def _positive_int(owner, name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{owner}: `{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return value


def _image_spec(layer, spec) -> TensorSpec:
    if not isinstance(spec, TensorSpec) or spec.ndim not in (3, 4):
        shape = spec.shape if isinstance(spec, TensorSpec) else f"{len(spec)} tensors"
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects images of rank 3 "
            f"(height, width, channels) or 4 (batch, ...). Received: inputs with shape {shape}"
        )
    return spec


class _ImageLayer(Layer):
    """Rank-3/4 images; `_hw` are the (height, width) axes for the layer's data format."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)

    @property
    def _hw(self):
        return (-2, -1) if self.data_format == "channels_first" else (-3, -2)

    def _sized(self, spec, height, width) -> TensorSpec:
        shape = list(spec.shape)
        shape[self._hw[0]], shape[self._hw[1]] = height, width
        return TensorSpec(tuple(shape), float_dtype(self))

    def _crop(self, x, top, left, height, width):
        h_axis, w_axis = (a % x.ndim for a in self._hw)
        x = jax.lax.slice_in_dim(x, top, top + height, axis=h_axis)
        return jax.lax.slice_in_dim(x, left, left + width, axis=w_axis)

    def _resize(self, x, height, width, method, antialias=False):
        shape = list(x.shape)
        shape[self._hw[0]], shape[self._hw[1]] = height, width
        return jax.image.resize(x, tuple(shape), method=method, antialias=antialias)

    def _aspect_crop(self, x, height, width):
        """The centred crop of `x` with the target's aspect ratio (Keras's `smart_resize`)."""
        h, w = x.shape[self._hw[0]], x.shape[self._hw[1]]
        crop_h = max(min(h, int(float(w * height) / width)), 1)
        crop_w = max(min(w, int(float(h * width) / height)), 1)
        return self._crop(x, int(float(h - crop_h) / 2), int(float(w - crop_w) / 2), crop_h, crop_w)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Resizing(_ImageLayer):
    """Resize images to `(height, width)` (Keras 3's `Resizing`, `jax.image.resize`).

    Args:
        height, width: the output size.
        interpolation: 'bilinear' (default), 'nearest', 'bicubic', 'lanczos3', 'lanczos5'.
        crop_to_aspect_ratio: first crop the largest centred window with the target's aspect.
        pad_to_aspect_ratio: first pad (with `fill_value`) to the target's aspect.
        fill_mode: 'constant' (the only one, as in Keras on JAX); fill_value: the padding value.
        antialias: filter when downsampling.
    """

    def __init__(
        self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
        data_format=None, **kwargs,
    ):  # fmt: skip
        _positive_int("Resizing", "height", height)
        _positive_int("Resizing", "width", width)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Resizing: `interpolation` must be one of {INTERPOLATIONS}. Received: "
                f"interpolation={interpolation!r}"
            )
        if fill_mode != "constant":
            raise ValueError(
                "Resizing: only `fill_mode='constant'` is supported. Received: "
                f"fill_mode={fill_mode!r}"
            )
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Resizing: only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be "
                "True."
            )
        super().__init__(data_format, **kwargs)
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = bool(antialias)

    def compute_output_spec(self, input_spec, **kwargs):
        return self._sized(_image_spec(self, input_spec), self.height, self.width)

    def _pad_to_aspect(self, x):
        h, w = x.shape[self._hw[0]], x.shape[self._hw[1]]
        pad_h = max(h, int(float(w * self.height) / self.width))
        pad_w = max(w, int(float(h * self.width) / self.height))
        top, left = int(float(pad_h - h) / 2), int(float(pad_w - w) / 2)
        widths = [(0, 0)] * x.ndim
        widths[self._hw[0] % x.ndim] = (top, top)  # Keras pads the same amount on both sides
        widths[self._hw[1] % x.ndim] = (left, left)
        return jnp.pad(x, widths, constant_values=jnp.asarray(self.fill_value, x.dtype))

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        _image_spec(self, TensorSpec(tuple(jnp.shape(inputs))))
        x = jnp.asarray(inputs).astype(float_dtype(self))
        if self.crop_to_aspect_ratio:
            x = self._aspect_crop(x, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            x = self._pad_to_aspect(x)
        return self._resize(x, self.height, self.width, self.interpolation, self.antialias), {}

    def get_config(self):
        return {
            **super().get_config(), "height": self.height, "width": self.width,
            "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
            "fill_value": self.fill_value, "antialias": self.antialias,
        }  # fmt: skip


class CenterCrop(_ImageLayer):
    """The centred `(height, width)` window of each image (Keras 3's `CenterCrop`); an image
    smaller than that is cropped to the target's aspect ratio and resized up (bilinear)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        _positive_int("CenterCrop", "height", height)
        _positive_int("CenterCrop", "width", width)
        super().__init__(data_format, **kwargs)
        self.height, self.width = height, width

    def compute_output_spec(self, input_spec, **kwargs):
        return self._sized(_image_spec(self, input_spec), self.height, self.width)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        _image_spec(self, TensorSpec(tuple(jnp.shape(inputs))))
        x = jnp.asarray(inputs).astype(float_dtype(self))
        h_diff = x.shape[self._hw[0]] - self.height
        w_diff = x.shape[self._hw[1]] - self.width
        if h_diff >= 0 and w_diff >= 0:
            return self._crop(x, h_diff // 2, w_diff // 2, self.height, self.width), {}
        x = self._aspect_crop(x, self.height, self.width)
        return self._resize(x, self.height, self.width, "bilinear"), {}

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomFlip(_ImageLayer):
    """While training, flip each image left-right ('horizontal'), upside down ('vertical') or
    both ('horizontal_and_vertical', the default: one coin per image for both, as in Keras 3)
    with probability 1/2; at inference the images pass unchanged (cast to the float dtype).

    Args:
        mode: 'horizontal', 'vertical' or 'horizontal_and_vertical'.
        seed: accepted for Keras compatibility; randomness comes from the `rng` given to `apply`.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        if mode not in FLIP_MODES:
            raise ValueError(
                f"RandomFlip: `mode` must be one of {FLIP_MODES}. Received: mode={mode!r}"
            )
        super().__init__(data_format, **kwargs)
        self.mode = mode
        self.seed = seed

    def compute_output_spec(self, input_spec, **kwargs):
        spec = _image_spec(self, input_spec)
        return TensorSpec(spec.shape, float_dtype(self))

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables
        _image_spec(self, TensorSpec(tuple(jnp.shape(inputs))))
        x = jnp.asarray(inputs).astype(float_dtype(self))
        if not training:
            return x, {}
        if rng is None:
            raise ValueError(
                f"Layer {self.name!r} (RandomFlip) needs an `rng` key when training=True."
            )
        flips = jax.random.uniform(rng, (x.shape[0] if x.ndim == 4 else 1,)) <= 0.5
        flips = flips.reshape((-1,) + (1,) * 3) if x.ndim == 4 else flips.reshape(())
        h_axis, w_axis = self._hw
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            x = jnp.where(flips, jnp.flip(x, axis=w_axis), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            x = jnp.where(flips, jnp.flip(x, axis=h_axis), x)
        return x, {}

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}
