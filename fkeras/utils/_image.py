"""Images as files and arrays: `load_img`, `img_to_array`, `array_to_img`, `save_img`.

Keras's functions of these names, on Pillow (imported when first needed, as Keras does: it is
not a dependency of fkeras; `pip install pillow`).
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings

import numpy as np

from fkeras import _config

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - Pillow is in the test extras
        raise ImportError("Images need Pillow: `pip install pillow`.") from e
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A rank-3 array (one image) as a PIL image: 1 channel grey ('L', or 'I' above 255),
    3 RGB, 4 RGBA. `scale` maps the values onto [0, 255] (min to 0, max to 255)."""
    image = _pil()
    x = np.asarray(x, dtype=dtype or _config.floatx())
    if x.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}"
        )
    if _config.standardize_data_format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as a rank-3 float array (channels last unless `data_format` says first)."""
    fmt = _config.standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or _config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if fmt == "channels_first" else x
    if x.ndim == 2:
        return x[None] if fmt == "channels_first" else x[:, :, None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write a rank-3 array as an image file (format from `file_format` or the extension)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or file_format == "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(
    path,
    color_mode="rgb",
    target_size=None,
    interpolation="nearest",
    keep_aspect_ratio=False,
    grayscale=False,
):
    """Read an image file (a path or a BytesIO) as a PIL image in `color_mode` ('rgb', 'rgba' or
    'grayscale'; Keras 2's `grayscale=True` too), resized to `target_size` = (height, width) with
    `interpolation`; `keep_aspect_ratio` crops the centre to the target's aspect first."""
    image = _pil()
    if grayscale:
        warnings.warn("grayscale is deprecated. Please use color_mode = 'grayscale'")
        color_mode = "grayscale"
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(
            f"color_mode must be 'grayscale', 'rgb' or 'rgba'. Received: color_mode={color_mode!r}"
        )
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, pathlib.Path, os.PathLike)):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    wanted = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}[color_mode]
    if img.mode not in wanted:
        img = img.convert(wanted[0])
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))  # PIL: (width, height)
    if img.size == size:
        return img
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            + ", ".join(INTERPOLATIONS)
        )
    resample = getattr(image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_h = min(height, (width * size[1]) // size[0])
    crop_w = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(size, resample, box=[left, top, left + crop_w, top + crop_h])
